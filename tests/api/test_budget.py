"""The cost budget: every route that scores refuses an over-budget request before scoring.

Small limits (a 600-byte comment, 1,500 bytes a request) keep the refused bodies small; each
test checks the error names the field and the limit, and that nothing was stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth import Role
from app.config import SettingsError, load_settings
from app.queue.keys import SqlKeyStore
from app.registry import LoadedModel
from tests.api.conftest import assert_error, make_client

TEXT_LIMIT = 600
BUDGET = 1_500
LIMITS = {"max_text_bytes": TEXT_LIMIT, "max_request_text_bytes": BUDGET, "max_page_comments": 5}


@pytest.fixture
def limited(migrated_url: str, tiny_model: LoadedModel) -> Iterator[TestClient]:
    with make_client(migrated_url, tiny_model, **LIMITS) as client:
        yield client


@pytest.fixture
def moderator(engine: Engine) -> dict[str, str]:
    secret = SqlKeyStore(engine).create(Role.moderator, "ann").secret
    return {"Authorization": f"Bearer {secret}"}


def _budget_message(response: Any) -> str:
    message = assert_error(response, 413, "request_too_large", "comments")
    assert f"{BUDGET:,}" in message and "THREADGUARD_MAX_REQUEST_TEXT_BYTES" in message
    return message


def test_a_batch_over_the_budget_is_refused(limited: TestClient) -> None:
    comments = [{"text": "x" * 500} for _ in range(3)]
    assert limited.post("/v1/score", json={"comments": comments[:2]}).status_code == 200
    message = _budget_message(limited.post("/v1/score", json={"comments": comments + comments}))
    assert "3,000 bytes" in message


def test_a_shared_parent_text_counts_once(limited: TestClient) -> None:
    parent = "p" * 500
    comments = [{"text": f"reply {i}", "parent_text": parent} for i in range(20)]
    assert limited.post("/v1/score", json={"comments": comments}).status_code == 200
    distinct = [{"text": "r", "parent_text": f"{i} " + parent} for i in range(3)]
    _budget_message(limited.post("/v1/score", json={"comments": distinct}))


def test_multibyte_text_counts_its_utf8_bytes(limited: TestClient) -> None:
    # 200 characters, 800 bytes: over the per-comment limit of 600 bytes.
    response = limited.post("/v1/score", json={"text": "\U0001f600" * 200})
    message = assert_error(response, 413, "text_too_long", "text")
    assert "800 bytes" in message and f"{TEXT_LIMIT:,}" in message


def page(comments: list[str], title: str = "The bridge") -> dict[str, Any]:
    return {
        "title": title,
        "comments": [
            {"id": f"c{i}", "parent_id": None, "body": text} for i, text in enumerate(comments)
        ],
    }


def test_a_page_with_a_long_comment_names_its_path(limited: TestClient) -> None:
    texts = ["fine", "also fine", "y" * (TEXT_LIMIT + 1), "ok"]
    response = limited.post("/v1/threads?format=json", json=page(texts))
    message = assert_error(response, 413, "text_too_long", "comments.2.text")
    assert "'c2'" in message and f"{TEXT_LIMIT:,}" in message


def test_a_page_over_the_budget_or_the_count_is_refused(limited: TestClient) -> None:
    assert limited.post("/v1/threads?format=json", json=page(["z" * 400] * 3)).status_code == 200
    response = limited.post("/v1/threads?format=json", json=page(["z" * 400] * 4))
    assert "the page has" in _budget_message(response)
    response = limited.post("/v1/threads?format=json", json=page(["hi"] * 6))
    message = assert_error(response, 413, "batch_too_large", "comments")
    assert "THREADGUARD_MAX_PAGE_COMMENTS" in message


def test_an_over_budget_page_enqueues_nothing(
    limited: TestClient, moderator: dict[str, str]
) -> None:
    response = limited.post(
        "/v1/threads?format=json&enqueue=true", json=page(["z" * 400] * 4), headers=moderator
    )
    _budget_message(response)
    listed = limited.get("/v1/queue/items", params={"status": "any"}, headers=moderator)
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_queue_ingest_over_the_budget_stores_nothing(
    limited: TestClient, moderator: dict[str, str]
) -> None:
    def ingest(comments: list[dict[str, Any]]) -> Any:
        body = {"source": "story-1", "title": "The bridge", "comments": comments}
        return limited.post("/v1/queue/items", json=body, headers=moderator)

    first = ingest([{"comment_id": "a", "text": "you are all idiots " * 20}])
    assert first.status_code == 200, first.text
    stored = limited.get("/v1/queue/items", params={"status": "any"}, headers=moderator)
    before = stored.json()["items"]
    # Replies to the stored comment: its text, read from the store, counts as well.
    replies = [{"comment_id": f"r{i}", "parent_id": "a", "text": "w" * 380} for i in range(3)]
    _budget_message(ingest(replies))
    # With scores given nothing is scored, so nothing counts.
    scored = {"hate": 0.1, "toxic": 0.9, "conspiracy": 0.0, "model_version": "x"}
    big = [{"comment_id": f"s{i}", "text": "v" * 500, "scores": scored} for i in range(5)]
    assert ingest(big).status_code == 200
    message = assert_error(
        ingest([{"comment_id": "long", "text": "q" * (TEXT_LIMIT + 1)}]),
        413,
        "text_too_long",
        "comments.0.text",
    )
    assert f"{TEXT_LIMIT:,}" in message
    after = limited.get("/v1/queue/items", params={"status": "any"}, headers=moderator)
    assert {i["comment"]["comment_id"] for i in after.json()["items"]} <= {
        i["comment"]["comment_id"] for i in before
    } | {f"s{i}" for i in range(5)}
    assert "r0" not in json.dumps(after.json())


def test_perspective_and_coral_keep_to_the_budget(
    migrated_url: str, tiny_model: LoadedModel
) -> None:
    text = "You are an idiot. " * 30  # 540 bytes, 30 sentences: twice that with spans
    request = {
        "comment": {"text": text},
        "requestedAttributes": {"TOXICITY": {}},
        "spanAnnotations": True,
    }
    with make_client(migrated_url, tiny_model, **LIMITS) as client:
        response = client.post("/v1alpha1/comments:analyze", json=request)
        assert response.status_code == 200, response.text
    with make_client(
        migrated_url, tiny_model, max_text_bytes=TEXT_LIMIT, max_request_text_bytes=TEXT_LIMIT
    ) as client:
        response = client.post("/v1alpha1/comments:analyze", json=request)
        assert response.status_code == 400
        error = response.json()["error"]
        assert "THREADGUARD_MAX_REQUEST_TEXT_BYTES" in error["message"]
        assert error["details"][0]["errorType"] == "COMMENT_TOO_LONG"


def test_the_per_comment_limit_must_fit_the_budget() -> None:
    with pytest.raises(SettingsError, match="max_request_text_bytes"):
        load_settings(max_text_bytes=5_000, max_request_text_bytes=4_000)

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from app.registry import LoadedModel
from app.threads import parse
from tests.api.conftest import assert_error, make_client


def test_seed_page_is_parsed_and_scored_in_context(client: TestClient, seed_page: bytes) -> None:
    response = client.post("/v1/threads", content=seed_page, headers={"content-type": "text/plain"})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = parse(seed_page)
    comments = body["thread"]["comments"]
    assert [c["comment_id"] for c in comments] == [c.comment_id for c in expected.comments]
    assert [c["parent_id"] for c in comments] == [c.parent_id for c in expected.comments]
    for comment in comments:
        labels = comment["labels"]
        assert set(labels["scores"]) == {"hate", "toxic", "conspiracy"}
        # Every comment has a parent text (the article for top-level ones) and a topic.
        assert labels["reply_stance"] is not None
        assert labels["stance"] is not None
        assert labels["thread_stance"]["label"] in ("favor", "against", "none")
    flagged = sum("hate" in c["labels"]["flags"] for c in comments)
    assert body["summary"] == {
        "comments": len(comments),
        "flags": {
            head: sum(head in c["labels"]["flags"] for c in comments)
            for head in ("hate", "toxic", "conspiracy")
        },
    }
    assert body["summary"]["flags"]["hate"] == flagged
    assert body["thread"]["article"]["title"] == expected.article.title


def test_ndjson_streams_one_object_per_line(client: TestClient, seed_page: bytes) -> None:
    response = client.post(
        "/v1/threads?format=text",
        content=seed_page,
        headers={"accept": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["type"] == "thread"
    assert lines[-1]["type"] == "summary"
    assert {line["type"] for line in lines[1:-1]} == {"comment"}
    assert lines[-1]["comments"] == len(lines) - 2


def test_json_export_with_parent_ids(client: TestClient) -> None:
    page = [
        {"id": "a", "parent": None, "text": "jews are vermin and should be driven out"},
        {"id": "b", "parent": "a", "text": "I agree with you"},
    ]
    response = client.post("/v1/threads?format=json", json=page)
    assert response.status_code == 200, response.text
    comments = response.json()["thread"]["comments"]
    assert [c["depth"] for c in comments] == [0, 1]
    assert "hate" in comments[0]["labels"]["flags"]
    assert comments[0]["labels"]["hate_target"]["label"] == "jewish"


def test_unknown_format_is_422(client: TestClient) -> None:
    response = client.post("/v1/threads?format=pdf", content=b"x")
    assert "unknown format" in assert_error(response, 422, "invalid_input", "format")


def test_empty_and_unreadable_pages_are_422(client: TestClient) -> None:
    assert_error(client.post("/v1/threads", content=b"  \n"), 422, "parse_error")
    assert_error(client.post("/v1/threads", content=b"%PDF-1.7\x00\x01\x02"), 422, "parse_error")


def test_too_many_comments_is_413(sqlite_url: str, tiny_model: LoadedModel) -> None:
    page = [{"id": str(i), "parent": None, "text": f"comment {i}"} for i in range(5)]
    with make_client(sqlite_url, tiny_model, max_thread_comments=4) as client:
        response = client.post("/v1/threads?format=json", json=page)
    assert "over the limit of 4" in assert_error(response, 413, "input_too_large")

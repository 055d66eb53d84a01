"""The review queue through HTTP: ingest, list, one item in context, decisions, stats, export.

Every test runs on SQLite and, with THREADGUARD_TEST_DATABASE_URL set, on PostgreSQL. Most
comments arrive pre-scored under a fixed policy (every threshold 0.5, no near-miss queue,
no reply boost), so which queue an item lands in and its priority are known exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.auth import Role
from app.queue.keys import SqlKeyStore
from app.queue.review import FEEDBACK_SCHEMA
from app.queue.store import QUEUE_NAMES, comments, make_engine
from app.registry import LoadedModel
from tests.api.conftest import assert_error, make_client
from tests.conftest import SEEDS, shared_file

POLICY = """\
[queues.hate]
threshold = 0.5
[queues.toxic]
threshold = 0.5
[queues.conspiracy]
threshold = 0.5
[queues.uncertain]
enabled = false
[reply_boost]
factor = 1.0
"""
# The severities of the default policy: priority = probability x severity.
SEVERITY = {"hate": 1.0, "conspiracy": 0.7, "toxic": 0.5}
HEADS = ("hate", "toxic", "conspiracy")


def scores(
    hate: float = 0.02,
    toxic: float = 0.02,
    conspiracy: float = 0.02,
    *,
    target: str | None = None,
    model_version: str = "external-1",
) -> dict[str, Any]:
    """A score record as a caller's own scorer would send it."""
    values = {"hate": hate, "toxic": toxic, "conspiracy": conspiracy}
    record: dict[str, Any] = dict(values)
    for head, p in values.items():
        record[f"{head}_flag"] = p >= 0.5
    record["hate_target"] = target
    record["model_version"] = model_version
    return record


@dataclass
class Desk:
    """A running service and a key for each role: scorer, two moderators, an admin."""

    client: TestClient
    url: str
    engine: Engine
    headers: dict[str, dict[str, str]]

    def get(self, path: str, who: str = "ann", **params: Any) -> Any:
        return self.client.get(path, params=params or None, headers=self.headers[who])

    def post(self, path: str, body: Any, who: str = "ann") -> Any:
        return self.client.post(path, json=body, headers=self.headers[who])

    def ingest(self, source: str, comments: list[dict[str, Any]], **thread: Any) -> Any:
        response = self.post("/v1/queue/items", {"source": source, **thread, "comments": comments})
        assert response.status_code == 200, response.text
        return response.json()

    def items(self, **params: Any) -> list[dict[str, Any]]:
        response = self.get("/v1/queue/items", limit=200, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_cursor"] is None
        items: list[dict[str, Any]] = body["items"]
        return items

    def decide(
        self, item_id: int, action: str, version: int, who: str = "ann", **extra: Any
    ) -> Any:
        body = {"action": action, "item_version": version, **extra}
        return self.post(f"/v1/queue/items/{item_id}/decisions", body, who)


def _keys(engine: Engine) -> dict[str, dict[str, str]]:
    store = SqlKeyStore(engine)
    roles = {"scorer": Role.scorer, "ann": Role.moderator, "bob": Role.moderator}
    roles["root"] = Role.admin
    return {
        name: {"Authorization": f"Bearer {store.create(role, name).secret}"}
        for name, role in roles.items()
    }


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture
def desk(migrated_url: str, tiny_model: LoadedModel, policy_file: Path) -> Iterator[Desk]:
    engine = make_engine(migrated_url)
    try:
        headers = _keys(engine)
        with make_client(migrated_url, tiny_model, policy_file=policy_file) as client:
            yield Desk(client, migrated_url, engine, headers)
    finally:
        engine.dispose()


def by_key(items: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by (comment id, queue)."""
    return {(i["comment"]["comment_id"], i["queue"]): i for i in items}


def assert_stale(response: Any, current: dict[str, Any]) -> str:
    """The 409 of a decision on an old version: the one shape plus the item as it is now."""
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert set(response.json()) == {"error"}
    assert set(error) == {"code", "message", "field", "current"}
    assert error["code"] == "stale_item_version"
    assert error["field"] == "item_version"
    assert error["current"] == current
    message: str = error["message"]
    return message


# --- POST /v1/threads?enqueue=true ------------------------------------------------------

PAGE = {
    "title": "The council votes on the bridge",
    "url": "https://news.example/bridge",
    "comments": [
        {"id": "a", "parent_id": None, "body": "jews are vermin and should be driven out"},
        {"id": "b", "parent_id": "a", "body": "I agree with you"},
        {"id": "c", "parent_id": None, "body": "The bridge is a fine idea, thank you."},
    ],
}


def test_enqueue_stores_the_page_once(desk: Desk) -> None:
    first = desk.client.post(
        "/v1/threads?format=json&enqueue=true", json=PAGE, headers=desk.headers["ann"]
    )
    assert first.status_code == 200, first.text
    queued = first.json()["summary"]["queue"]
    assert queued["source"] == PAGE["url"]
    assert queued["comments"] == {"new": 3, "edited": 0, "unchanged": 0}
    assert queued["items_created"] == len(queued["item_ids"]) >= 1
    stored = desk.items(status="any")
    assert sorted(i["item_id"] for i in stored) == sorted(queued["item_ids"])
    assert {i["thread"]["thread_id"] for i in stored} <= {queued["thread_id"]}

    again = desk.client.post(
        "/v1/threads?format=json&enqueue=true", json=PAGE, headers=desk.headers["ann"]
    )
    assert again.status_code == 200, again.text
    requeued = again.json()["summary"]["queue"]
    assert requeued["thread_id"] == queued["thread_id"]
    assert requeued["comments"] == {"new": 0, "edited": 0, "unchanged": 3}
    assert requeued["items_created"] == 0 and requeued["item_ids"] == []
    assert len(desk.items(status="any")) == len(stored)


def test_enqueue_needs_a_moderator_key(desk: Desk) -> None:
    refused = desk.client.post(
        "/v1/threads?format=json&enqueue=true", json=PAGE, headers=desk.headers["scorer"]
    )
    assert "moderator key" in assert_error(refused, 403, "forbidden", "enqueue")
    assert desk.items(status="any") == []

    scored = desk.client.post("/v1/threads?format=json", json=PAGE, headers=desk.headers["scorer"])
    assert scored.status_code == 200, scored.text
    assert "queue" not in scored.json()["summary"]
    assert len(scored.json()["thread"]["comments"]) == 3


# --- the seed page with the shipped model -------------------------------------------------


@pytest.fixture(scope="module")
def shipped_model() -> LoadedModel:
    from app import registry

    return registry.load_current(registry.default_model_dir())


def test_seed_page_puts_the_antisemitic_comments_first(
    migrated_url: str, shipped_model: LoadedModel
) -> None:
    page = shared_file(SEEDS / "004_f987b5801adb0d07.txt").read_bytes()
    engine = make_engine(migrated_url)
    try:
        headers = _keys(engine)["ann"]
    finally:
        engine.dispose()
    with make_client(migrated_url, shipped_model) as client:
        response = client.post("/v1/threads?enqueue=true", content=page, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["summary"]["queue"]["items_created"] >= 2

        hate = client.get("/v1/queue/items", params={"queue": "hate"}, headers=headers).json()
        authors = [item["comment"]["author"] for item in hate["items"]]
        assert sorted(authors) == ["DarkEyes", "Jozo Magoc"]
        assert {item["hate_target"] for item in hate["items"]} == {"jewish"}
        # The most urgent items of all queues are these two.
        everything = client.get("/v1/queue/items", headers=headers).json()["items"]
        assert [i["item_id"] for i in everything[:2]] == [i["item_id"] for i in hate["items"]]

        reply = next(i for i in hate["items"] if i["comment"]["author"] == "DarkEyes")
        item = client.get(f"/v1/queue/items/{reply['item_id']}", headers=headers).json()
    comment = item["comment"]
    evidence = comment["scores"]["evidence"]["hate"]
    assert evidence, "a hate flag comes with the words that drove it"
    for word in evidence:
        assert comment["text"][word["start"] : word["end"]] == word["text"]
    assert [w["weight"] for w in evidence] == sorted((w["weight"] for w in evidence), reverse=True)

    context = item["context"]
    ancestors = context["ancestors"]
    # A reply two levels down: the top-level comment, then its parent, top down.
    assert [a["depth"] for a in ancestors] == list(range(len(ancestors)))
    assert ancestors and ancestors[-1]["comment_id"] == comment["parent_id"]
    assert ancestors[0]["parent_id"] is None
    assert context["siblings"], "other replies to the same parent"
    assert all(s["parent_id"] == comment["parent_id"] for s in context["siblings"])
    assert comment["comment_id"] not in {s["comment_id"] for s in context["siblings"]}
    assert all(r["parent_id"] == comment["comment_id"] for r in context["replies"])
    for entry in [*ancestors, *context["siblings"], *context["replies"]]:
        labels = entry["labels"]
        assert {"hate", "toxic", "conspiracy", "flags", "stance", "reply_stance"} <= set(labels)
        assert 0.0 <= labels["hate"] <= 1.0


# --- POST /v1/queue/items -----------------------------------------------------------------


def test_new_comments_are_scored_with_the_model(desk: Desk, tiny_model: LoadedModel) -> None:
    result = desk.ingest(
        "story-1",
        [
            {"comment_id": "c1", "text": "The bridge is a fine idea."},
            {
                "comment_id": "c2",
                "parent_id": "c1",
                "text": "jews are vermin and should be driven out",
                # A report queues it whatever the scores, so the stored scores can be read.
                "report": {"reason": "hate", "reporter": "reader-1"},
            },
        ],
        title="The bridge",
    )
    assert result["comments"] == {"new": 2, "edited": 0, "unchanged": 0}
    assert result["reports"] == 1
    reported = desk.items(queue="reported")
    assert len(reported) == 1
    item = desk.get(f"/v1/queue/items/{reported[0]['item_id']}").json()
    stored = item["comment"]["scores"]
    assert stored["model_version"] == tiny_model.version
    assert item["model_version"] == tiny_model.version
    assert all(0.0 <= stored[head] <= 1.0 for head in HEADS)
    assert "evidence" in stored
    assert item["comment"]["parent_id"] == "c1"
    assert item["reports"][0]["reason"] == "hate"
    assert item["reports"][0]["reporter"] == "reader-1"
    assert [a["comment_id"] for a in item["context"]["ancestors"]] == ["c1"]


def test_pre_scored_rows_are_kept_as_given(desk: Desk) -> None:
    given = scores(hate=0.97, target="jewish", model_version="partner-scorer-9")
    given["extra_field"] = {"kept": [1, 2]}
    result = desk.ingest("story-1", [{"comment_id": "c1", "text": "some text", "scores": given}])
    assert result["items_created"] == 1
    item = desk.get(f"/v1/queue/items/{result['item_ids'][0]}").json()
    assert item["comment"]["scores"] == given
    assert item["model_version"] == "partner-scorer-9"
    assert item["queue"] == "hate" and item["probability"] == 0.97
    assert item["priority"] == 0.97
    assert item["hate_target"] == "jewish" and item["flags"] == ["hate"]


def test_a_report_by_id_opens_a_reported_item(desk: Desk) -> None:
    desk.ingest("story-1", [{"comment_id": "c1", "text": "clean words", "scores": scores()}])
    assert desk.items(status="any") == []

    report = {"comment_id": "c1", "report": {"reason": "spam"}}
    result = desk.ingest("story-1", [report])
    assert result["reports"] == 1 and result["items_created"] == 1
    assert result["comments"] == {"new": 0, "edited": 0, "unchanged": 0}
    (item,) = desk.items(status="any")
    assert item["queue"] == "reported" and item["comment"]["text"] == "clean words"

    # A second report is recorded on the same item; it opens no other one.
    again = desk.ingest("story-1", [{"comment_id": "c1", "report": {"reason": "rude"}}])
    assert again["reports"] == 1 and again["items_created"] == 0
    full = desk.get(f"/v1/queue/items/{item['item_id']}").json()
    assert [r["reason"] for r in full["reports"]] == ["spam", "rude"]


def test_a_report_on_an_unknown_comment_is_404(desk: Desk) -> None:
    desk.ingest("story-1", [{"comment_id": "c1", "text": "clean", "scores": scores()}])
    body = {"source": "story-1", "comments": [{"comment_id": "nope", "report": {"reason": "x"}}]}
    response = desk.post("/v1/queue/items", body)
    assert "send its text" in assert_error(
        response, 404, "comment_not_found", "comments.0.comment_id"
    )
    # Another thread's comment does not count either.
    body = {"source": "story-2", "comments": [{"comment_id": "c1", "report": {"reason": "x"}}]}
    assert_error(desk.post("/v1/queue/items", body), 404, "comment_not_found")


def test_a_text_over_the_limit_is_413(
    migrated_url: str, tiny_model: LoadedModel, policy_file: Path
) -> None:
    engine = make_engine(migrated_url)
    try:
        headers = _keys(engine)["ann"]
    finally:
        engine.dispose()
    body = {
        "source": "story-1",
        "comments": [
            {"comment_id": "ok", "text": "short"},
            {"comment_id": "long", "text": "é" * 60},  # 120 UTF-8 bytes
        ],
    }
    with make_client(migrated_url, tiny_model, max_text_bytes=100) as client:
        response = client.post("/v1/queue/items", json=body, headers=headers)
        message = assert_error(response, 413, "text_too_long", "comments.1.text")
        assert "120 bytes" in message and "100" in message
        # Nothing of the refused call was stored.
        listed = client.get("/v1/queue/items", params={"status": "any"}, headers=headers)
        assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"source": "s", "comments": [{"text": "no id"}]},
            422,
            "invalid_input",
            "comments.0.comment_id",
        ),
        ({"source": "s", "comments": []}, 422, "invalid_input", "comments"),
        ({"comments": [{"comment_id": "c", "text": "t"}]}, 422, "invalid_input", "source"),
        (
            {"source": "", "comments": [{"comment_id": "c", "text": "t"}]},
            422,
            "invalid_ingest",
            "source",
        ),
        (
            {"source": "s", "comments": [{"comment_id": "c", "text": "t", "colour": "red"}]},
            422,
            "invalid_input",
            "comments.0.colour",
        ),
        (
            {"source": "s", "comments": [{"comment_id": "c", "text": "t", "report": {}}]},
            422,
            "invalid_input",
            "comments.0.report.reason",
        ),
        (
            {"source": "s", "comments": [{"comment_id": "c", "text": "t", "posted_at": "soon"}]},
            422,
            "invalid_input",
            "comments.0.posted_at",
        ),
        (
            {"source": "s", "comments": [{"comment_id": "c"}]},
            422,
            "invalid_ingest",
            "comments.0.text",
        ),
        (
            {"source": "s", "comments": [{"comment_id": "c", "text": "  "}]},
            422,
            "comment_empty",
            "comments.0.text",
        ),
        (
            {
                "source": "s",
                "comments": [{"comment_id": "c", "text": "t", "scores": {"hate": 0.1}}],
            },
            422,
            "invalid_ingest",
            "comments.0.scores.toxic",
        ),
        (
            {
                "source": "s",
                "comments": [
                    {"comment_id": "a", "text": "t", "scores": scores()},
                    {"comment_id": "c", "text": "t", "scores": scores(toxic=1.5)},
                ],
            },
            422,
            "invalid_scores",
            "comments.1.scores.toxic",
        ),
        (["not", "an", "object"], 422, "invalid_input", None),
    ],
)
def test_malformed_items_are_refused_with_the_field(
    desk: Desk, body: Any, status: int, code: str, field: str | None
) -> None:
    response = desk.post("/v1/queue/items", body)
    assert_error(response, status, code, field)
    assert desk.items(status="any") == []


def test_the_items_body_must_be_json(desk: Desk) -> None:
    response = desk.client.post(
        "/v1/queue/items",
        content=b"{not json",
        headers={**desk.headers["ann"], "content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_json")


def test_ingest_needs_a_moderator(desk: Desk) -> None:
    body = {"source": "s", "comments": [{"comment_id": "c", "text": "t"}]}
    assert_error(desk.client.post("/v1/queue/items", json=body), 401, "unauthorized")
    assert_error(desk.post("/v1/queue/items", body, "scorer"), 403, "forbidden")


# --- decisions ------------------------------------------------------------------------------


@pytest.fixture
def hate_item(desk: Desk) -> int:
    result = desk.ingest(
        "story-1", [{"comment_id": "c1", "text": "hateful", "scores": scores(hate=0.9)}]
    )
    (item_id,) = result["item_ids"]
    return int(item_id)


def test_a_decision_is_stored_and_a_stale_one_is_409(desk: Desk, hate_item: int) -> None:
    response = desk.decide(
        hate_item,
        "reject",
        1,
        reason="antisemitic slur",
        note="see the 2nd sentence",
        labels={"hate_target": "jewish"},
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["item_id"] == hate_item and decision["item_version"] == 1
    assert decision["action"] == "reject" and decision["status_after"] == "rejected"
    assert decision["moderator"] == "ann" and decision["reason"] == "antisemitic slur"
    assert decision["labels"] == {"hate_target": "jewish"}
    assert decision["item"] == {"item_id": hate_item, "status": "rejected", "version": 2}

    # Bob loaded version 1 too; his decision must not silently win.
    stale = desk.decide(hate_item, "approve", 1, who="bob")
    message = assert_stale(stale, {"item_id": hate_item, "status": "rejected", "version": 2})
    assert "version 2" in message
    item = desk.get(f"/v1/queue/items/{hate_item}").json()
    assert item["status"] == "rejected" and item["version"] == 2
    assert [d["moderator"] for d in item["decisions"]] == ["ann"]


def test_decisions_on_unknown_items_and_without_rights(desk: Desk, hate_item: int) -> None:
    body = {"action": "approve", "item_version": 1}
    missing = 999_999
    assert_error(desk.decide(missing, "approve", 1), 404, "item_not_found", "item_id")
    assert_error(desk.get(f"/v1/queue/items/{missing}"), 404, "item_not_found", "item_id")
    assert_error(desk.get(f"/v1/queue/items/{missing}/decisions"), 404, "item_not_found")
    assert_error(desk.get("/v1/queue/items/0"), 422, "invalid_input", "item_id")
    assert_error(desk.get("/v1/queue/items/abc"), 422, "invalid_input", "item_id")

    path = f"/v1/queue/items/{hate_item}/decisions"
    assert_error(desk.client.post(path, json=body), 401, "unauthorized")
    wrong = {"Authorization": "Bearer tg_000000000000_" + "x" * 43}
    assert_error(desk.client.post(path, json=body, headers=wrong), 401, "unauthorized")
    assert_error(desk.post(path, body, "scorer"), 403, "forbidden")
    assert_error(desk.client.get(path), 401, "unauthorized")
    assert_error(desk.get(path, "scorer"), 403, "forbidden")
    assert desk.get(path).json() == {"item_id": hate_item, "decisions": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete", "item_version": 1}, "action"),
        ({"action": "approve", "item_version": 0}, "item_version"),
        ({"action": "approve"}, "item_version"),
        ({"action": "approve", "item_version": "one"}, "item_version"),
        ({"action": "approve", "item_version": 1, "by": "me"}, "by"),
        (
            {"action": "label", "item_version": 1, "labels": {"hate_target": "martians"}},
            "labels.hate_target",
        ),
        ({"action": "label", "item_version": 1, "labels": {"spam": True}}, "labels.spam"),
        ({"action": "approve", "item_version": 1, "reason": "x" * 201}, "reason"),
    ],
)
def test_malformed_decisions_are_422(
    desk: Desk, hate_item: int, body: dict[str, Any], field: str
) -> None:
    response = desk.post(f"/v1/queue/items/{hate_item}/decisions", body)
    assert_error(response, 422, "invalid_input", field)
    assert desk.get(f"/v1/queue/items/{hate_item}").json()["version"] == 1


@pytest.mark.parametrize(
    ("labels", "field"),
    [({}, "labels"), ({"hate": False, "hate_target": "jewish"}, "labels.hate_target")],
)
def test_contradictory_labels_are_422(
    desk: Desk, hate_item: int, labels: dict[str, Any], field: str
) -> None:
    response = desk.decide(hate_item, "label", 1, labels=labels)
    assert_error(response, 422, "invalid_decision", field)


def test_escalated_items_wait_for_an_admin_and_reopen_undoes(desk: Desk, hate_item: int) -> None:
    escalated = desk.decide(hate_item, "escalate", 1, who="bob", note="legal should see this")
    assert escalated.status_code == 201, escalated.text
    assert escalated.json()["item"]["status"] == "escalated"

    refused = desk.decide(hate_item, "approve", 2)
    assert "admin" in assert_error(refused, 403, "forbidden", "item_id")
    approved = desk.decide(hate_item, "approve", 2, who="root")
    assert approved.status_code == 201, approved.text
    assert approved.json()["item"] == {"item_id": hate_item, "status": "approved", "version": 3}

    reopened = desk.decide(hate_item, "reopen", 3, reason="approved by mistake")
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["item"] == {"item_id": hate_item, "status": "open", "version": 4}
    labelled = desk.decide(hate_item, "label", 4, labels={"hate": True, "hate_target": "jewish"})
    assert labelled.json()["item"] == {"item_id": hate_item, "status": "open", "version": 5}

    history = desk.get(f"/v1/queue/items/{hate_item}/decisions").json()["decisions"]
    assert [(d["action"], d["item_version"], d["moderator"]) for d in history] == [
        ("escalate", 1, "bob"),
        ("approve", 2, "root"),
        ("reopen", 3, "ann"),
        ("label", 4, "ann"),
    ]
    assert [d["status_after"] for d in history] == ["escalated", "approved", "open", "open"]
    ids = [d["decision_id"] for d in history]
    assert ids == sorted(ids)
    assert history[0]["note"] == "legal should see this"
    item = desk.get(f"/v1/queue/items/{hate_item}").json()
    assert item["decisions"] == history
    assert (item["status"], item["version"]) == ("open", 5)
    assert [i["item_id"] for i in desk.items(queue="hate")] == [hate_item]


def test_a_superseded_item_refuses_decisions_and_names_the_new_one(
    desk: Desk, hate_item: int
) -> None:
    edited = desk.ingest(
        "story-1", [{"comment_id": "c1", "text": "hateful, edited", "scores": scores(hate=0.8)}]
    )
    assert edited["comments"] == {"new": 0, "edited": 1, "unchanged": 0}
    assert edited["items_superseded"] == 1
    (new_item,) = edited["item_ids"]

    old = desk.get(f"/v1/queue/items/{hate_item}").json()
    assert (old["status"], old["version"]) == ("superseded", 2)
    assert_stale(
        desk.decide(hate_item, "reject", 1),
        {"item_id": hate_item, "status": "superseded", "version": 2},
    )
    refused = desk.decide(hate_item, "reject", 2)
    message = assert_error(refused, 409, "decision_refused", "item_id")
    assert f"decide item {new_item} instead" in message

    new = desk.get(f"/v1/queue/items/{new_item}").json()
    assert new["replaces_item_id"] == hate_item
    assert new["comment"]["version"] == 2 and new["comment"]["text"] == "hateful, edited"
    assert [v["text"] for v in new["previous_versions"]] == ["hateful"]
    assert new["previous_versions"][0]["items"] == [
        {"item_id": hate_item, "queue": "hate", "status": "superseded"}
    ]
    assert desk.decide(new_item, "reject", 1).status_code == 201
    # The old version's item stays, for the audit, behind the more urgent original score.
    assert [i["item_id"] for i in desk.items(status="any")] == [hate_item, new_item]


# --- listing ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    thread_a: int
    thread_b: int
    b_created_at: str
    items: dict[tuple[str, str], dict[str, Any]]


@pytest.fixture
def seeded(desk: Desk) -> Seeded:
    a = desk.ingest(
        "story-a",
        [
            {"comment_id": "a1", "text": "a1", "scores": scores(hate=0.95, target="jewish")},
            {"comment_id": "a2", "text": "a2", "scores": scores(hate=0.8, target="muslim")},
            {"comment_id": "a3", "text": "a3", "scores": scores(toxic=0.92)},
            {"comment_id": "a4", "text": "a4", "scores": scores(conspiracy=0.85)},
            {"comment_id": "a5", "text": "a5", "scores": scores()},
        ],
    )
    b = desk.ingest(
        "story-b",
        [
            {
                "comment_id": "b1",
                "text": "b1",
                "scores": scores(hate=0.7, toxic=0.96, target="jewish"),
            },
            {"comment_id": "b2", "text": "b2", "scores": scores(), "report": {"reason": "spam"}},
        ],
    )
    # A case appears in each queue it has a reason for, described by that reason.
    items = {k: v for queue in QUEUE_NAMES for k, v in by_key(desk.items(queue=queue)).items()}
    assert items[("b1", "hate")]["item_id"] == items[("b1", "toxic")]["item_id"]
    assert len(desk.items()) == 6
    assert set(items) == {
        ("a1", "hate"),
        ("a2", "hate"),
        ("a3", "toxic"),
        ("a4", "conspiracy"),
        ("b1", "hate"),
        ("b1", "toxic"),
        ("b2", "reported"),
    }
    created = items[("b1", "hate")]["created_at"]
    assert created > items[("a1", "hate")]["created_at"]
    return Seeded(a["thread_id"], b["thread_id"], created, items)


def _ids(seeded: Seeded, *keys: tuple[str, str]) -> list[int]:
    return sorted({seeded.items[k]["item_id"] for k in keys})


def _listed(desk: Desk, **params: Any) -> list[int]:
    return sorted(i["item_id"] for i in desk.items(**params))


def test_items_are_listed_most_urgent_first(desk: Desk, seeded: Seeded) -> None:
    listed = desk.items()
    expected = sorted(listed, key=lambda i: (-i["priority"], i["item_id"]))
    assert listed == expected
    assert [(i["comment"]["comment_id"], i["queue"]) for i in listed[:3]] == [
        ("a1", "hate"),
        ("a2", "hate"),
        ("b1", "hate"),
    ]
    toxic = seeded.items[("b1", "toxic")]
    assert toxic["priority"] == pytest.approx(0.96 * SEVERITY["toxic"])
    assert toxic["flags"] == ["hate", "toxic"] and toxic["hate_target"] == "jewish"
    assert toxic["thread"] == {"thread_id": seeded.thread_b, "source": "story-b", "title": None}
    # A reported clean comment ranks at the policy's base.
    assert seeded.items[("b2", "reported")]["priority"] == pytest.approx(0.5 + 0.5 * 0.02)
    newest = [i["item_id"] for i in desk.items(order="newest")]
    assert newest == sorted(newest, reverse=True)
    assert [i["item_id"] for i in desk.items(order="oldest")] == sorted(newest)


def test_list_filters(desk: Desk, seeded: Seeded) -> None:
    s = seeded
    assert _listed(desk, queue="hate") == _ids(s, ("a1", "hate"), ("a2", "hate"), ("b1", "hate"))
    assert _listed(desk, queue="reported") == _ids(s, ("b2", "reported"))
    assert _listed(desk, label="toxic") == _ids(s, ("a3", "toxic"), ("b1", "hate"), ("b1", "toxic"))
    assert _listed(desk, label="hate", queue="toxic") == _ids(s, ("b1", "toxic"))
    assert _listed(desk, target="jewish") == _ids(
        s, ("a1", "hate"), ("b1", "hate"), ("b1", "toxic")
    )
    assert _listed(desk, target="muslim") == _ids(s, ("a2", "hate"))
    assert _listed(desk, min_probability=0.9) == _ids(
        s, ("a1", "hate"), ("a3", "toxic"), ("b1", "toxic")
    )
    assert _listed(desk, min_probability=1.0) == []
    assert _listed(desk, thread_id=s.thread_b) == _ids(
        s, ("b1", "hate"), ("b1", "toxic"), ("b2", "reported")
    )
    assert _listed(desk, thread_id=s.thread_b + 100) == []
    b_items = _ids(s, ("b1", "hate"), ("b1", "toxic"), ("b2", "reported"))
    assert _listed(desk, since=s.b_created_at) == b_items
    a_items = _ids(s, ("a1", "hate"), ("a2", "hate"), ("a3", "toxic"), ("a4", "conspiracy"))
    assert _listed(desk, until=s.b_created_at) == a_items
    # RFC 3339, as the spec's date-time: a time without a zone is ambiguous and refused.
    naive = s.b_created_at.removesuffix("+00:00")
    message = assert_error(desk.get("/v1/queue/items", since=naive), 422, "invalid_input", "since")
    assert "zone" in message
    assert _listed(desk, since=s.b_created_at, until=s.b_created_at) == []


def test_list_filters_by_status(desk: Desk, seeded: Seeded) -> None:
    a1 = seeded.items[("a1", "hate")]["item_id"]
    b2 = seeded.items[("b2", "reported")]["item_id"]
    assert desk.decide(a1, "reject", 1).status_code == 201
    assert desk.decide(b2, "escalate", 1).status_code == 201
    everything = sorted({i["item_id"] for i in seeded.items.values()})
    assert _listed(desk) == sorted(set(everything) - {a1, b2})
    assert _listed(desk, status="open") == _listed(desk)
    assert _listed(desk, status="rejected") == [a1]
    assert _listed(desk, status="escalated") == [b2]
    assert _listed(desk, status="approved") == []
    assert _listed(desk, status="any") == everything
    assert _listed(desk, status="any", queue="hate", label="hate") == _ids(
        seeded, ("a1", "hate"), ("a2", "hate"), ("b1", "hate")
    )


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"queue": "spam"}, "invalid_input", "queue"),
        ({"status": "closed"}, "invalid_input", "status"),
        ({"label": "stance"}, "invalid_input", "label"),
        ({"target": "martians"}, "invalid_input", "target"),
        ({"min_probability": "1.5"}, "invalid_input", "min_probability"),
        ({"thread_id": "0"}, "invalid_input", "thread_id"),
        ({"since": "yesterday"}, "invalid_input", "since"),
        ({"order": "random"}, "invalid_input", "order"),
        ({"limit": "0"}, "invalid_input", "limit"),
        ({"limit": "201"}, "invalid_input", "limit"),
        ({"cursor": "garbage!!"}, "invalid_cursor", "cursor"),
        ({"cursor": "WyJwcmlvcml0eSJd"}, "invalid_cursor", "cursor"),  # ["priority"]
        ({"cursor": "x" * 201}, "invalid_input", "cursor"),
    ],
)
def test_bad_list_parameters_are_422(
    desk: Desk, params: dict[str, str], code: str, field: str
) -> None:
    assert_error(desk.get("/v1/queue/items", **params), 422, code, field)


def test_a_cursor_continues_its_own_order(desk: Desk, seeded: Seeded) -> None:
    newest = desk.get("/v1/queue/items", order="newest", limit=50).json()["items"]
    assert len(newest) >= 3
    page = desk.get("/v1/queue/items", order="newest", limit=2).json()
    assert page["next_cursor"] is not None
    # Another `order` beside the cursor does not change the listing the cursor came from.
    rest = desk.get("/v1/queue/items", order="priority", cursor=page["next_cursor"]).json()
    assert [item["item_id"] for item in rest["items"]] == [item["item_id"] for item in newest[2:]]


def test_list_needs_a_moderator(desk: Desk) -> None:
    assert_error(desk.client.get("/v1/queue/items"), 401, "unauthorized")
    assert_error(desk.get("/v1/queue/items", "scorer"), 403, "forbidden")


def test_cursor_pages_return_every_item_once_while_items_arrive(desk: Desk) -> None:
    # Nine items; two pairs tie on priority, and a tie straddles the first page boundary.
    hate = [0.99, 0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.55]
    rows = [
        {"comment_id": f"h{n}", "text": f"h{n}", "scores": scores(hate=p)}
        for n, p in enumerate(hate)
    ]
    rows.append({"comment_id": "t0", "text": "t0", "scores": scores(toxic=0.9)})  # 0.45
    before = desk.ingest("story-1", rows)["item_ids"]
    assert len(before) == 9

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    arrived: list[int] = []
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = desk.get("/v1/queue/items", **params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 3
        seen.extend(page["items"])
        pages += 1
        if pages == 1:
            # New items while the moderator pages: one more urgent than what was seen (it
            # belongs before the cursor, so it is not shown), one tied with the page's last
            # item (shown or not, by the tie-break) and one less urgent (shown).
            last = page["items"][-1]
            more = desk.ingest(
                "story-2",
                [
                    {"comment_id": "n0", "text": "n0", "scores": scores(hate=0.999)},
                    {"comment_id": "n1", "text": "n1", "scores": scores(hate=last["priority"])},
                    {"comment_id": "n2", "text": "n2", "scores": scores(toxic=0.6)},  # 0.3
                ],
            )
            arrived = more["item_ids"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20, "the cursor does not advance"

    ids = [i["item_id"] for i in seen]
    assert len(ids) == len(set(ids)), "an item was returned twice"
    assert set(before) <= set(ids), "an item was skipped"
    urgent, tied, later = arrived
    assert urgent not in ids and later in ids
    # The pages, joined, are the one-page listing (whose order is total) without what
    # arrived ahead of the cursor.
    whole = [i["item_id"] for i in desk.items()]
    skipped = {urgent} | ({tied} - set(ids))
    assert ids == [i for i in whole if i not in skipped]
    priorities = [i["priority"] for i in seen]
    assert priorities == sorted(priorities, reverse=True)


# --- stats and export ---------------------------------------------------------------------------


@pytest.fixture
def decided(desk: Desk) -> dict[str, Any]:
    result = desk.ingest(
        "story-1",
        [
            {"comment_id": "h1", "text": "h1 text", "scores": scores(hate=0.9, target="jewish")},
            {"comment_id": "h2", "text": "h2 text", "parent_id": "h1", "scores": scores(hate=0.8)},
            {"comment_id": "t1", "text": "t1 text", "scores": scores(toxic=0.9)},
            {"comment_id": "c1", "text": "c1 text", "scores": scores(conspiracy=0.9)},
            {"comment_id": "o1", "text": "o1 text", "scores": scores(toxic=0.8)},
        ],
        title="The bridge",
        article_text="The council voted.",
    )
    items = by_key(desk.items())
    h1, h2 = items[("h1", "hate")]["item_id"], items[("h2", "hate")]["item_id"]
    t1, c1 = items[("t1", "toxic")]["item_id"], items[("c1", "conspiracy")]["item_id"]
    made = [
        desk.decide(h1, "reject", 1, who="ann"),
        desk.decide(h1, "reject", 2, who="bob"),
        desk.decide(h2, "reject", 1, who="ann"),
        desk.decide(h2, "approve", 2, who="bob"),
        desk.decide(t1, "approve", 1, who="ann"),
        desk.decide(c1, "escalate", 1, who="bob"),
    ]
    assert [r.status_code for r in made] == [201] * 6, [r.text for r in made]
    return {
        "ids": {"h1": h1, "h2": h2, "t1": t1, "c1": c1},
        "decisions": [r.json() for r in made],
        "thread_id": result["thread_id"],
    }


def test_stats_count_decisions_precision_and_agreement(desk: Desk, decided: dict[str, Any]) -> None:
    response = desk.get("/v1/queue/stats")
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["decisions_by_moderator"] == {"ann": 3, "bob": 3}
    assert found["decisions"] == 6 and found["items"] == 5
    assert found["precision"] == {
        # h1 confirmed (rejected), h2's flag judged wrong (approved last).
        "hate": {"judged": 2, "confirmed": 1, "precision": 0.5},
        "toxic": {"judged": 1, "confirmed": 0, "precision": 0.0},
        # An escalation says nothing about the flag.
        "conspiracy": {"judged": 0, "confirmed": 0, "precision": None},
    }
    # Two items had verdicts from both moderators; they agreed on one.
    assert found["agreement"] == {"items": 2, "agreed": 1, "rate": 0.5, "kappa": 0.0}
    assert found["open_by_queue"] == {
        "hate": 0,
        "conspiracy": 0,
        "toxic": 1,
        "reported": 0,
        "uncertain": 0,
    }
    assert found["by_status"] == {
        "open": 1,
        "approved": 2,
        "rejected": 1,
        "escalated": 1,
        "superseded": 0,
    }
    assert_error(desk.client.get("/v1/queue/stats"), 401, "unauthorized")
    assert_error(desk.get("/v1/queue/stats", "scorer"), 403, "forbidden")


def test_stats_of_an_empty_queue(desk: Desk) -> None:
    found = desk.get("/v1/queue/stats").json()
    assert found["decisions"] == 0 and found["decisions_by_moderator"] == {}
    assert found["agreement"] == {"items": 0, "agreed": 0, "rate": None, "kappa": None}
    assert all(p["precision"] is None for p in found["precision"].values())


def _export(desk: Desk, **params: Any) -> list[dict[str, Any]]:
    response = desk.get("/v1/queue/export", "root", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.text == "" or response.text.endswith("\n")
    return [json.loads(line) for line in response.text.splitlines()]


def test_export_is_for_admins_only(desk: Desk, decided: dict[str, Any]) -> None:
    assert_error(desk.client.get("/v1/queue/export"), 401, "unauthorized")
    assert_error(desk.get("/v1/queue/export", "scorer"), 403, "forbidden")
    message = assert_error(desk.get("/v1/queue/export", "ann"), 403, "forbidden")
    assert "admin" in message
    assert_error(
        desk.get("/v1/queue/export", "root", since="last week"), 422, "invalid_input", "since"
    )


def test_export_writes_feedback_rows(desk: Desk, decided: dict[str, Any]) -> None:
    rows = _export(desk)
    made = decided["decisions"]
    assert [r["decision_id"] for r in rows] == [d["decision_id"] for d in made]
    assert {r["schema"] for r in rows} == {FEEDBACK_SCHEMA}
    first, _, h2_reject, h2_approve, t1, c1 = rows
    assert first["doc_id"] == "story-1#h1@1"
    assert first["text"] == "h1 text" and first["topic"] == "The bridge"
    # A top-level comment's parent text is the article; a reply's is its parent comment.
    assert first["parent_text"] == "The bridge\n\nThe council voted."
    assert h2_reject["parent_text"] == "h1 text"
    assert (first["hate"], first["hate_target"], first["action"]) == (1, "jewish", "reject")
    assert (first["moderator"], first["queue"]) == ("ann", "hate")
    assert first["model_version"] == "external-1"
    assert (h2_reject["hate"], h2_approve["hate"]) == (1, 0)
    assert (t1["toxic"], t1["hate"]) == (0, None)
    assert (c1["action"], c1["conspiracy"]) == ("escalate", None)

    since = made[3]["decided_at"]
    later = _export(desk, since=since)
    assert [r["decision_id"] for r in later] == [d["decision_id"] for d in made[3:]]
    assert _export(desk, since="2999-01-01T00:00:00Z") == []


# --- the spec ----------------------------------------------------------------------------------


def test_openapi_lists_the_queue_endpoints(desk: Desk) -> None:
    spec = desk.client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v1/queue/items": {"get", "post"},
        "/v1/queue/items/{item_id}": {"get"},
        "/v1/queue/items/{item_id}/decisions": {"get", "post"},
        "/v1/queue/stats": {"get"},
        "/v1/queue/export": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) == methods
        for operation in paths[path].values():
            assert operation["summary"] and operation["description"]
    decisions = paths["/v1/queue/items/{item_id}/decisions"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(decisions)
    assert "application/x-ndjson" in paths["/v1/queue/export"]["get"]["responses"]["200"]["content"]
    enqueue = [p for p in paths["/v1/threads"]["post"]["parameters"] if p["name"] == "enqueue"]
    assert enqueue and enqueue[0]["in"] == "query"


# --- inputs the databases cannot store --------------------------------------------------------


def assert_refused(response: Any, field: str) -> None:
    """A 422 in the one shape naming `field`, whatever the database (never a 500)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["field"] == field


@pytest.mark.parametrize(
    ("comment", "field"),
    [
        ({"comment_id": "c1", "text": "a\x00b"}, "comments.0.text"),
        ({"comment_id": "c\x001", "text": "ab"}, "comments.0.comment_id"),
        ({"comment_id": "c1", "text": "ab", "author": "x\x00"}, "comments.0.author"),
        ({"comment_id": "c1", "text": "ab", "parent_id": "p\x00"}, "comments.0.parent_id"),
        (
            {"comment_id": "c1", "text": "ab", "report": {"reason": "r\x00"}},
            "comments.0.report.reason",
        ),
        (
            {"comment_id": "c1", "text": "ab", "scores": {**scores(), "note": "n\x00"}},
            "comments.0.scores",
        ),
    ],
)
def test_nul_characters_are_refused_on_every_database(
    desk: Desk, comment: dict[str, Any], field: str
) -> None:
    # PostgreSQL cannot store U+0000 in text or JSONB (SQLite can): refused up front, the
    # same on both, instead of a 500 from the driver on PostgreSQL.
    assert_refused(desk.post("/v1/queue/items", {"source": "s", "comments": [comment]}), field)
    assert desk.items(status="any") == []


def test_a_nul_in_the_source_or_a_decision_is_refused(desk: Desk, hate_item: int) -> None:
    body = {"source": "s\x00", "comments": [{"comment_id": "c1", "text": "ab"}]}
    assert_refused(desk.post("/v1/queue/items", body), "source")
    assert_refused(desk.decide(hate_item, "reject", 1, note="n\x00"), "note")
    assert_refused(desk.decide(hate_item, "reject", 1, reason="r\x00"), "reason")
    assert desk.get(f"/v1/queue/items/{hate_item}").json()["version"] == 1


def test_nul_characters_in_an_enqueued_page_are_dropped(desk: Desk) -> None:
    # A NUL in a saved page is debris of the scrape: the page is queued without it.
    page = [{"id": "a", "parent": None, "text": "x\x00y"}]
    response = desk.client.post(
        "/v1/threads?format=json&enqueue=true&source=nul", json=page, headers=desk.headers["ann"]
    )
    assert response.status_code == 200, response.text
    with desk.engine.connect() as connection:
        texts = connection.execute(sa.select(comments.c.text)).scalars().all()
    assert texts == ["xy"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_times_beyond_the_calendar_are_refused_when_stored_and_clamped_as_bounds(
    desk: Desk, moment: str
) -> None:
    # Valid RFC 3339, but not a datetime any more once moved to UTC: a stored time is
    # refused; as a filter's bound it means the calendar's first or last instant.
    body = {"source": "s", "comments": [{"comment_id": "c1", "text": "ab", "posted_at": moment}]}
    assert_refused(desk.post("/v1/queue/items", body), "comments.0.posted_at")
    assert desk.get("/v1/queue/items", since=moment).status_code == 200
    assert desk.get("/v1/queue/items", until=moment).status_code == 200
    assert desk.get("/v1/queue/export", "root", since=moment).status_code == 200

"""The queue API with one case per comment: reasons, the queue a decision is made from,
search, bulk decisions, and one thread for the same page whether the CLI or HTTP sent it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app as cli
from app.queue.review import export_feedback
from app.queue.store import threads
from tests.api.conftest import assert_error
from tests.api.test_queue_api import Desk, scores
from tests.api.test_queue_api import desk as desk  # noqa: F401 - fixture
from tests.api.test_queue_api import policy_file as policy_file  # noqa: F401 - fixture

PAGE = """\
THE BRIDGE
The council voted for the new bridge.

Comments

1. Ann says:
Great news for the town.

2. Bob says:
Only idiots would pay for this, you morons.
"""


def _case(desk: Desk, comment_id: str) -> dict[str, Any]:
    [found] = [i for i in desk.items(status="any") if i["comment"]["comment_id"] == comment_id]
    return found


@pytest.fixture
def two_flags(desk: Desk) -> dict[str, Any]:  # noqa: F811
    desk.ingest(
        "story",
        [
            {
                "comment_id": "c1",
                "text": "Vile and rude.",
                "author": "Max",
                "scores": scores(hate=0.9, toxic=0.95, target="jewish"),
            },
            {
                "comment_id": "c2",
                "text": "Just rude.",
                "author": "max",
                "scores": scores(toxic=0.8),
            },
            {"comment_id": "c3", "text": "Rude too.", "author": "Eve", "scores": scores(toxic=0.7)},
        ],
    )
    return _case(desk, "c1")


def test_a_case_lists_every_reason_and_each_queue_describes_its_own(
    desk: Desk,
    two_flags: dict[str, Any],  # noqa: F811
) -> None:
    assert [(r["queue"], r["probability"]) for r in two_flags["reasons"]] == [
        ("hate", 0.9),
        ("toxic", 0.95),
    ]
    [in_toxic] = [i for i in desk.items(queue="toxic") if i["item_id"] == two_flags["item_id"]]
    assert (in_toxic["queue"], in_toxic["head"], in_toxic["probability"]) == (
        "toxic",
        "toxic",
        0.95,
    )
    [in_hate] = [i for i in desk.items(queue="hate") if i["item_id"] == two_flags["item_id"]]
    assert (in_hate["queue"], in_hate["probability"]) == ("hate", 0.9)
    assert in_hate["priority"] != in_toxic["priority"]


def test_one_decision_settles_the_case_in_every_queue_and_judges_the_queue_it_came_from(
    desk: Desk,
    two_flags: dict[str, Any],  # noqa: F811
) -> None:
    item = two_flags["item_id"]
    refused = desk.decide(item, "reject", 1, queue="conspiracy")
    assert_error(refused, 422, "invalid_decision", "queue")
    made = desk.decide(item, "reject", 1, queue="toxic")
    assert made.status_code == 201, made.text
    assert made.json()["queue"] == "toxic"
    for queue in ("hate", "toxic"):
        assert item not in [i["item_id"] for i in desk.items(queue=queue)], queue
    [row] = list(export_feedback(desk.engine))
    assert (row["queue"], row["toxic"], row["hate"]) == ("toxic", 1, None)
    # An approve clears every flag the case was queued for.
    desk.decide(item, "reopen", 2)
    desk.decide(item, "approve", 3, queue="hate")
    last = list(export_feedback(desk.engine))[-1]
    assert (last["hate"], last["toxic"]) == (0, 0)


def test_search_by_text_and_author(desk: Desk, two_flags: dict[str, Any]) -> None:  # noqa: F811
    found = [i["comment"]["comment_id"] for i in desk.items(queue="toxic", q="RUDE")]
    assert sorted(found) == ["c1", "c2", "c3"]
    assert [i["comment"]["comment_id"] for i in desk.items(q="just")] == ["c2"]
    assert [i["comment"]["comment_id"] for i in desk.items(author="Max")] == ["c1"]
    assert [i["comment"]["comment_id"] for i in desk.items(author="max ")] == ["c2"]
    # LIKE's wildcards are searched for as themselves.
    assert desk.items(q="%") == [] and desk.items(q="_") == []
    assert_error(desk.get("/v1/queue/items", q=" "), 422, "invalid_input", "q")


def test_a_bulk_decision_decides_each_case_and_reports_the_stale_one(
    desk: Desk,
    two_flags: dict[str, Any],  # noqa: F811
) -> None:
    ids = {c: _case(desk, c)["item_id"] for c in ("c1", "c2", "c3")}
    assert desk.decide(ids["c3"], "approve", 1, who="bob").status_code == 201
    body = {
        "action": "reject",
        "queue": "toxic",
        "reason": "Spam",
        "items": [{"item_id": ids[c], "item_version": 1} for c in ("c1", "c2", "c3", "c1")],
    }
    response = desk.post("/v1/queue/decisions", body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert (out["decided"], out["refused"]) == (2, 2)
    assert out["results"][3]["error"] == "duplicate_item"
    stale = out["results"][2]
    assert (stale["ok"], stale["error"], stale["current"]["status"]) == (
        False,
        "stale_item_version",
        "approved",
    )
    assert {r["decision"]["reason"] for r in out["results"][:2]} == {"Spam"}
    # Undo: reopen both at the versions the bulk decision gave them.
    undo = {
        "action": "reopen",
        "items": [{"item_id": ids[c], "item_version": 2} for c in ("c1", "c2")],
    }
    assert desk.post("/v1/queue/decisions", undo).json()["decided"] == 2
    assert {i["item_id"] for i in desk.items(queue="toxic")} == {ids["c1"], ids["c2"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "escalate", "items": [{"item_id": 1, "item_version": 1}]}, "action"),
        ({"action": "reject", "items": []}, "items"),
        ({"action": "reject", "items": [{"item_id": 1, "item_version": 1}] * 201}, "items"),
    ],
)
def test_bad_bulk_decisions_are_422(desk: Desk, body: dict[str, Any], field: str) -> None:  # noqa: F811
    assert_error(desk.post("/v1/queue/decisions", body), 422, "invalid_input", field)


def test_the_same_page_over_http_and_from_the_cli_is_one_thread(
    desk: Desk,
    tmp_path: Path,  # noqa: F811
) -> None:
    over_http = desk.client.post(
        "/v1/threads?enqueue=true",
        content=PAGE.encode("utf-8"),
        headers={**desk.headers["ann"], "content-type": "text/plain"},
    )
    assert over_http.status_code == 200, over_http.text
    queued = over_http.json()["summary"]["queue"]
    assert queued["comments"]["new"] == 2
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["queue", "ingest", str(page), "--database-url", desk.url])
    assert result.exit_code == 0, result.output
    # Neither named a source: both took the one the content gives, so the CLI found the
    # thread and its comments already stored.
    by_cli = json.loads(result.stdout)
    assert (by_cli["thread_id"], by_cli["source"]) == (queued["thread_id"], queued["source"])
    assert by_cli["comments"] == {"new": 0, "edited": 0, "unchanged": 2}
    with desk.engine.connect() as connection:
        sources = connection.execute(sa.select(threads.c.source)).scalars().all()
    assert sources == [queued["source"]]

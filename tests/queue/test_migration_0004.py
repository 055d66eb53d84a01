"""Migration 0004 on a database with data in it: one-item-per-queue items become one case
per comment version, and not a decision or an audit row is lost (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import Role
from app.queue.keys import SqlKeyStore
from app.queue.review import (
    DecisionRefused,
    Filters,
    decide,
    export_feedback,
    get_item,
    history,
    list_items,
    open_count,
)
from app.queue.store import make_engine, upgrade

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _at(minutes: int, kind: str) -> Any:
    moment = T0 + timedelta(minutes=minutes)
    # What the store's UtcDateTime writes: naive UTC on SQLite, aware on PostgreSQL.
    return moment.replace(tzinfo=None) if kind == "sqlite" else moment


# (item_id, comment row, queue, head, priority, probability, status, version)
ITEMS = [
    (1, 1, "hate", "hate", 0.9, 0.9, "rejected", 2),
    (2, 1, "toxic", "toxic", 0.5, 0.8, "open", 1),
    (3, 1, "reported", None, 0.6, 0.9, "open", 1),
    (4, 2, "toxic", "toxic", 0.5, 0.7, "open", 1),
    (5, 2, "uncertain", "hate", 0.3, 0.5, "open", 1),
    (6, 3, "hate", "hate", 0.8, 0.8, "superseded", 2),
    (7, 4, "hate", "hate", 0.85, 0.85, "open", 1),
    (8, 5, "hate", "hate", 0.7, 0.7, "approved", 2),
    (9, 5, "toxic", "toxic", 0.45, 0.9, "rejected", 2),
]
# (decision_id, item_id, action, status_after, moderator, minutes after T0)
DECISIONS = [
    (1, 1, "reject", "rejected", "ann", 10),
    (2, 8, "approve", "approved", "bob", 20),
    (3, 9, "reject", "rejected", "ann", 30),
]


@pytest.fixture
def old_database(database_url: str, database_kind: str) -> Iterator[Engine]:
    """A database at revision 0003 holding items as they were: one per queue."""
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    at = lambda minutes: _at(minutes, database_kind)  # noqa: E731
    with engine.begin() as connection:
        run = connection.execute
        run(
            sa.text(
                "INSERT INTO threads (thread_id, source, title, source_format, created_at, "
                "updated_at) VALUES (1, 'story', 'The bridge', 'api', :t, :t)"
            ),
            {"t": at(0)},
        )
        # (row id, comment id, version, previous row, superseded)
        rows = [(1, "c1", 1, None, False), (2, "c2", 1, None, False), (3, "c3", 1, None, True)]
        rows += [(4, "c3", 2, 3, False), (5, "c4", 1, None, False)]
        for row_id, comment_id, version, previous, superseded in rows:
            run(
                sa.text(
                    "INSERT INTO comments (id, thread_id, comment_id, version, author, depth, "
                    "position, text, text_sha256, scores, model_version, previous_id, "
                    "created_at, superseded_at) VALUES (:id, 1, :cid, :v, 'Jo', 0, :id, "
                    ":text, :sha, :scores, 'm1', :prev, :t, :gone)"
                ),
                {
                    "id": row_id,
                    "cid": comment_id,
                    "v": version,
                    "text": f"text of {comment_id} v{version}",
                    "sha": f"{row_id:064d}",
                    "scores": '{"hate": 0.9, "toxic": 0.8, "conspiracy": 0.1}',
                    "prev": previous,
                    "t": at(row_id),
                    "gone": at(5) if superseded else None,
                },
            )
        for item_id, row, queue, head, priority, p, status, version in ITEMS:
            run(
                sa.text(
                    "INSERT INTO items (item_id, comment_row_id, thread_id, queue, head, "
                    "priority, probability, reason, flags, status, version, model_version, "
                    "replaces_item_id, created_at, updated_at) VALUES (:id, :row, 1, :queue, "
                    ":head, :priority, :p, :reason, ',hate,toxic,', :status, :version, 'm1', "
                    ":replaces, :t, :t)"
                ),
                {
                    "id": item_id,
                    "row": row,
                    "queue": queue,
                    "head": head,
                    "priority": priority,
                    "p": p,
                    "reason": f"{queue} reason",
                    "status": status,
                    "version": version,
                    "replaces": 6 if item_id == 7 else None,
                    "t": at(item_id),
                },
            )
        for decision_id, item_id, action, after, moderator, minutes in DECISIONS:
            run(
                sa.text(
                    "INSERT INTO decisions (decision_id, item_id, item_version, action, "
                    "status_after, moderator, decided_at) VALUES (:id, :item, 1, :action, "
                    ":after, :who, :t)"
                ),
                {
                    "id": decision_id,
                    "item": item_id,
                    "action": action,
                    "after": after,
                    "who": moderator,
                    "t": at(minutes),
                },
            )
    yield engine
    engine.dispose()


def _decision_log(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.text(
                    "SELECT decision_id, item_id, item_version, action, status_after, labels, "
                    "reason, note, key_id, moderator, decided_at FROM decisions "
                    "ORDER BY decision_id"
                )
            )
        ]


def _items(engine: Engine) -> dict[int, tuple[int, str, int, float]]:
    with engine.connect() as connection:
        return {
            row.item_id: (row.comment_row_id, row.status, row.version, row.priority)
            for row in connection.execute(sa.text("SELECT * FROM items"))
        }


def _reasons(engine: Engine) -> dict[int, dict[str, tuple[Any, ...]]]:
    out: dict[int, dict[str, tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for row in connection.execute(sa.text("SELECT * FROM item_reasons")):
            out.setdefault(row.item_id, {})[row.queue] = (
                row.from_item_id,
                row.status,
                row.priority,
                row.probability,
            )
    return out


def test_items_become_one_case_per_comment_and_every_decision_stays(
    old_database: Engine, database_url: str
) -> None:
    engine = old_database
    log_before = _decision_log(engine)
    upgrade(database_url)

    assert _decision_log(engine) == log_before
    cases = _items(engine)
    # c1: the decided hate item survives; c2: the more urgent toxic one; c4: the one
    # decided last (the toxic rejection, after the hate approval); c3's edit is untouched.
    assert cases[1] == (1, "rejected", 2, 0.9)
    assert cases[2][1:3] == ("superseded", 2) and cases[3][1:3] == ("superseded", 2)
    assert cases[4] == (2, "open", 1, 0.5)
    assert cases[5][1:3] == ("superseded", 2)
    assert cases[6] == (3, "superseded", 2, 0.8) and cases[7] == (4, "open", 1, 0.85)
    assert cases[8][1:3] == ("superseded", 3)
    assert cases[9] == (5, "rejected", 2, 0.7)  # the case takes its reasons' top priority
    live = [row for row, status, _, _ in cases.values() if status != "superseded"]
    assert sorted(live) == [1, 2, 4, 5]

    reasons = _reasons(engine)
    assert set(reasons) == {1, 4, 6, 7, 9}
    assert reasons[1] == {
        "hate": (None, "rejected", 0.9, 0.9),
        "toxic": (2, "rejected", 0.5, 0.8),
        "reported": (3, "rejected", 0.6, 0.9),
    }
    assert reasons[4] == {
        "toxic": (None, "open", 0.5, 0.7),
        "uncertain": (5, "open", 0.3, 0.5),
    }
    assert reasons[9] == {"toxic": (None, "rejected", 0.45, 0.9), "hate": (8, "rejected", 0.7, 0.7)}
    assert reasons[6] == {"hate": (None, "superseded", 0.8, 0.8)}

    # The decisions of folded items are the case's history, and still train as made.
    assert [d["decision_id"] for d in history(engine, 9)] == [2, 3]
    assert [
        (r["decision_id"], r["queue"], r["hate"], r["toxic"]) for r in export_feedback(engine)
    ] == [
        (1, "hate", 1, None),
        (2, "hate", 0, None),
        (3, "toxic", None, 1),
    ]
    # A decided comment is gone from every queue; an open one shows once in each of its.
    assert open_count(engine) == {
        "hate": 1,
        "conspiracy": 0,
        "toxic": 1,
        "reported": 0,
        "uncertain": 1,
    }
    toxic = list_items(engine, Filters(queue="toxic")).items
    assert [(i["item_id"], i["comment"]["comment_id"]) for i in toxic] == [(4, "c2")]
    assert get_item(engine, 2)["folded_into"] == 1
    assert get_item(engine, 1)["folded_from"] == [
        {"item_id": 2, "queue": "toxic"},
        {"item_id": 3, "queue": "reported"},
    ]


def test_a_folded_item_points_the_moderator_to_its_case(
    old_database: Engine, database_url: str
) -> None:
    upgrade(database_url)
    key = SqlKeyStore(old_database).create(Role.moderator, "ann").key
    with pytest.raises(DecisionRefused, match="folded into item 4"):
        decide(old_database, 5, action="approve", item_version=2, key=key)


def test_upgrading_twice_changes_nothing(old_database: Engine, database_url: str) -> None:
    upgrade(database_url)
    before = (_items(old_database), _reasons(old_database), _decision_log(old_database))
    upgrade(database_url)
    assert (_items(old_database), _reasons(old_database), _decision_log(old_database)) == before

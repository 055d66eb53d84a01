"""The audit log: the database itself refuses to change or remove a decision (0003)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.policy import load_policy
from app.queue.ingest import Incoming, ThreadInfo, ingest_comments
from app.queue.keys import SqlKeyStore
from app.queue.review import decide, export_feedback, history
from app.queue.store import (
    DatabaseError,
    decisions,
    downgrade,
    items,
    make_engine,
    normalise_url,
    upgrade,
    write_transaction,
)
from tests.queue.test_ingest import THRESHOLDS, scores

if TYPE_CHECKING:
    from app.registry import LoadedModel

AUDIT = "decisions are an append-only audit log"
UPDATE_REFUSED = f"{AUDIT}: a decision cannot be updated; record a new decision instead"
DELETE_REFUSED = f"{AUDIT}: a decision cannot be deleted"
ITEM_DELETE_REFUSED = f"{AUDIT}: an item that has decisions cannot be deleted"
INFO = ThreadInfo(source="story-audit", source_format="api", title="Bridges")
# What migration 0003 creates, by database: (triggers, functions).
GUARDS = {
    "sqlite": (
        {
            "decisions_refuse_update",
            "decisions_refuse_delete",
            "decisions_refuse_replace",
            "items_refuse_delete_decided",
        },
        set(),
    ),
    "postgresql": (
        {
            "decisions_refuse_update_delete",
            "decisions_refuse_truncate",
            "items_refuse_delete_decided",
        },
        {"decisions_refuse_change", "items_refuse_delete_decided"},
    ),
}


@dataclass(frozen=True)
class Decided:
    """An item with two decisions (reject, then reopen) and an item with none."""

    item_id: int
    first_decision_id: int
    undecided_item_id: int
    key: ApiKey


def _decide_some(engine: Engine, model: LoadedModel) -> Decided:
    policy = load_policy(None, THRESHOLDS)
    key = SqlKeyStore(engine).create(Role.moderator, "ann").key
    [item_id] = ingest_comments(
        engine, model, policy, INFO, [Incoming("a", "vile", scores=scores(hate=0.9))]
    ).items_created
    [undecided] = ingest_comments(
        engine, model, policy, INFO, [Incoming("b", "you fool", scores=scores(toxic=0.7))]
    ).items_created
    first = decide(
        engine, item_id, action="reject", item_version=1, key=key, reason="slur", note="seen"
    )
    decide(engine, item_id, action="reopen", item_version=2, key=key)
    return Decided(item_id, first["decision_id"], undecided, key)


@pytest.fixture
def decided(engine: Engine, tiny_model: LoadedModel) -> Decided:
    return _decide_some(engine, tiny_model)


def log(engine: Engine) -> list[tuple[Any, ...]]:
    """Every decision row, every column, in order: what must never change."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(decisions).order_by(decisions.c.decision_id))
        return [tuple(row) for row in rows]


def guards(engine: Engine) -> tuple[set[str], set[str]]:
    """The triggers and trigger functions of the database (or the test's schema)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            names = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
            return set(names), set()
        triggers = connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
            "WHERE NOT tgisinternal AND relnamespace = current_schema()::regnamespace"
        ).scalars()
        functions = connection.exec_driver_sql(
            "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
        ).scalars()
        return set(triggers), set(functions)


def assert_refused(caught: pytest.ExceptionInfo[sa.exc.IntegrityError], message: str) -> None:
    """An integrity error, as for any constraint, whose first line is `message`."""
    assert str(caught.value.orig).splitlines()[0] == message
    if caught.value.orig is not None and hasattr(caught.value.orig, "sqlstate"):
        assert caught.value.orig.sqlstate == "23001"  # restrict_violation
    else:
        assert getattr(caught.value.orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_TRIGGER"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE decisions SET note = 'nothing to see here' WHERE decision_id = :id",
        "UPDATE decisions SET action = 'approve', status_after = 'approved' "
        "WHERE decision_id = :id",
        # Even writing back the same value is refused: the log is not edited, full stop.
        "UPDATE decisions SET moderator = moderator",
    ],
    ids=["note", "verdict", "same-value-every-row"],
)
def test_a_decision_cannot_be_updated(engine: Engine, decided: Decided, sql: str) -> None:
    before = log(engine)
    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as connection:
        connection.execute(sa.text(sql), {"id": decided.first_decision_id})
    assert_refused(caught, UPDATE_REFUSED)
    assert log(engine) == before


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM decisions WHERE decision_id = :id",
        "DELETE FROM decisions WHERE item_id = :item_id",
        # Without WHERE SQLite would truncate without looking at rows, were there no trigger.
        "DELETE FROM decisions",
    ],
    ids=["by-id", "by-item", "every-row"],
)
def test_a_decision_cannot_be_deleted(engine: Engine, decided: Decided, sql: str) -> None:
    before = log(engine)
    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as connection:
        connection.execute(
            sa.text(sql), {"id": decided.first_decision_id, "item_id": decided.item_id}
        )
    assert_refused(caught, DELETE_REFUSED)
    assert log(engine) == before


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE decisions",
        # The cascade reaches decisions through their foreign key, and its trigger with it.
        "TRUNCATE items CASCADE",
        "TRUNCATE threads, comments, items, decisions, reports CASCADE",
    ],
    ids=["decisions", "items-cascade", "everything"],
)
def test_the_log_cannot_be_truncated(
    database_kind: str, request: pytest.FixtureRequest, sql: str
) -> None:
    if database_kind != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE without WHERE is tested above")
    engine: Engine = request.getfixturevalue("engine")
    request.getfixturevalue("decided")
    before = log(engine)
    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as connection:
        connection.exec_driver_sql(sql)
    assert_refused(caught, f"{AUDIT}: the decisions table cannot be truncated")
    assert log(engine) == before


UPSERT_ON = (
    "INSERT INTO decisions (decision_id, item_id, item_version, action, status_after, "
    "moderator, decided_at) SELECT decision_id, item_id, item_version, 'approve', 'approved', "
    "'mallory', decided_at FROM decisions WHERE decision_id = :id ON CONFLICT ({}) "
    "DO UPDATE SET moderator = 'mallory', action = 'approve'"
)


@pytest.mark.parametrize(
    ("sql", "only_on"),
    [
        pytest.param(UPSERT_ON.format("decision_id"), None, id="upsert-on-id"),
        pytest.param(UPSERT_ON.format("item_id, item_version"), None, id="upsert-on-version"),
        # REPLACE deletes the row in the way without firing delete triggers: by id, ...
        pytest.param(
            "INSERT OR REPLACE INTO decisions SELECT decision_id, item_id, item_version, "
            "'approve', 'approved', NULL, NULL, NULL, NULL, 'mallory', decided_at, NULL "
            "FROM decisions WHERE decision_id = :id",
            "sqlite",
            id="replace-on-id",
        ),
        # ... or under a new id, by the unique (item_id, item_version).
        pytest.param(
            "REPLACE INTO decisions (item_id, item_version, action, status_after, moderator, "
            "decided_at) SELECT item_id, item_version, 'approve', 'approved', 'mallory', "
            "decided_at FROM decisions WHERE decision_id = :id",
            "sqlite",
            id="replace-on-version",
        ),
    ],
)
def test_a_decision_cannot_be_overwritten_by_an_insert(
    database_kind: str, request: pytest.FixtureRequest, sql: str, only_on: str | None
) -> None:
    if only_on is not None and database_kind != only_on:
        pytest.skip(f"{only_on} syntax")
    engine: Engine = request.getfixturevalue("engine")
    decided: Decided = request.getfixturevalue("decided")
    before = log(engine)
    with pytest.raises(sa.exc.IntegrityError, match=AUDIT), engine.begin() as connection:
        connection.execute(sa.text(sql), {"id": decided.first_decision_id})
    assert log(engine) == before


@pytest.fixture(params=["app", "bare"])
def any_client(
    request: pytest.FixtureRequest, engine: Engine, migrated_url: str
) -> Iterator[Engine]:
    """The app's engine, or one without its settings: SQLite foreign keys stay off there."""
    if request.param == "app":
        yield engine
        return
    bare = sa.create_engine(normalise_url(migrated_url))
    try:
        yield bare
    finally:
        bare.dispose()


def test_an_item_with_decisions_cannot_be_deleted(
    engine: Engine, any_client: Engine, decided: Decided
) -> None:
    before = log(engine)
    with pytest.raises(sa.exc.IntegrityError) as caught, any_client.begin() as connection:
        connection.execute(items.delete().where(items.c.item_id == decided.item_id))
    assert_refused(caught, ITEM_DELETE_REFUSED)
    assert log(engine) == before
    assert [d["decision_id"] for d in history(engine, decided.item_id)] == [r[0] for r in before]
    # Only decided items are kept: the guard is about the audit rows, not about items.
    with any_client.begin() as connection:
        gone = connection.execute(
            items.delete().where(items.c.item_id == decided.undecided_item_id)
        )
    assert gone.rowcount == 1


def test_the_app_sees_the_refusal_as_an_integrity_error_with_the_reason(
    engine: Engine, decided: Decided
) -> None:
    # Not a DatabaseError (503 "database unavailable"): the database is fine, the statement
    # is wrong, and retrying it would never help.
    with pytest.raises(sa.exc.IntegrityError) as caught, write_transaction(engine) as connection:
        connection.execute(
            decisions.update()
            .where(decisions.c.decision_id == decided.first_decision_id)
            .values(note="edited")
        )
    assert not isinstance(caught.value, DatabaseError)
    assert_refused(caught, UPDATE_REFUSED)
    # Appending goes on as before, and history and export read the whole log.
    decide(engine, decided.item_id, action="approve", item_version=3, key=decided.key)
    assert [d["action"] for d in history(engine, decided.item_id)] == [
        "reject",
        "reopen",
        "approve",
    ]
    assert [r["action"] for r in export_feedback(engine)] == ["reject", "reopen", "approve"]
    assert history(engine, decided.item_id)[0]["note"] == "seen"


def test_the_guards_come_with_0003_and_go_with_its_downgrade(
    database_url: str, database_kind: str, tiny_model: LoadedModel
) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert guards(engine) == GUARDS[database_kind]
        made = _decide_some(engine, tiny_model)
        edit = decisions.update().where(decisions.c.decision_id == made.first_decision_id)

        downgrade(database_url, "0002")
        assert guards(engine) == (set(), set())
        with engine.begin() as connection:
            connection.execute(edit.values(note="edited before 0003"))

        upgrade(database_url)
        assert guards(engine) == GUARDS[database_kind]
        before = log(engine)
        with pytest.raises(sa.exc.IntegrityError, match=AUDIT), engine.begin() as connection:
            connection.execute(edit.values(note="edited after 0003"))
        assert log(engine) == before
        assert history(engine, made.item_id)[0]["note"] == "edited before 0003"
    finally:
        engine.dispose()

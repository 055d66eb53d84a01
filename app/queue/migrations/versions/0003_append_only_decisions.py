"""Decisions are an append-only audit log, refused updates and deletes by the database itself.

The code never changes or removes a decision (an undo is a new `reopen` decision), but a
bug, a maintenance script or someone at a SQL prompt could. Triggers make the database
refuse, whoever the client is:

- UPDATE and DELETE of a decision row (PostgreSQL also TRUNCATE, which row triggers do not
  see, including `TRUNCATE items CASCADE`);
- on SQLite, `INSERT OR REPLACE` over an existing decision: REPLACE deletes the old row
  without firing delete triggers (unless `recursive_triggers` is on), so it would overwrite
  the log silently;
- deleting an item that has decisions. The foreign key has no ON DELETE CASCADE, so nothing
  cascades, but SQLite enforces it only on connections that turn `foreign_keys` on (the
  sqlite3 shell does not), and the audit rows would be left pointing at nothing, gone from
  history and export; the trigger refuses whatever the connection's settings.

Every refusal is an integrity error on both databases (SQLite's RAISE(ABORT) is
SQLITE_CONSTRAINT_TRIGGER; PostgreSQL's is SQLSTATE 23001 restrict_violation) whose message
starts "decisions are an append-only audit log".

A later migration that rebuilds `decisions` or `items` on SQLite (batch mode copies the
table and drops the old one) drops these triggers with it and must create them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX: Final = "decisions are an append-only audit log"
# One message per refused operation, the same on both databases.
UPDATE_REFUSED: Final = f"{PREFIX}: a decision cannot be updated; record a new decision instead"
DELETE_REFUSED: Final = f"{PREFIX}: a decision cannot be deleted"
TRUNCATE_REFUSED: Final = f"{PREFIX}: the decisions table cannot be truncated"
REPLACE_REFUSED: Final = (
    f"{PREFIX}: a decision with this decision_id or on this item version exists and "
    "cannot be replaced"
)
ITEM_DELETE_REFUSED: Final = f"{PREFIX}: an item that has decisions cannot be deleted"

SQLITE_TRIGGERS: Final = {
    "decisions_refuse_update": f"""
        CREATE TRIGGER decisions_refuse_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END
    """,
    "decisions_refuse_delete": f"""
        CREATE TRIGGER decisions_refuse_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED}'); END
    """,
    # An ordinary insert never matches: an automatic decision_id is -1 in a BEFORE trigger,
    # and a second decision on one item version is refused by the unique constraint anyway.
    "decisions_refuse_replace": f"""
        CREATE TRIGGER decisions_refuse_replace BEFORE INSERT ON decisions
        WHEN EXISTS (
            SELECT 1 FROM decisions
            WHERE decision_id = NEW.decision_id
               OR (item_id = NEW.item_id AND item_version = NEW.item_version)
        )
        BEGIN SELECT RAISE(ABORT, '{REPLACE_REFUSED}'); END
    """,
    "items_refuse_delete_decided": f"""
        CREATE TRIGGER items_refuse_delete_decided BEFORE DELETE ON items
        WHEN EXISTS (SELECT 1 FROM decisions WHERE item_id = OLD.item_id)
        BEGIN SELECT RAISE(ABORT, '{ITEM_DELETE_REFUSED}'); END
    """,
}

POSTGRES_UPGRADE: Final = (
    f"""
    CREATE FUNCTION decisions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION '{UPDATE_REFUSED}' USING
                ERRCODE = 'restrict_violation',
                DETAIL = format('decision %s', OLD.decision_id),
                HINT = 'an undo is a new decision (reopen), not an edit of an old one';
        ELSIF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '{DELETE_REFUSED}' USING
                ERRCODE = 'restrict_violation',
                DETAIL = format('decision %s', OLD.decision_id);
        END IF;
        RAISE EXCEPTION '{TRUNCATE_REFUSED}' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER decisions_refuse_update_delete BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_refuse_change()
    """,
    # Row triggers do not see TRUNCATE; a statement trigger does, also when it comes from
    # TRUNCATE ... CASCADE on a table decisions point to.
    """
    CREATE TRIGGER decisions_refuse_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION decisions_refuse_change()
    """,
    # The foreign key refuses this too, but with a message that does not say why; the trigger
    # runs first. `decisions` is looked up in the items' own schema, so the check does not
    # depend on the search_path of whoever deletes.
    f"""
    CREATE FUNCTION items_refuse_delete_decided() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        decided boolean;
    BEGIN
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM %I.decisions WHERE item_id = $1)', TG_TABLE_SCHEMA
        ) INTO decided USING OLD.item_id;
        IF decided THEN
            RAISE EXCEPTION '{ITEM_DELETE_REFUSED}' USING
                ERRCODE = 'restrict_violation',
                DETAIL = format('item %s', OLD.item_id);
        END IF;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE TRIGGER items_refuse_delete_decided BEFORE DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION items_refuse_delete_decided()
    """,
)

POSTGRES_DOWNGRADE: Final = (
    "DROP TRIGGER items_refuse_delete_decided ON items",
    "DROP FUNCTION items_refuse_delete_decided()",
    "DROP TRIGGER decisions_refuse_truncate ON decisions",
    "DROP TRIGGER decisions_refuse_update_delete ON decisions",
    "DROP FUNCTION decisions_refuse_change()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UPGRADE:
            op.execute(statement)
        return
    for statement in SQLITE_TRIGGERS.values():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWNGRADE:
            op.execute(statement)
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")

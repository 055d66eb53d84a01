"""One case per comment version: a queue item carries all its reasons.

Before this revision a comment flagged hate and toxic (and reported) was one item per queue,
each decided on its own: rejecting it in the hate queue left it open in the toxic queue.
From here on an item is a case, one per comment version, with a row of `item_reasons` per
queue it appears in; one decision resolves it everywhere.

The conversion keeps every decision and every audit row as it is (decisions are
append-only; migration 0003's triggers refuse any change to them):

- each item's own reason becomes a row of `item_reasons`;
- where one comment version had several live (not superseded) items, one survives as the
  case: the one decided last, else the most urgent. It gets the others' reasons (each with
  `from_item_id` naming the item it came from) and the highest priority. The others
  become `superseded` (version + 1), their decisions still theirs, reachable from the case
  through `from_item_id`, and still exported for training with the queue they were made in.

The survivor keeps its own `queue`, `head`, `probability` and `reason` (the old one-item-
per-queue constraint still holds and would refuse giving it another item's queue).

`decisions.queue` records, from now on, which queue a decision was made from (None before:
the item's own queue said it). `comments.author` is indexed for the author's history, and
`comments.url` keeps the comment's own address (None for comments stored before).

Downgrading drops what this revision added; the folded items stay superseded (their old
status is in their decisions).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
QUEUES = "queue IN ('hate', 'conspiracy', 'toxic', 'reported', 'uncertain')"
STATUSES = "status IN ('open', 'approved', 'rejected', 'escalated', 'superseded')"
LIVE = "status <> 'superseded'"

# Only the columns the conversion reads and writes, as they were on the day it was written.
_items = sa.table(
    "items",
    sa.column("item_id", sa.Integer),
    sa.column("comment_row_id", sa.Integer),
    sa.column("queue", sa.String),
    sa.column("head", sa.String),
    sa.column("priority", sa.Float),
    sa.column("probability", sa.Float),
    sa.column("reason", sa.Text),
    sa.column("status", sa.String),
    sa.column("version", sa.Integer),
    sa.column("created_at", TIME),
    sa.column("updated_at", TIME),
)
_decisions = sa.table(
    "decisions", sa.column("decision_id", sa.Integer), sa.column("item_id", sa.Integer)
)
_reasons = sa.table(
    "item_reasons",
    sa.column("item_id", sa.Integer),
    sa.column("queue", sa.String),
    sa.column("head", sa.String),
    sa.column("priority", sa.Float),
    sa.column("probability", sa.Float),
    sa.column("reason", sa.Text),
    sa.column("status", sa.String),
    sa.column("from_item_id", sa.Integer),
    sa.column("created_at", TIME),
)


def upgrade() -> None:
    op.create_table(
        "item_reasons",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("head", sa.String(16), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("from_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint(QUEUES, name=op.f("ck_item_reasons_queue")),
        sa.CheckConstraint(STATUSES, name=op.f("ck_item_reasons_status")),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.item_id"],
            name=op.f("fk_item_reasons_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_item_id"], ["items.item_id"], name=op.f("fk_item_reasons_from_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", "queue", name=op.f("pk_item_reasons")),
    )
    op.create_index(
        op.f("ix_item_reasons_queue_status_priority_item_id"),
        "item_reasons",
        ["queue", "status", "priority", "item_id"],
    )
    op.create_index(op.f("ix_item_reasons_from_item_id"), "item_reasons", ["from_item_id"])
    # A plain ADD COLUMN: on SQLite it keeps the table, and so migration 0003's triggers.
    op.add_column("decisions", sa.Column("queue", sa.String(16), nullable=True))
    op.create_index(op.f("ix_comments_author"), "comments", ["author"])
    op.add_column("comments", sa.Column("url", sa.Text(), nullable=True))
    _fold_items(op.get_bind())
    op.create_index(
        "uq_items_live_comment_row_id",
        "items",
        ["comment_row_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def _fold_items(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as the store's UtcDateTime writes it
    last_decision: dict[int, int] = {
        int(item_id): int(last)
        for item_id, last in connection.execute(
            sa.select(_decisions.c.item_id, sa.func.max(_decisions.c.decision_id)).group_by(
                _decisions.c.item_id
            )
        )
    }
    by_comment: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(sa.select(_items).order_by(_items.c.item_id)):
        by_comment[row.comment_row_id].append(row)

    reasons: list[dict[str, Any]] = []
    folded: list[int] = []
    raised: list[tuple[int, float]] = []
    for group in by_comment.values():
        live = [row for row in group if row.status != "superseded"]
        survivor = _survivor(live, last_decision) if len(live) > 1 else None
        for row in group:
            into = row if survivor is None or row not in live else survivor
            reasons.append(
                {
                    "item_id": into.item_id,
                    "queue": row.queue,
                    "head": row.head,
                    "priority": row.priority,
                    "probability": row.probability,
                    "reason": row.reason,
                    "status": into.status,
                    "from_item_id": None if into is row else row.item_id,
                    "created_at": row.created_at,
                }
            )
            if into is not row:
                folded.append(row.item_id)
        if survivor is not None:
            top = max(row.priority for row in live)
            if top != survivor.priority:
                raised.append((survivor.item_id, top))
    if folded:
        connection.execute(
            _items.update()
            .where(_items.c.item_id.in_(folded))
            .values(status="superseded", version=_items.c.version + 1, updated_at=now)
        )
    for item_id, priority in raised:
        connection.execute(
            _items.update().where(_items.c.item_id == item_id).values(priority=priority)
        )
    if reasons:
        connection.execute(_reasons.insert(), reasons)


def _survivor(live: Sequence[Any], last_decision: dict[int, int]) -> Any:
    decided = [row for row in live if row.item_id in last_decision]
    if decided:
        return max(decided, key=lambda row: last_decision[row.item_id])
    return max(live, key=lambda row: (row.priority, -row.item_id))


def downgrade() -> None:
    op.drop_index("uq_items_live_comment_row_id", table_name="items")
    op.drop_column("comments", "url")
    op.drop_index(op.f("ix_comments_author"), table_name="comments")
    # ALTER TABLE … DROP COLUMN, not a batch rebuild, so 0003's triggers stay.
    op.drop_column("decisions", "queue")
    op.drop_index(op.f("ix_item_reasons_from_item_id"), table_name="item_reasons")
    op.drop_index(op.f("ix_item_reasons_queue_status_priority_item_id"), table_name="item_reasons")
    op.drop_table("item_reasons")

"""The review queue: threads, comment versions, queue items, decisions, reports, sessions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # As in 0001, everything is spelled out here so that this migration keeps creating what
    # it created on the day it was written, whatever app.queue.store becomes.
    op.create_table(
        "threads",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("article_text", sa.Text(), nullable=True),
        sa.Column("source_format", sa.String(32), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("pk_threads")),
        sa.UniqueConstraint("source", name=op.f("uq_threads_source")),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parent_comment_id", sa.String(200), nullable=True),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("posted_at", TIME, nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("scores", JSON, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("superseded_at", TIME, nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_comments_version")),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.thread_id"], name=op.f("fk_comments_thread_id_threads")
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["comments.id"], name=op.f("fk_comments_previous_id_comments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint(
            "thread_id",
            "comment_id",
            "version",
            name=op.f("uq_comments_thread_id_comment_id_version"),
        ),
    )
    op.create_index(
        op.f("ix_comments_thread_id_superseded_at_position"),
        "comments",
        ["thread_id", "superseded_at", "position"],
    )
    op.create_table(
        "items",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("comment_row_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("head", sa.String(16), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flags", sa.String(64), nullable=False),
        sa.Column("hate_target", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("replaces_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.CheckConstraint(
            "queue IN ('hate', 'conspiracy', 'toxic', 'reported', 'uncertain')",
            name=op.f("ck_items_queue"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'approved', 'rejected', 'escalated', 'superseded')",
            name=op.f("ck_items_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_items_version")),
        sa.ForeignKeyConstraint(
            ["comment_row_id"], ["comments.id"], name=op.f("fk_items_comment_row_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.thread_id"], name=op.f("fk_items_thread_id_threads")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_item_id"], ["items.item_id"], name=op.f("fk_items_replaces_item_id_items")
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_items")),
        sa.UniqueConstraint("comment_row_id", "queue", name=op.f("uq_items_comment_row_id_queue")),
    )
    op.create_index(
        op.f("ix_items_queue_status_priority_item_id"),
        "items",
        ["queue", "status", "priority", "item_id"],
    )
    op.create_index(
        op.f("ix_items_status_priority_item_id"), "items", ["status", "priority", "item_id"]
    )
    op.create_index(op.f("ix_items_thread_id"), "items", ["thread_id"])
    op.create_index(op.f("ix_items_created_at"), "items", ["created_at"])
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status_after", sa.String(16), nullable=False),
        sa.Column("labels", JSON, nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("key_id", sa.String(12), nullable=True),
        sa.Column("moderator", sa.String(100), nullable=False),
        sa.Column("decided_at", TIME, nullable=False),
        sa.CheckConstraint(
            "action IN ('approve', 'reject', 'escalate', 'label', 'reopen')",
            name=op.f("ck_decisions_action"),
        ),
        sa.CheckConstraint(
            "status_after IN ('open', 'approved', 'rejected', 'escalated', 'superseded')",
            name=op.f("ck_decisions_status_after"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.item_id"], name=op.f("fk_decisions_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name=op.f("fk_decisions_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decisions")),
        sa.UniqueConstraint(
            "item_id", "item_version", name=op.f("uq_decisions_item_id_item_version")
        ),
    )
    op.create_index(op.f("ix_decisions_decided_at"), "decisions", ["decided_at"])
    op.create_index(op.f("ix_decisions_moderator"), "decisions", ["moderator"])
    op.create_table(
        "reports",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("comment_row_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("reporter", sa.String(200), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_row_id"], ["comments.id"], name=op.f("fk_reports_comment_row_id_comments")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_reports")),
    )
    op.create_index(op.f("ix_reports_comment_row_id"), "reports", ["comment_row_id"])
    op.create_table(
        "review_sessions",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(12), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name=op.f("fk_review_sessions_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_review_sessions")),
    )
    op.create_index(op.f("ix_review_sessions_expires_at"), "review_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_sessions_expires_at"), table_name="review_sessions")
    op.drop_table("review_sessions")
    op.drop_index(op.f("ix_reports_comment_row_id"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_decisions_moderator"), table_name="decisions")
    op.drop_index(op.f("ix_decisions_decided_at"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_items_created_at"), table_name="items")
    op.drop_index(op.f("ix_items_thread_id"), table_name="items")
    op.drop_index(op.f("ix_items_status_priority_item_id"), table_name="items")
    op.drop_index(op.f("ix_items_queue_status_priority_item_id"), table_name="items")
    op.drop_table("items")
    op.drop_index(op.f("ix_comments_thread_id_superseded_at_position"), table_name="comments")
    op.drop_table("comments")
    op.drop_table("threads")

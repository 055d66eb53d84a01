"""Who wrote what: an author's history on the site, and the threads with open cases (the
review page's author card and thread filter)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.queue.excerpt import cut_at_word, excerpt_text
from app.queue.store import comments, database_errors, items, threads

AUTHOR_RECENT: Final = 10


def author_history(engine: Engine, author: str, *, recent: int = AUTHOR_RECENT) -> dict[str, Any]:
    """What the site knows of one author (by name, as pages show it), across threads.

    Their comments (current versions), how many went to review and how those were decided,
    the share rejected of those decided, when they were first seen, and their latest
    comments with each one's case.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    # Exactly as stored, so the lookup is one range of the author index, however big the site.
    by_author = comments.c.author == author.strip()
    current = comments.c.superseded_at.is_(None)
    with database_errors(engine), engine.connect() as connection:
        totals = connection.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(comments.c.thread_id)),
                sa.func.min(sa.func.coalesce(comments.c.posted_at, comments.c.created_at)),
            ).where(by_author, current)
        ).one()
        statuses: dict[str, int] = dict(
            connection.execute(
                sa.select(items.c.status, sa.func.count())
                .join(comments, comments.c.id == items.c.comment_row_id)
                .where(by_author, items.c.status != "superseded")
                .group_by(items.c.status)
            ).all()
        )
        latest = connection.execute(
            sa.select(
                comments.c.id,
                comments.c.comment_id,
                comments.c.text,
                comments.c.posted_at,
                comments.c.created_at,
                threads.c.thread_id,
                threads.c.title,
                threads.c.source,
            )
            .join(threads, threads.c.thread_id == comments.c.thread_id)
            .where(by_author, current)
            .order_by(comments.c.id.desc())
            .limit(recent)
        ).all()
        cases = {
            row.comment_row_id: row
            for row in connection.execute(
                sa.select(items.c.item_id, items.c.comment_row_id, items.c.status).where(
                    items.c.comment_row_id.in_([row.id for row in latest]),
                    items.c.status != "superseded",
                )
            )
        }
    decided = {s: int(statuses.get(s, 0)) for s in ("approved", "rejected", "escalated")}
    judged = decided["approved"] + decided["rejected"]
    first_seen = totals[2]
    return {
        "author": author,
        "comments": int(totals[0]),
        "threads": int(totals[1]),
        "first_seen": None if first_seen is None else _aware(first_seen).isoformat(),
        "cases": sum(int(v) for v in statuses.values()),
        "open": int(statuses.get("open", 0)),
        **decided,
        "rejection_rate": round(decided["rejected"] / judged, 4) if judged else None,
        "recent": [
            {
                "comment_id": row.comment_id,
                "thread": {"thread_id": row.thread_id, "title": row.title, "source": row.source},
                "posted_at": None if row.posted_at is None else _aware(row.posted_at).isoformat(),
                "excerpt": excerpt_text(row.text, [(0, cut_at_word(row.text, 0, 160))]),
                "item_id": None if row.id not in cases else cases[row.id].item_id,
                "status": None if row.id not in cases else cases[row.id].status,
            }
            for row in latest
        ],
    }


def _aware(value: datetime) -> datetime:
    # min() over a UtcDateTime column may come back as the driver gives it: naive on SQLite.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def threads_with_open(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """Threads that have open cases, most open first (the review page's thread filter).

    Raises:
        DatabaseError: the database cannot be reached.
    """
    count = sa.func.count().label("open")
    with database_errors(engine), engine.connect() as connection:
        rows = connection.execute(
            sa.select(threads.c.thread_id, threads.c.title, threads.c.source, count)
            .join(items, items.c.thread_id == threads.c.thread_id)
            .where(items.c.status == "open")
            .group_by(threads.c.thread_id, threads.c.title, threads.c.source)
            .order_by(count.desc(), threads.c.thread_id)
            .limit(limit)
        ).all()
    return [
        {"thread_id": r.thread_id, "title": r.title, "source": r.source, "open": int(r.open)}
        for r in rows
    ]

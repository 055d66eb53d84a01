"""Finding cases: one queue's list, search, an item's place in its queue, an author's history.

A case (an `items` row) appears in every queue it has a reason for (`item_reasons`); in a
queue's list it is ordered by that reason's priority, so the same comment can be first in
the hate queue and tenth in the toxic one. Without a queue the case's own priority (its
most urgent reason) orders it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.errors import AppError
from app.labels import BINARY_HEADS, HATE_TARGETS
from app.queue.excerpt import excerpt, excerpt_windows
from app.queue.store import (
    ITEM_STATUSES,
    QUEUE_NAMES,
    comments,
    database_errors,
    item_reasons,
    items,
    threads,
)

MAX_PAGE: Final = 200
Order = Literal["priority", "newest", "oldest"]
# The longest search string: a LIKE over comment text costs a scan, so keep it a phrase.
SEARCH_MAX_CHARS: Final = 200
PREVIEW_CHARS: Final = 280
OPEN_COUNT_CAP: Final = 1_000


class InvalidFilter(AppError):
    """A list filter with a value the queue does not know."""

    status_code = 422
    code = "invalid_input"


class InvalidCursor(AppError):
    """A pagination cursor this server did not hand out (or for another ordering)."""

    status_code = 422
    code = "invalid_cursor"


@dataclass(frozen=True, slots=True)
class Filters:
    """What `list_items` selects; every field optional."""

    queue: str | None = None
    status: str | None = "open"
    label: str | None = None
    target: str | None = None
    min_probability: float | None = None
    thread_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Words the comment's text contains (case-insensitive), and its author's exact name.
    text: str | None = None
    author: str | None = None


@dataclass
class Page:
    """One page of items and the cursor of the next (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


# --- one page of a queue -------------------------------------------------------------------

# A cursor is the position after the last item of a page, in its order: "n<id>" (newest),
# "o<id>" (oldest) or "p<id>_<priority>". Any string of this form is a position, so the
# API's spec can state the whole rule as this pattern; the cursor, not `order`, then says
# which order the listing continues in.
CURSOR_PATTERN: Final = (
    r"^(?:[no][1-9][0-9]{0,9}"
    r"|p[1-9][0-9]{0,9}_-?[0-9]{1,20}(?:\.[0-9]{1,20})?(?:e[-+]?[0-9]{1,3})?)$"
)
_CURSOR_RE: Final = re.compile(CURSOR_PATTERN)
_CURSOR_ORDERS: Final[dict[str, Order]] = {"n": "newest", "o": "oldest", "p": "priority"}


def _encode_cursor(order: Order, row: Any) -> str:
    if order == "priority":
        # repr keeps every bit of the float, so the next page starts exactly after this row.
        return f"p{row.item_id}_{float(row.priority_exact)!r}"
    return f"{order[0]}{row.item_id}"


def _decode_cursor(cursor: str) -> tuple[Order, int, float | None]:
    if not _CURSOR_RE.match(cursor):
        raise InvalidCursor(
            "cursor is not one this server hands out: pass a page's next_cursor as it is",
            field="cursor",
        )
    order = _CURSOR_ORDERS[cursor[0]]
    item_id, _, priority = cursor[1:].partition("_")
    return order, int(item_id), float(priority) if priority else None


def check_filters(filters: Filters) -> None:
    """Refuse filter values the queue does not know.

    Raises:
        InvalidFilter: a filter names an unknown queue, status, label or target, or a
            search string is empty or too long.
    """
    known: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
        ("queue", filters.queue, QUEUE_NAMES),
        ("status", filters.status, ITEM_STATUSES),
        ("label", filters.label, BINARY_HEADS),
        ("target", filters.target, HATE_TARGETS),
    )
    for name, value, values in known:
        if value is not None and value not in values:
            raise InvalidFilter(
                f"{name} must be one of {', '.join(values)}, not {value!r}", field=name
            )
    for name, value in (("q", filters.text), ("author", filters.author)):
        if value is None:
            continue
        if not value.strip():
            raise InvalidFilter(f"{name} must not be blank", field=name)
        if "\x00" in value:
            raise InvalidFilter(f"{name} must not contain NUL characters", field=name)
        if len(value) > SEARCH_MAX_CHARS:
            raise InvalidFilter(
                f"{name} is {len(value)} characters, at most {SEARCH_MAX_CHARS} are allowed",
                field=name,
            )


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def listing_columns() -> list[Any]:
    """The columns `summary` reads, but the listed reason's (`r_*`)."""
    return [
        items.c.item_id,
        items.c.flags,
        items.c.hate_target,
        items.c.status,
        items.c.version,
        items.c.model_version,
        items.c.replaces_item_id,
        items.c.created_at,
        items.c.updated_at,
        items.c.thread_id,
        threads.c.source,
        threads.c.title,
        comments.c.id.label("comment_row_id"),
        comments.c.comment_id,
        comments.c.version.label("comment_version"),
        comments.c.author,
        comments.c.posted_at,
        comments.c.text,
        comments.c.scores,
        comments.c.url.label("comment_url"),
    ]


def _select(queue: str | None) -> tuple[Any, Any, Any, Any]:
    """The listing's query and its ordering columns (priority, status) for `queue`."""
    if queue is None:
        own = (items.c.queue, items.c.head, items.c.priority, items.c.probability, items.c.reason)
        query = sa.select(
            *listing_columns(),
            *(c.label(f"r_{c.name}") for c in own),
            items.c.priority.label("priority_exact"),
        )
        query = query.select_from(items)
        return query, items.c.priority, items.c.status, items.c.item_id
    reason_cols = (
        item_reasons.c.queue,
        item_reasons.c.head,
        item_reasons.c.priority,
        item_reasons.c.probability,
        item_reasons.c.reason,
    )
    query = (
        sa.select(
            *listing_columns(),
            *(c.label(f"r_{c.name}") for c in reason_cols),
            item_reasons.c.priority.label("priority_exact"),
        )
        .select_from(item_reasons)
        .join(items, items.c.item_id == item_reasons.c.item_id)
        .where(item_reasons.c.queue == queue)
    )
    return query, item_reasons.c.priority, item_reasons.c.status, item_reasons.c.item_id


def list_items(
    engine: Engine,
    filters: Filters,
    *,
    order: Order = "priority",
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """A page of cases, most urgent first (or newest/oldest), with a cursor for the next.

    The order is total (ties broken by item id, newest first), so a cursor never skips or
    repeats an item even while new items arrive. A cursor continues the listing it came
    from, in that listing's order, whatever `order` says.

    Raises:
        InvalidFilter: a filter names an unknown queue, status, label or target.
        InvalidCursor: `cursor` is not of the form this server hands out.
        DatabaseError: the database cannot be reached.
    """
    check_filters(filters)
    limit = max(1, min(limit, MAX_PAGE))
    query, priority, status, item_id = _select(filters.queue)
    query = query.join(comments, comments.c.id == items.c.comment_row_id).join(
        threads, threads.c.thread_id == items.c.thread_id
    )
    if filters.status is not None:
        query = query.where(status == filters.status)
    if filters.label is not None:
        query = query.where(items.c.flags.like(f"%,{filters.label},%"))
    if filters.target is not None:
        query = query.where(items.c.hate_target == filters.target)
    if filters.min_probability is not None:
        if filters.queue is None:
            # Any of the case's reasons: a comment hate .7 and toxic .96 is "over .9".
            query = query.where(
                sa.exists().where(
                    item_reasons.c.item_id == items.c.item_id,
                    item_reasons.c.probability >= filters.min_probability,
                )
            )
        else:
            query = query.where(item_reasons.c.probability >= filters.min_probability)
    if filters.thread_id is not None:
        query = query.where(items.c.thread_id == filters.thread_id)
    if filters.since is not None:
        query = query.where(items.c.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(items.c.created_at < filters.until)
    if filters.text is not None:
        words = _like_escaped(filters.text.strip())
        query = query.where(comments.c.text.ilike(f"%{words}%", escape="\\"))
    if filters.author is not None:
        query = query.where(comments.c.author == filters.author.strip())
    if cursor is not None:
        order, after_id, after_priority = _decode_cursor(cursor)
        if order == "priority":
            # A row-value comparison, so the index on (…, priority, item_id) gives the range.
            query = query.where(sa.tuple_(priority, item_id) < (after_priority, after_id))
        elif order == "newest":
            query = query.where(item_id < after_id)
        else:
            query = query.where(item_id > after_id)
    if order == "priority":
        # Both descending: one backward scan of the index, no sort, however long the queue.
        # Among equal priorities the newer item comes first.
        query = query.order_by(priority.desc(), item_id.desc())
    elif order == "newest":
        query = query.order_by(item_id.desc())
    else:
        query = query.order_by(item_id.asc())
    with database_errors(engine), engine.connect() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        reasons = case_reasons(connection, [row.item_id for row in rows])
    page = [summary(row, reasons.get(row.item_id, [])) for row in rows]
    next_cursor = _encode_cursor(order, rows[-1]) if more and rows else None
    return Page(page, next_cursor)


def cases(engine: Engine, item_ids: Sequence[int], *, queue: str | None) -> list[dict[str, Any]]:
    """The summaries of the cases named (as listed in `queue`), in the order given; ids
    that name no case are left out.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    wanted = list(dict.fromkeys(item_ids))[:MAX_PAGE]
    query, _, _, item_id = _select(queue)
    if queue is None:
        query = query.where(items.c.item_id.in_(wanted))
    else:
        query = query.where(item_id.in_(wanted))
    query = query.join(comments, comments.c.id == items.c.comment_row_id).join(
        threads, threads.c.thread_id == items.c.thread_id
    )
    with database_errors(engine), engine.connect() as connection:
        rows = {row.item_id: row for row in connection.execute(query)}
        missing = [i for i in wanted if i not in rows]
        if queue is not None and missing:
            # Cases not in this queue are shown by their own most urgent reason.
            own, _, _, _ = _select(None)
            own = (
                own.where(items.c.item_id.in_(missing))
                .join(comments, comments.c.id == items.c.comment_row_id)
                .join(threads, threads.c.thread_id == items.c.thread_id)
            )
            rows.update({row.item_id: row for row in connection.execute(own)})
        reasons = case_reasons(connection, list(rows))
    return [summary(rows[i], reasons.get(i, [])) for i in wanted if i in rows]


def case_reasons(
    connection: sa.Connection, item_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Every reason of each case, most urgent first."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not item_ids:
        return out
    for row in connection.execute(
        sa.select(item_reasons)
        .where(item_reasons.c.item_id.in_(list(item_ids)))
        .order_by(item_reasons.c.item_id, item_reasons.c.priority.desc(), item_reasons.c.queue)
    ):
        out.setdefault(row.item_id, []).append(
            {
                "queue": row.queue,
                "head": row.head,
                "probability": _rounded(row.probability),
                "priority": round(float(row.priority), 4),
                "reason": row.reason,
            }
        )
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def summary(row: Any, reasons: list[dict[str, Any]], *, full: bool = False) -> dict[str, Any]:
    """A case as the list (or, `full`, the item view) gives it.

    `queue`, `head`, `priority`, `probability` and `reason` are those of the queue listed
    (the case's most urgent reason when no queue is); `reasons` lists them all.
    """
    text: str = row.text
    scores = row.scores if isinstance(row.scores, Mapping) else {}
    flags = [f for f in row.flags.split(",") if f]
    heads = [row.r_head] if row.r_head in BINARY_HEADS else flags
    windows = excerpt_windows(text, scores.get("evidence"), heads)
    shown, marks = excerpt(text, windows, scores.get("evidence"), BINARY_HEADS)
    return {
        "item_id": row.item_id,
        "queue": row.r_queue,
        "head": row.r_head,
        "priority": round(float(row.r_priority), 4),
        "probability": _rounded(row.r_probability),
        "reason": row.r_reason,
        "reasons": reasons,
        "flags": flags,
        "hate_target": row.hate_target,
        "status": row.status,
        "version": row.version,
        "model_version": row.model_version,
        "replaces_item_id": row.replaces_item_id,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "thread": {"thread_id": row.thread_id, "source": row.source, "title": row.title},
        "comment": {
            "comment_id": row.comment_id,
            "version": row.comment_version,
            "author": row.author,
            "posted_at": None if row.posted_at is None else row.posted_at.isoformat(),
            "text": (text if full or len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"),
            "url": row.comment_url,
            # The sentences holding the evidence (the whole text when it is short), and the
            # evidence words in it as offsets into this string.
            "excerpt": shown,
            "excerpt_evidence": marks,
        },
    }


# --- counts and neighbours for the review page ----------------------------------------------


def open_count(
    engine: Engine, queues: Sequence[str] = QUEUE_NAMES, *, cap: int = OPEN_COUNT_CAP
) -> dict[str, int]:
    """Open cases per queue, counted up to `cap` (for the review page's tabs).

    Counting stops at `cap` so the tabs cost a few index reads on every page, whatever the
    backlog; the page shows "1000+".

    Raises:
        DatabaseError: the database cannot be reached.
    """
    out: dict[str, int] = {}
    with database_errors(engine), engine.connect() as connection:
        for queue in queues:
            head = (
                sa.select(item_reasons.c.item_id)
                .where(item_reasons.c.queue == queue, item_reasons.c.status == "open")
                .limit(cap)
                .subquery()
            )
            out[queue] = int(
                connection.execute(sa.select(sa.func.count()).select_from(head)).scalar_one()
            )
    return out


# Where a case sits in a queue, in the order `list_items` shows: priority, then newest.
_URGENT_FIRST = (item_reasons.c.priority.desc(), item_reasons.c.item_id.desc())


def first_item(engine: Engine, queue: str, status: str | None) -> int | None:
    """The most urgent case of `queue` (in `status`, when given), None when there is none.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    query = sa.select(item_reasons.c.item_id).where(item_reasons.c.queue == queue)
    if status is not None:
        query = query.where(item_reasons.c.status == status)
    with database_errors(engine), engine.connect() as connection:
        found: int | None = connection.execute(query.order_by(*_URGENT_FIRST).limit(1)).scalar()
    return found


def _here(connection: sa.Connection, item_id: int, queue: str) -> Any:
    return connection.execute(
        sa.select(item_reasons.c.priority, item_reasons.c.status).where(
            item_reasons.c.item_id == item_id, item_reasons.c.queue == queue
        )
    ).first()


def neighbour(
    engine: Engine, item_id: int, queue: str, status: str | None, step: int
) -> int | None:
    """The case after (`step` 1) or before (-1) `item_id` in `queue`, None at either end.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        here = _here(connection, item_id, queue)
        if here is None:
            return None
        query = sa.select(item_reasons.c.item_id).where(item_reasons.c.queue == queue)
        if status is not None:
            query = query.where(item_reasons.c.status == status)
        key = sa.tuple_(item_reasons.c.priority, item_reasons.c.item_id)
        if step > 0:
            query = query.where(key < (here.priority, item_id)).order_by(*_URGENT_FIRST)
        else:
            query = query.where(key > (here.priority, item_id)).order_by(
                item_reasons.c.priority.asc(), item_reasons.c.item_id.asc()
            )
        found: int | None = connection.execute(query.limit(1)).scalar()
    return found


def position(
    engine: Engine, item_id: int, queue: str, status: str | None
) -> tuple[int | None, int]:
    """The case's place in `queue` (1-based; None when not in it or not in `status`) and
    the queue's count.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        here = _here(connection, item_id, queue)
        where = [item_reasons.c.queue == queue]
        if status is not None:
            where.append(item_reasons.c.status == status)
        total = connection.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
        if here is None or (status is not None and here.status != status):
            return None, int(total)
        ahead = connection.execute(
            sa.select(sa.func.count()).where(
                *where,
                sa.tuple_(item_reasons.c.priority, item_reasons.c.item_id)
                > (here.priority, item_id),
            )
        ).scalar_one()
    return int(ahead) + 1, int(total)

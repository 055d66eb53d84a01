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
from datetime import UTC, datetime
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.errors import AppError
from app.labels import HATE_TARGETS
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
BINARY_HEADS: Final = ("hate", "toxic", "conspiracy")
Order = Literal["priority", "newest", "oldest"]
# The longest search string: a LIKE over comment text costs a scan, so keep it a phrase.
SEARCH_MAX_CHARS: Final = 200
# How much of a comment the list shows: whole sentences with evidence, up to about this.
EXCERPT_CHARS: Final = 360
PREVIEW_CHARS: Final = 280
AUTHOR_RECENT: Final = 10
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


# --- the excerpt: the sentences a decision needs ------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def _sentences(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            out.append((start, match.start()))
        start = match.end()
    if start < len(text):
        out.append((start, len(text)))
    return out or [(0, len(text))]


def _spans(evidence: Any, heads: Sequence[str], length: int) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    if not isinstance(evidence, Mapping):
        return out
    for head in heads:
        entries = evidence.get(head)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            start, end, weight = entry.get("start"), entry.get("end"), entry.get("weight", 0.0)
            if isinstance(start, bool) or not isinstance(start, int) or not isinstance(end, int):
                continue
            if 0 <= start < end <= length:
                out.append((start, end, float(weight) if isinstance(weight, int | float) else 0.0))
    return out


def excerpt_windows(
    text: str, evidence: Any, heads: Sequence[str], limit: int = EXCERPT_CHARS
) -> list[tuple[int, int]]:
    """The parts of `text` a list shows: whole sentences holding evidence for `heads`.

    Sentences are taken by their strongest evidence word until about `limit` characters,
    then shown in text order; a sentence longer than the limit is cut around its strongest
    word. With no evidence the text's opening is shown. Offsets index `text`.
    """
    if len(text) <= limit:
        return [(0, len(text))]
    spans = _spans(evidence, heads, len(text)) or _spans(evidence, BINARY_HEADS, len(text))
    if not spans:
        return [(0, _cut_at_word(text, 0, limit))]
    sentences = _sentences(text)
    weight_of: dict[tuple[int, int], tuple[float, int]] = {}
    for start, _end, weight in spans:
        for sentence in sentences:
            if sentence[0] <= start < sentence[1]:
                best = weight_of.get(sentence, (-1.0, start))
                if weight > best[0]:
                    weight_of[sentence] = (weight, start)
                break
    chosen: list[tuple[int, int]] = []
    used = 0
    for sentence, (_, strongest) in sorted(weight_of.items(), key=lambda kv: -kv[1][0]):
        size = sentence[1] - sentence[0]
        if used + size <= limit:
            chosen.append(sentence)
            used += size
        elif not chosen:
            # One long sentence: a window of `limit` characters around its strongest word.
            left = max(sentence[0], min(strongest - limit // 3, sentence[1] - limit))
            left = _start_at_word(text, left, sentence[0])
            chosen.append((left, _cut_at_word(text, left, limit, sentence[1])))
            break
        if used >= limit:
            break
    return sorted(chosen)


def _start_at_word(text: str, start: int, floor: int) -> int:
    if start <= floor:
        return floor
    space = text.find(" ", start)
    return start if space < 0 or space - start > 20 else space + 1


def _cut_at_word(text: str, start: int, limit: int, ceiling: int | None = None) -> int:
    end = min(start + limit, len(text) if ceiling is None else ceiling)
    if end >= len(text) or (ceiling is not None and end >= ceiling):
        return end
    space = text.rfind(" ", start, end)
    return space if space > start + limit // 2 else end


def excerpt_text(text: str, windows: Sequence[tuple[int, int]]) -> str:
    """The windows joined with "…" where text was left out."""
    return excerpt(text, windows, None, ())[0]


def excerpt(
    text: str, windows: Sequence[tuple[int, int]], evidence: Any, heads: Sequence[str]
) -> tuple[str, list[dict[str, Any]]]:
    """The windows joined with "…" where text was left out, and the evidence words of
    `heads` inside them as offsets into that string (`start`, `end`, `head`, `weight`)."""
    spans = [
        (start, end, head, weight)
        for head in heads
        for start, end, weight in _spans(evidence, (head,), len(text))
    ]
    parts: list[str] = []
    marks: list[dict[str, Any]] = []
    length = 0
    position = 0

    def add(piece: str) -> None:
        nonlocal length
        if parts:
            parts.append(" ")
            length += 1
        parts.append(piece)
        length += len(piece)

    for start, end in windows:
        if start > position:
            add("…")
        # Strip the window's outer spaces without moving offsets inside it.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        add(text[start:end])
        base = length - (end - start)
        for s_start, s_end, head, weight in spans:
            if start <= s_start and s_end <= end:
                marks.append(
                    {
                        "start": base + s_start - start,
                        "end": base + s_end - start,
                        "head": head,
                        "weight": round(weight, 4),
                    }
                )
        position = end
    if position < len(text) and text[position:].strip():
        add("…")
    return "".join(parts), sorted(marks, key=lambda m: (m["start"], m["end"]))


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
        query = query.where(sa.func.lower(comments.c.author) == filters.author.strip().lower())
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


# --- the author's history -------------------------------------------------------------------


def author_history(engine: Engine, author: str, *, recent: int = AUTHOR_RECENT) -> dict[str, Any]:
    """What the site knows of one author (by name, as pages show it), across threads.

    Their comments (current versions), how many went to review and how those were decided,
    the share rejected of those decided, when they were first seen, and their latest
    comments with each one's case.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    by_author = sa.func.lower(comments.c.author) == author.strip().lower()
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
                "excerpt": excerpt_text(row.text, [(0, _cut_at_word(row.text, 0, 160))]),
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

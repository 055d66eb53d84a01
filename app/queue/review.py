"""Reading and deciding queue items: lists, one item in its thread, decisions, stats, export.

Decisions are appended to `decisions` and never changed. Each one bumps its item's
`version` with `UPDATE … WHERE version = :seen`, in the same transaction as the insert,
so of two moderators who saw the same version exactly one wins and the other gets
`StaleDecision` (409) with the item as it now is. An escalated item waits for an admin.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.errors import AppError
from app.labels import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS, article_context
from app.queue.store import (
    DECISION_ACTIONS,
    ITEM_STATUSES,
    QUEUE_NAMES,
    comments,
    database_errors,
    decisions,
    items,
    reports,
    threads,
    utcnow,
    write_transaction,
)

FEEDBACK_SCHEMA: Final = "threadguard.feedback/1"
MAX_PAGE: Final = 200
BINARY_HEADS: Final = ("hate", "toxic", "conspiracy")
Action = Literal["approve", "reject", "escalate", "label", "reopen"]
Order = Literal["priority", "newest", "oldest"]
STATUS_AFTER: Final[Mapping[str, str | None]] = {
    "approve": "approved",
    "reject": "rejected",
    "escalate": "escalated",
    "label": None,  # a label correction leaves the status as it was
    "reopen": "open",
}
# How many comments of the thread around an item are shown at most on each side.
CONTEXT_LIMIT: Final = 50


class ItemNotFound(AppError):
    """No queue item has this id."""

    status_code = 404
    exit_code = 4
    code = "item_not_found"


class StaleDecision(AppError):
    """The item changed since the moderator saw it; `current` is what it is now."""

    status_code = 409
    code = "stale_item_version"

    def __init__(self, message: str, *, current: Mapping[str, Any]) -> None:
        super().__init__(message, field="item_version")
        self.current = dict(current)


class DecisionRefused(AppError):
    """A decision this moderator may not make on this item (superseded, or escalated)."""

    status_code = 409
    code = "decision_refused"


class NeedsAdmin(AppError):
    """An escalated item is decided by an admin."""

    status_code = 403
    code = "forbidden"


class InvalidDecision(AppError):
    """A decision whose labels or fields do not fit together."""

    status_code = 422
    code = "invalid_decision"


class InvalidFilter(AppError):
    """A list filter with a value the queue does not know."""

    status_code = 422
    code = "invalid_input"


class InvalidCursor(AppError):
    """A pagination cursor this server did not hand out (or for another ordering)."""

    status_code = 422
    code = "invalid_cursor"


@dataclass(frozen=True, slots=True)
class Labels:
    """A moderator's corrections; None means "not said"."""

    hate: bool | None = None
    hate_target: str | None = None
    toxic: bool | None = None
    conspiracy: bool | None = None
    stance: str | None = None
    reply_stance: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Only the labels that were given."""
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    def check(self) -> None:
        """Refuse values outside the label schema and contradictions.

        Raises:
            InvalidDecision: a label value is unknown or a target is given for "not hate".
        """
        allowed = {
            "hate_target": HATE_TARGETS,
            "stance": STANCE_LABELS,
            "reply_stance": REPLY_LABELS,
        }
        for name, values in allowed.items():
            value = getattr(self, name)
            if value is not None and value not in values:
                raise InvalidDecision(
                    f"labels.{name} must be one of {', '.join(values)}, not {value!r}",
                    field=f"labels.{name}",
                )
        if self.hate is False and self.hate_target is not None:
            raise InvalidDecision(
                "labels.hate_target names a target but labels.hate is false",
                field="labels.hate_target",
            )


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


@dataclass
class Page:
    """One page of items and the cursor of the next (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class Stats:
    """`GET /v1/queue/stats`."""

    open_by_queue: dict[str, int]
    by_status: dict[str, int]
    decisions_by_moderator: dict[str, int]
    precision: dict[str, dict[str, Any]]
    agreement: dict[str, Any]
    items: int = 0
    decisions: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _summary_columns() -> list[Any]:
    return [
        items.c.item_id,
        items.c.queue,
        items.c.head,
        items.c.priority,
        items.c.probability,
        items.c.reason,
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
    ]


def _summary(row: Any, *, preview: int | None = 280) -> dict[str, Any]:
    text: str = row.text
    return {
        "item_id": row.item_id,
        "queue": row.queue,
        "head": row.head,
        "priority": round(float(row.priority), 4),
        "probability": None if row.probability is None else round(float(row.probability), 4),
        "reason": row.reason,
        "flags": [f for f in row.flags.split(",") if f],
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
            "text": text if preview is None or len(text) <= preview else text[:preview] + "…",
        },
    }


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


def _check_filters(filters: Filters) -> None:
    if filters.queue is not None and filters.queue not in QUEUE_NAMES:
        raise InvalidFilter(
            f"queue must be one of {', '.join(QUEUE_NAMES)}, not {filters.queue!r}",
            field="queue",
        )
    if filters.status is not None and filters.status not in ITEM_STATUSES:
        raise InvalidFilter(
            f"status must be one of {', '.join(ITEM_STATUSES)}, not {filters.status!r}",
            field="status",
        )
    if filters.label is not None and filters.label not in BINARY_HEADS:
        raise InvalidFilter(
            f"label must be one of {', '.join(BINARY_HEADS)}, not {filters.label!r}",
            field="label",
        )
    if filters.target is not None and filters.target not in HATE_TARGETS:
        raise InvalidFilter(
            f"target must be one of {', '.join(HATE_TARGETS)}, not {filters.target!r}",
            field="target",
        )


def list_items(
    engine: Engine,
    filters: Filters,
    *,
    order: Order = "priority",
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """A page of items, most urgent first (or newest/oldest), with a cursor for the next.

    The order is total (ties broken by item id, newest first), so a cursor never skips or
    repeats an item even while new items arrive. A cursor continues the listing it came
    from, in that listing's order, whatever `order` says.

    Raises:
        InvalidFilter: a filter names an unknown queue, status, label or target.
        InvalidCursor: `cursor` is not of the form this server hands out.
        DatabaseError: the database cannot be reached.
    """
    _check_filters(filters)
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        sa.select(*_summary_columns(), items.c.priority.label("priority_exact"))
        .join(comments, comments.c.id == items.c.comment_row_id)
        .join(threads, threads.c.thread_id == items.c.thread_id)
    )
    if filters.queue is not None:
        query = query.where(items.c.queue == filters.queue)
    if filters.status is not None:
        query = query.where(items.c.status == filters.status)
    if filters.label is not None:
        query = query.where(items.c.flags.like(f"%,{filters.label},%"))
    if filters.target is not None:
        query = query.where(items.c.hate_target == filters.target)
    if filters.min_probability is not None:
        query = query.where(items.c.probability >= filters.min_probability)
    if filters.thread_id is not None:
        query = query.where(items.c.thread_id == filters.thread_id)
    if filters.since is not None:
        query = query.where(items.c.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(items.c.created_at < filters.until)
    if cursor is not None:
        order, after_id, after_priority = _decode_cursor(cursor)
        if order == "priority":
            # A row-value comparison, so the index on (…, priority, item_id) gives the range.
            query = query.where(
                sa.tuple_(items.c.priority, items.c.item_id) < (after_priority, after_id)
            )
        elif order == "newest":
            query = query.where(items.c.item_id < after_id)
        else:
            query = query.where(items.c.item_id > after_id)
    if order == "priority":
        # Both descending: one backward scan of the index, no sort, however long the queue.
        # Among equal priorities the newer item comes first.
        query = query.order_by(items.c.priority.desc(), items.c.item_id.desc())
    elif order == "newest":
        query = query.order_by(items.c.item_id.desc())
    else:
        query = query.order_by(items.c.item_id.asc())
    with database_errors(engine), engine.connect() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    page = [_summary(row) for row in rows]
    next_cursor = _encode_cursor(order, rows[-1]) if more and rows else None
    return Page(page, next_cursor)


def _item_row(connection: sa.Connection, item_id: int) -> Any:
    query = (
        sa.select(
            *_summary_columns(),
            comments.c.scores,
            comments.c.parent_comment_id,
            comments.c.previous_id,
        )
        .join(comments, comments.c.id == items.c.comment_row_id)
        .join(threads, threads.c.thread_id == items.c.thread_id)
        .where(items.c.item_id == item_id)
    )
    row = connection.execute(query).first()
    if row is None:
        raise ItemNotFound(f"no queue item has id {item_id}", field="item_id")
    return row


def get_item(engine: Engine, item_id: int) -> dict[str, Any]:
    """One item with its full comment, scores, thread context, reports and decisions.

    The context is drawn from the thread's current comments: ancestors from the top down,
    siblings (other replies to the same parent) and direct replies, each with its labels.

    Raises:
        ItemNotFound: no item has this id.
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        row = _item_row(connection, item_id)
        out = _summary(row, preview=None)
        out["comment"]["scores"] = row.scores
        out["comment"]["parent_id"] = row.parent_comment_id
        out["comment"]["previous_row"] = row.previous_id
        thread = connection.execute(
            sa.select(threads).where(threads.c.thread_id == row.thread_id)
        ).one()
        out["thread"].update(
            url=thread.url,
            source_format=thread.source_format,
            article_excerpt=(thread.article_text or "")[:600] or None,
        )
        out["context"] = _context(connection, row)
        out["other_items"] = [
            {"item_id": r.item_id, "queue": r.queue, "status": r.status}
            for r in connection.execute(
                sa.select(items.c.item_id, items.c.queue, items.c.status)
                .where(items.c.comment_row_id == row.comment_row_id, items.c.item_id != item_id)
                .order_by(items.c.item_id)
            )
        ]
        out["reports"] = [
            {"reason": r.reason, "reporter": r.reporter, "created_at": r.created_at.isoformat()}
            for r in connection.execute(
                sa.select(reports)
                .where(reports.c.comment_row_id == row.comment_row_id)
                .order_by(reports.c.report_id)
            )
        ]
        out["previous_versions"] = _previous_versions(connection, row.previous_id)
        out["decisions"] = _decisions(connection, item_id)
    return out


def _context_entry(row: Any) -> dict[str, Any]:
    scores = row.scores or {}
    return {
        "comment_id": row.comment_id,
        "parent_id": row.parent_comment_id,
        "author": row.author,
        "depth": row.depth,
        "text": row.text,
        "labels": {
            "hate": scores.get("hate"),
            "toxic": scores.get("toxic"),
            "conspiracy": scores.get("conspiracy"),
            "flags": [h for h in BINARY_HEADS if scores.get(f"{h}_flag") is True],
            "hate_target": scores.get("hate_target"),
            "stance": scores.get("stance"),
            "reply_stance": scores.get("reply_stance"),
        },
    }


def _context(connection: sa.Connection, row: Any) -> dict[str, Any]:
    current = comments.c.superseded_at.is_(None)
    base = sa.select(
        comments.c.comment_id,
        comments.c.parent_comment_id,
        comments.c.author,
        comments.c.depth,
        comments.c.text,
        comments.c.scores,
        comments.c.position,
    ).where(comments.c.thread_id == row.thread_id, current)
    ancestors: list[dict[str, Any]] = []
    parent_id = row.parent_comment_id
    seen: set[str] = {row.comment_id}
    # One indexed lookup per level; a thread's depth is small next to its size.
    while parent_id is not None and parent_id not in seen and len(ancestors) < CONTEXT_LIMIT:
        seen.add(parent_id)
        parent = connection.execute(base.where(comments.c.comment_id == parent_id)).first()
        if parent is None:
            break
        ancestors.append(_context_entry(parent))
        parent_id = parent.parent_comment_id
    ancestors.reverse()
    same_parent = (
        comments.c.parent_comment_id.is_(None)
        if row.parent_comment_id is None
        else comments.c.parent_comment_id == row.parent_comment_id
    )
    siblings = connection.execute(
        base.where(same_parent, comments.c.comment_id != row.comment_id)
        .order_by(comments.c.position)
        .limit(CONTEXT_LIMIT)
    ).all()
    replies = connection.execute(
        base.where(comments.c.parent_comment_id == row.comment_id)
        .order_by(comments.c.position)
        .limit(CONTEXT_LIMIT)
    ).all()
    return {
        "ancestors": ancestors,
        "siblings": [_context_entry(r) for r in siblings],
        "replies": [_context_entry(r) for r in replies],
    }


def _previous_versions(connection: sa.Connection, previous_id: int | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while previous_id is not None and len(out) < CONTEXT_LIMIT:
        old = connection.execute(
            sa.select(
                comments.c.version,
                comments.c.text,
                comments.c.previous_id,
                comments.c.created_at,
                comments.c.superseded_at,
            ).where(comments.c.id == previous_id)
        ).one()
        old_items = connection.execute(
            sa.select(items.c.item_id, items.c.queue, items.c.status).where(
                items.c.comment_row_id == previous_id
            )
        ).all()
        out.append(
            {
                "version": old.version,
                "text": old.text,
                "ingested_at": old.created_at.isoformat(),
                "superseded_at": (
                    None if old.superseded_at is None else old.superseded_at.isoformat()
                ),
                "items": [
                    {"item_id": i.item_id, "queue": i.queue, "status": i.status} for i in old_items
                ],
            }
        )
        previous_id = old.previous_id
    return out


def _decision_dict(row: Any) -> dict[str, Any]:
    return {
        "decision_id": row.decision_id,
        "item_id": row.item_id,
        "item_version": row.item_version,
        "action": row.action,
        "status_after": row.status_after,
        "labels": row.labels,
        "reason": row.reason,
        "note": row.note,
        "moderator": row.moderator,
        "key_id": row.key_id,
        "decided_at": row.decided_at.isoformat(),
    }


def _decisions(connection: sa.Connection, item_id: int) -> list[dict[str, Any]]:
    return [
        _decision_dict(r)
        for r in connection.execute(
            sa.select(decisions)
            .where(decisions.c.item_id == item_id)
            .order_by(decisions.c.decision_id)
        )
    ]


def history(engine: Engine, item_id: int) -> list[dict[str, Any]]:
    """Every decision on an item, oldest first.

    Raises:
        ItemNotFound: no item has this id.
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        exists = connection.execute(
            sa.select(items.c.item_id).where(items.c.item_id == item_id)
        ).first()
        if exists is None:
            raise ItemNotFound(f"no queue item has id {item_id}", field="item_id")
        return _decisions(connection, item_id)


def _state(row: Any) -> dict[str, Any]:
    return {"item_id": row.item_id, "status": row.status, "version": row.version}


def decide(
    engine: Engine,
    item_id: int,
    *,
    action: str,
    item_version: int,
    key: ApiKey,
    labels: Labels | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Append one decision and move the item to its new status; the decision as stored.

    Raises:
        ItemNotFound: no item has this id.
        InvalidDecision: an unknown action, bad labels, or a "label" decision without labels.
        StaleDecision: the item's version is not `item_version` (someone decided first).
        DecisionRefused: the item was superseded by an edit.
        NeedsAdmin: the item is escalated and `key` is not an admin's.
        DatabaseError: the database cannot be reached.
    """
    if action not in DECISION_ACTIONS:
        raise InvalidDecision(
            f"action must be one of {', '.join(DECISION_ACTIONS)}, not {action!r}",
            field="action",
        )
    labels = labels or Labels()
    labels.check()
    if action == "label" and not labels.as_dict():
        raise InvalidDecision("a label decision needs at least one label", field="labels")
    now = utcnow()
    with write_transaction(engine) as connection:
        row = connection.execute(
            # FOR UPDATE: a second decider waits here, then reads the winner's version.
            sa.select(items.c.item_id, items.c.status, items.c.version)
            .where(items.c.item_id == item_id)
            .with_for_update()
        ).first()
        if row is None:
            raise ItemNotFound(f"no queue item has id {item_id}", field="item_id")
        if row.version != item_version:
            raise StaleDecision(
                f"item {item_id} is at version {row.version} ({row.status}), not "
                f"{item_version}: someone decided it since you loaded it",
                current=_state(row),
            )
        if row.status == "superseded":
            replacement = connection.execute(
                sa.select(items.c.item_id).where(items.c.replaces_item_id == item_id)
            ).scalar()
            raise DecisionRefused(
                f"item {item_id} was superseded by an edit of the comment"
                + (f"; decide item {replacement} instead" if replacement else ""),
                field="item_id",
            )
        if row.status == "escalated" and not key.role.allows(Role.admin):
            raise NeedsAdmin(
                f"item {item_id} was escalated; an admin key decides it", field="item_id"
            )
        status_after = STATUS_AFTER[action] or row.status
        updated = connection.execute(
            items.update()
            .where(items.c.item_id == item_id, items.c.version == item_version)
            .values(status=status_after, version=items.c.version + 1, updated_at=now)
        )
        if updated.rowcount != 1:  # the row lock above makes this a safety net
            raise StaleDecision(f"item {item_id} changed while deciding", current=_state(row))
        decision_id = connection.execute(
            decisions.insert()
            .values(
                item_id=item_id,
                item_version=item_version,
                action=action,
                status_after=status_after,
                labels=labels.as_dict() or None,
                reason=reason,
                note=note,
                key_id=key.key_id,
                moderator=key.name,
                decided_at=now,
            )
            .returning(decisions.c.decision_id)
        ).scalar_one()
        stored = connection.execute(
            sa.select(decisions).where(decisions.c.decision_id == decision_id)
        ).one()
    out = _decision_dict(stored)
    out["item"] = {"item_id": item_id, "status": status_after, "version": item_version + 1}
    return out


def judgment(
    queue: str, head: str | None, action: str, labels: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The labels one decision asserts, empty when it asserts none.

    Corrections count as given; approve and reject also judge the item's own head (approve:
    the flag was wrong, reject: it was right). Escalate, reopen and a reported item decided
    without corrections assert nothing.
    """
    out: dict[str, Any] = {}
    target_head = head if queue in ("hate", "toxic", "conspiracy", "uncertain") else None
    if target_head is not None and action in ("approve", "reject"):
        out[target_head] = action == "reject"
    for name, value in (labels or {}).items():
        out[name] = value
    if out.get("hate") is False:
        out.pop("hate_target", None)
    return out


def stats(engine: Engine) -> Stats:
    """Open items per queue, items per status, decisions per moderator, each flag's precision
    as moderators judged it, and agreement where two moderators judged the same item.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        by_queue_status = connection.execute(
            sa.select(items.c.queue, items.c.status, sa.func.count()).group_by(
                items.c.queue, items.c.status
            )
        ).all()
        per_moderator = connection.execute(
            sa.select(decisions.c.moderator, sa.func.count()).group_by(decisions.c.moderator)
        ).all()
        judged = connection.execute(
            sa.select(
                decisions.c.item_id,
                decisions.c.action,
                decisions.c.labels,
                decisions.c.moderator,
                items.c.queue,
                items.c.head,
            )
            .join(items, items.c.item_id == decisions.c.item_id)
            .order_by(decisions.c.decision_id)
        ).all()
    open_by_queue = dict.fromkeys(QUEUE_NAMES, 0)
    by_status = dict.fromkeys(ITEM_STATUSES, 0)
    total_items = 0
    for queue, status, count in by_queue_status:
        total_items += count
        by_status[status] += count
        if status == "open":
            open_by_queue[queue] += count

    # Precision: the last judgment of an item's own head, per head queue.
    last: dict[int, tuple[str, bool]] = {}
    # Agreement: each moderator's first verdict on an item (approve or reject).
    first_verdicts: dict[int, dict[str, str]] = defaultdict(dict)
    for row in judged:
        said = judgment(row.queue, row.head, row.action, row.labels)
        if row.queue in BINARY_HEADS and row.queue in said:
            last[row.item_id] = (row.queue, bool(said[row.queue]))
        if row.action in ("approve", "reject"):
            first_verdicts[row.item_id].setdefault(row.moderator, row.action)
    precision: dict[str, dict[str, Any]] = {}
    for head in BINARY_HEADS:
        verdicts = [confirmed for queue, confirmed in last.values() if queue == head]
        hits = sum(verdicts)
        precision[head] = {
            "judged": len(verdicts),
            "confirmed": hits,
            "precision": round(hits / len(verdicts), 4) if verdicts else None,
        }
    return Stats(
        open_by_queue=open_by_queue,
        by_status=by_status,
        decisions_by_moderator={str(name): int(count) for name, count in per_moderator},
        precision=precision,
        agreement=_agreement(first_verdicts),
        items=total_items,
        decisions=len(judged),
    )


def _agreement(first_verdicts: Mapping[int, Mapping[str, str]]) -> dict[str, Any]:
    """Raw agreement and Cohen's kappa over items two moderators decided (first two only)."""
    pairs = [
        tuple(list(verdicts.values())[:2])
        for verdicts in first_verdicts.values()
        if len(verdicts) >= 2
    ]
    if not pairs:
        return {"items": 0, "agreed": 0, "rate": None, "kappa": None}
    agreed = sum(a == b for a, b in pairs)
    observed = agreed / len(pairs)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(
        (first[v] / len(pairs)) * (second[v] / len(pairs)) for v in ("approve", "reject")
    )
    kappa = None if expected == 1.0 else round((observed - expected) / (1.0 - expected), 4)
    return {"items": len(pairs), "agreed": agreed, "rate": round(observed, 4), "kappa": kappa}


def export_feedback(engine: Engine, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every decision (since `since`) as a training row of `threadguard.feedback/1`, oldest first.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    parent = comments.alias("parent")
    query = (
        sa.select(
            decisions.c.decision_id,
            decisions.c.item_id,
            decisions.c.action,
            decisions.c.labels,
            decisions.c.moderator,
            decisions.c.decided_at,
            items.c.queue,
            items.c.head,
            items.c.model_version,
            items.c.hate_target,
            comments.c.comment_id,
            comments.c.version,
            comments.c.text,
            threads.c.source,
            threads.c.title,
            threads.c.article_text,
            parent.c.text.label("parent_text"),
        )
        .join(items, items.c.item_id == decisions.c.item_id)
        .join(comments, comments.c.id == items.c.comment_row_id)
        .join(threads, threads.c.thread_id == items.c.thread_id)
        .outerjoin(
            parent,
            sa.and_(
                parent.c.thread_id == comments.c.thread_id,
                parent.c.comment_id == comments.c.parent_comment_id,
                parent.c.superseded_at.is_(None),
            ),
        )
        .order_by(decisions.c.decision_id)
    )
    if since is not None:
        query = query.where(decisions.c.decided_at >= since)
    with database_errors(engine), engine.connect() as connection:
        for row in connection.execution_options(yield_per=1000).execute(query):
            said = judgment(row.queue, row.head, row.action, row.labels)
            if said.get("hate") is True and "hate_target" not in said:
                said["hate_target"] = row.hate_target
            parent_text = row.parent_text
            if parent_text is None:
                # A top-level comment's parent is the article, as `thread_frame` gives it.
                parent_text = article_context(row.title, row.article_text)
            yield {
                "schema": FEEDBACK_SCHEMA,
                "doc_id": f"{row.source}#{row.comment_id}@{row.version}",
                "text": row.text,
                "parent_text": parent_text,
                "topic": row.title,
                **{head: _as_int(said.get(head)) for head in BINARY_HEADS},
                "hate_target": said.get("hate_target"),
                "stance": said.get("stance"),
                "reply_stance": said.get("reply_stance"),
                "action": row.action,
                "queue": row.queue,
                "moderator": row.moderator,
                "decided_at": row.decided_at.isoformat(),
                "item_id": row.item_id,
                "decision_id": row.decision_id,
                "model_version": row.model_version,
            }


def _as_int(value: Any) -> int | None:
    return None if value is None else int(bool(value))


OPEN_COUNT_CAP: Final = 1_000


def open_count(
    engine: Engine, queues: Sequence[str] = QUEUE_NAMES, *, cap: int = OPEN_COUNT_CAP
) -> dict[str, int]:
    """Open items per queue, counted up to `cap` (for the review page's tabs).

    Counting stops at `cap` so the tabs cost a few index reads on every page, whatever the
    backlog; the page shows "1000+".

    Raises:
        DatabaseError: the database cannot be reached.
    """
    out: dict[str, int] = {}
    with database_errors(engine), engine.connect() as connection:
        for queue in queues:
            head = (
                sa.select(items.c.item_id)
                .where(items.c.queue == queue, items.c.status == "open")
                .limit(cap)
                .subquery()
            )
            out[queue] = int(
                connection.execute(sa.select(sa.func.count()).select_from(head)).scalar_one()
            )
    return out


# Where an item sits in its queue, in the order `list_items` shows: priority, then newest.
_URGENT_FIRST = (items.c.priority.desc(), items.c.item_id.desc())


def first_item(engine: Engine, queue: str, status: str | None) -> int | None:
    """The most urgent item of `queue` (in `status`, when given), None when there is none.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    query = sa.select(items.c.item_id).where(items.c.queue == queue)
    if status is not None:
        query = query.where(items.c.status == status)
    with database_errors(engine), engine.connect() as connection:
        found: int | None = connection.execute(query.order_by(*_URGENT_FIRST).limit(1)).scalar()
    return found


def neighbour(engine: Engine, item_id: int, status: str | None, step: int) -> int | None:
    """The item after (`step` 1) or before (-1) `item_id` in its queue, None at either end.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        here = connection.execute(
            sa.select(items.c.queue, items.c.priority).where(items.c.item_id == item_id)
        ).first()
        if here is None:
            return None
        query = sa.select(items.c.item_id).where(items.c.queue == here.queue)
        if status is not None:
            query = query.where(items.c.status == status)
        key = sa.tuple_(items.c.priority, items.c.item_id)
        if step > 0:
            query = query.where(key < (here.priority, item_id)).order_by(*_URGENT_FIRST)
        else:
            query = query.where(key > (here.priority, item_id)).order_by(
                items.c.priority.asc(), items.c.item_id.asc()
            )
        found: int | None = connection.execute(query.limit(1)).scalar()
    return found


def position(engine: Engine, item_id: int, status: str | None) -> tuple[int | None, int]:
    """The item's place in its queue (1-based; None when not in `status`) and the count.

    Raises:
        ItemNotFound: no item has this id.
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        here = connection.execute(
            sa.select(items.c.queue, items.c.priority, items.c.status).where(
                items.c.item_id == item_id
            )
        ).first()
        if here is None:
            raise ItemNotFound(f"no queue item has id {item_id}", field="item_id")
        where = [items.c.queue == here.queue]
        if status is not None:
            where.append(items.c.status == status)
        total = connection.execute(sa.select(sa.func.count()).where(*where)).scalar_one()
        if status is not None and here.status != status:
            return None, int(total)
        ahead = connection.execute(
            sa.select(sa.func.count()).where(
                *where, sa.tuple_(items.c.priority, items.c.item_id) > (here.priority, item_id)
            )
        ).scalar_one()
    return int(ahead) + 1, int(total)

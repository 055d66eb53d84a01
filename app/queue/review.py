"""Reading and deciding cases: one item in its thread, decisions one at a time or in bulk.

An item is a case: one comment version with every reason that sent it to review. Decisions
are appended to `decisions` and never changed. Each one bumps its item's `version` with
`UPDATE … WHERE version = :seen`, in the same transaction as the insert, so of two
moderators who saw the same version exactly one wins and the other gets `StaleDecision`
(409) with the item as it now is. One decision resolves the case in every queue it is in.
An escalated item waits for an admin. Lists are in `app.queue.listing`, statistics and the
training export in `app.queue.feedback`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth import ApiKey, Role
from app.errors import AppError
from app.labels import BINARY_HEADS as BINARY_HEADS
from app.labels import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS

# The queue's whole reading side stays importable from here (the API, CLI and tests use it).
from app.queue.authors import author_history
from app.queue.authors import threads_with_open as threads_with_open
from app.queue.feedback import FEEDBACK_SCHEMA as FEEDBACK_SCHEMA
from app.queue.feedback import Stats as Stats
from app.queue.feedback import export_feedback as export_feedback
from app.queue.feedback import judgment as judgment
from app.queue.feedback import stats as stats
from app.queue.listing import CURSOR_PATTERN as CURSOR_PATTERN
from app.queue.listing import MAX_PAGE as MAX_PAGE
from app.queue.listing import OPEN_COUNT_CAP as OPEN_COUNT_CAP
from app.queue.listing import SEARCH_MAX_CHARS as SEARCH_MAX_CHARS
from app.queue.listing import Filters as Filters
from app.queue.listing import InvalidCursor as InvalidCursor
from app.queue.listing import InvalidFilter as InvalidFilter
from app.queue.listing import Order as Order
from app.queue.listing import Page as Page
from app.queue.listing import case_reasons, listing_columns, summary
from app.queue.listing import cases as cases
from app.queue.listing import first_item as first_item
from app.queue.listing import list_items as list_items
from app.queue.listing import neighbour as neighbour
from app.queue.listing import open_count as open_count
from app.queue.listing import position as position
from app.queue.store import (
    DECISION_ACTIONS,
    comments,
    database_errors,
    decisions,
    item_reasons,
    items,
    reports,
    threads,
    utcnow,
    write_transaction,
)

Action = Literal["approve", "reject", "escalate", "label", "reopen"]
STATUS_AFTER: Final[Mapping[str, str | None]] = {
    "approve": "approved",
    "reject": "rejected",
    "escalate": "escalated",
    "label": None,  # a label correction leaves the status as it was
    "reopen": "open",
}
# How many comments of the thread around an item are shown at most on each side.
CONTEXT_LIMIT: Final = 50
# How many cases one bulk decision may name: each is its own transaction.
BULK_MAX: Final = 200


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


def _item_row(connection: sa.Connection, item_id: int, queue: str | None) -> Any:
    # The reason of `queue` when the case has one, else the case's own (most urgent) one.
    own = (items.c.queue, items.c.head, items.c.priority, items.c.probability, items.c.reason)
    listed = item_reasons.alias("listed")
    picked = (
        listed.c.queue,
        listed.c.head,
        listed.c.priority,
        listed.c.probability,
        listed.c.reason,
    )
    query = (
        sa.select(
            *listing_columns(),
            *(
                sa.func.coalesce(r, o).label(f"r_{o.name}")
                for r, o in zip(picked, own, strict=True)
            ),
            comments.c.parent_comment_id,
            comments.c.previous_id,
        )
        .select_from(items)
        .join(comments, comments.c.id == items.c.comment_row_id)
        .join(threads, threads.c.thread_id == items.c.thread_id)
        .outerjoin(
            listed,
            sa.and_(listed.c.item_id == items.c.item_id, listed.c.queue == (queue or "")),
        )
        .where(items.c.item_id == item_id)
    )
    row = connection.execute(query).first()
    if row is None:
        raise ItemNotFound(f"no queue item has id {item_id}", field="item_id")
    return row


def get_item(engine: Engine, item_id: int, *, queue: str | None = None) -> dict[str, Any]:
    """One case with its full comment, reasons, scores, thread context, reports, decisions
    and the author's history on the site.

    `queue` picks which reason `queue`/`head`/`priority`/`probability` describe (the one of
    the queue the moderator came from); without it, or when the case is not in that queue,
    its most urgent one. The context is drawn from the thread's current comments:
    ancestors from the top down, siblings (other replies to the same parent) and direct
    replies, each with its labels. Decisions include those made, before cases, on the
    items folded into this one.

    Raises:
        ItemNotFound: no item has this id.
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        row = _item_row(connection, item_id, queue)
        reasons = case_reasons(connection, [item_id]).get(item_id, [])
        out = summary(row, reasons, full=True)
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
        folded = _folded_from(connection, item_id)
        out["folded_from"] = folded
        out["folded_into"] = _folded_into(connection, item_id)
        out["reports"] = [
            {"reason": r.reason, "reporter": r.reporter, "created_at": r.created_at.isoformat()}
            for r in connection.execute(
                sa.select(reports)
                .where(reports.c.comment_row_id == row.comment_row_id)
                .order_by(reports.c.report_id)
            )
        ]
        out["previous_versions"] = _previous_versions(connection, row.previous_id)
        out["decisions"] = _decisions(connection, [item_id, *(f["item_id"] for f in folded)])
    out["author_history"] = None if not row.author else author_history(engine, row.author)
    return out


def _folded_from(connection: sa.Connection, item_id: int) -> list[dict[str, Any]]:
    return [
        {"item_id": r.from_item_id, "queue": r.queue}
        for r in connection.execute(
            sa.select(item_reasons.c.from_item_id, item_reasons.c.queue)
            .where(item_reasons.c.item_id == item_id, item_reasons.c.from_item_id.is_not(None))
            .order_by(item_reasons.c.from_item_id)
        )
    ]


def _folded_into(connection: sa.Connection, item_id: int) -> int | None:
    found: int | None = connection.execute(
        sa.select(item_reasons.c.item_id).where(item_reasons.c.from_item_id == item_id)
    ).scalar()
    return found


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
            sa.select(items.c.item_id, items.c.queue, items.c.status)
            .where(items.c.comment_row_id == previous_id)
            .order_by(items.c.item_id)
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
        "queue": row.queue,
    }


def _decisions(connection: sa.Connection, item_ids: Sequence[int]) -> list[dict[str, Any]]:
    return [
        _decision_dict(r)
        for r in connection.execute(
            sa.select(decisions)
            .where(decisions.c.item_id.in_(list(item_ids)))
            .order_by(decisions.c.decision_id)
        )
    ]


def history(engine: Engine, item_id: int) -> list[dict[str, Any]]:
    """Every decision on a case (and on the items folded into it), oldest first.

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
        folded = [f["item_id"] for f in _folded_from(connection, item_id)]
        return _decisions(connection, [item_id, *folded])


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
    queue: str | None = None,
    queue_if_in: bool = False,
) -> dict[str, Any]:
    """Append one decision and move the case to its new status in every queue it is in;
    the decision as stored.

    `queue` is the queue the moderator decided from: a reject confirms that reason's head
    (an approve clears every head the case was flagged for). Without it, the case's most
    urgent reason's queue is recorded, as it is with `queue_if_in` when the case is not in
    `queue` (a bulk selection may span queues).

    Raises:
        ItemNotFound: no item has this id.
        InvalidDecision: an unknown action, bad labels, a "label" decision without labels,
            or a queue the case is not in.
        StaleDecision: the item's version is not `item_version` (someone decided first).
        DecisionRefused: the item was superseded (an edit, or folded into another case).
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
            sa.select(items.c.item_id, items.c.status, items.c.version, items.c.queue)
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
            raise DecisionRefused(_superseded_message(connection, item_id), field="item_id")
        if row.status == "escalated" and not key.role.allows(Role.admin):
            raise NeedsAdmin(
                f"item {item_id} was escalated; an admin key decides it", field="item_id"
            )
        in_queues = set(
            connection.execute(
                sa.select(item_reasons.c.queue).where(item_reasons.c.item_id == item_id)
            ).scalars()
        )
        if queue is not None and queue not in in_queues and queue_if_in:
            queue = None
        if queue is not None and queue not in in_queues:
            raise InvalidDecision(
                f"item {item_id} is not in the {queue} queue (it is in "
                f"{', '.join(sorted(in_queues)) or 'none'})",
                field="queue",
            )
        status_after = STATUS_AFTER[action] or row.status
        updated = connection.execute(
            items.update()
            .where(items.c.item_id == item_id, items.c.version == item_version)
            .values(status=status_after, version=items.c.version + 1, updated_at=now)
        )
        if updated.rowcount != 1:  # the row lock above makes this a safety net
            raise StaleDecision(f"item {item_id} changed while deciding", current=_state(row))
        connection.execute(
            item_reasons.update()
            .where(item_reasons.c.item_id == item_id)
            .values(status=status_after)
        )
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
                queue=queue or row.queue,
            )
            .returning(decisions.c.decision_id)
        ).scalar_one()
        stored = connection.execute(
            sa.select(decisions).where(decisions.c.decision_id == decision_id)
        ).one()
    out = _decision_dict(stored)
    out["item"] = {"item_id": item_id, "status": status_after, "version": item_version + 1}
    return out


def _superseded_message(connection: sa.Connection, item_id: int) -> str:
    into = _folded_into(connection, item_id)
    if into is not None:
        return (
            f"item {item_id} was folded into item {into}, the one case of its comment; "
            f"decide item {into} instead"
        )
    replacement = connection.execute(
        sa.select(items.c.item_id).where(items.c.replaces_item_id == item_id)
    ).scalar()
    return f"item {item_id} was superseded by an edit of the comment" + (
        f"; decide item {replacement} instead" if replacement else ""
    )


@dataclass(frozen=True, slots=True)
class Seen:
    """A case as the moderator saw it when they picked it for a bulk decision."""

    item_id: int
    item_version: int


def decide_many(
    engine: Engine,
    seen: Sequence[Seen],
    *,
    action: str,
    key: ApiKey,
    reason: str | None = None,
    note: str | None = None,
    queue: str | None = None,
) -> list[dict[str, Any]]:
    """One decision on each case, each in its own transaction, so a case someone else
    decided meanwhile is reported and the rest still go through.

    Only approve, reject and reopen (the undo of a bulk decision) are bulk actions. Each
    result is `{"item_id", "ok": true, "decision"}` or `{"item_id", "ok": false, "error",
    "message"}` (and `current` for a stale one), in the order given; a case named again is
    not decided again (`duplicate_item`).

    Raises:
        InvalidDecision: another action, no cases, or more than `BULK_MAX`.
        DatabaseError: the database cannot be reached.
    """
    if action not in ("approve", "reject", "reopen"):
        raise InvalidDecision(
            f"a bulk action is approve, reject or reopen, not {action!r}", field="action"
        )
    if not seen:
        raise InvalidDecision("a bulk decision needs at least one item", field="items")
    if len(seen) > BULK_MAX:
        raise InvalidDecision(
            f"a bulk decision names at most {BULK_MAX} items, not {len(seen)}", field="items"
        )
    out: list[dict[str, Any]] = []
    named: set[int] = set()
    for one in seen:
        if one.item_id in named:
            out.append(
                {
                    "item_id": one.item_id,
                    "ok": False,
                    "error": "duplicate_item",
                    "message": f"item {one.item_id} is named more than once; it is decided once",
                }
            )
            continue
        named.add(one.item_id)
        try:
            made = decide(
                engine,
                one.item_id,
                action=action,
                item_version=one.item_version,
                key=key,
                reason=reason,
                note=note,
                # A selection may span queues: each case is judged from the listed queue
                # when it is in it, else from its own most urgent reason.
                queue=queue,
                queue_if_in=True,
            )
        except StaleDecision as exc:
            out.append(_failed(one.item_id, exc) | {"current": exc.current})
        except (ItemNotFound, DecisionRefused, NeedsAdmin) as exc:
            out.append(_failed(one.item_id, exc))
        else:
            out.append({"item_id": one.item_id, "ok": True, "decision": made})
    return out


def _failed(item_id: int, exc: AppError) -> dict[str, Any]:
    return {"item_id": item_id, "ok": False, "error": exc.code, "message": exc.message}

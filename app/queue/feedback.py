"""What decisions say about the model: the labels each asserts, queue statistics, and the
training export (`threadguard.feedback/1`).

A decision judges heads. Corrections count as given. Approve says every flag of the case
was wrong (the comment may stay); reject says the head of the queue it was made from was
right. Escalate, reopen and a decision made from the `reported` queue without corrections
assert nothing. Decisions from before cases (migration 0004) have no queue of their own:
their item's queue and head say what they judged, as they did then.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.labels import BINARY_HEADS, article_context
from app.queue.store import (
    ITEM_STATUSES,
    QUEUE_NAMES,
    comments,
    database_errors,
    decisions,
    item_reasons,
    items,
    threads,
)

FEEDBACK_SCHEMA: Final = "threadguard.feedback/1"
# The queues whose reason names a head that approve and reject judge.
_JUDGED_QUEUES: Final = ("hate", "toxic", "conspiracy", "uncertain")


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


def judgment(
    queue: str | None,
    head: str | None,
    action: str,
    labels: Mapping[str, Any] | None,
    *,
    case_heads: Sequence[str] = (),
) -> dict[str, Any]:
    """The labels one decision asserts, empty when it asserts none.

    `queue` and `head` are the queue the decision was made from and that reason's head;
    `case_heads` every head the case's reasons name (empty for a decision from before
    cases, which judged its item's own head only).
    """
    out: dict[str, Any] = {}
    target_head = head if queue in _JUDGED_QUEUES else None
    if action == "approve":
        for name in case_heads or ([target_head] if target_head else []):
            out[name] = False
    elif action == "reject" and target_head is not None:
        out[target_head] = True
    for name, value in (labels or {}).items():
        out[name] = value
    if out.get("hate") is False:
        out.pop("hate_target", None)
    return out


def _case_heads(connection: sa.Connection) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for item_id, head in connection.execute(
        sa.select(item_reasons.c.item_id, item_reasons.c.head)
        .where(item_reasons.c.head.is_not(None))
        .order_by(item_reasons.c.item_id, item_reasons.c.priority.desc())
    ):
        if head not in out[item_id]:
            out[item_id].append(head)
    return out


def _judged_columns() -> list[Any]:
    """A decision with the queue and head it judged (`judged_queue`, `judged_head`)."""
    return [
        sa.func.coalesce(decisions.c.queue, items.c.queue).label("judged_queue"),
        sa.case((decisions.c.queue.is_(None), items.c.head), else_=item_reasons.c.head).label(
            "judged_head"
        ),
    ]


def _with_reason(query: Any) -> Any:
    return query.join(items, items.c.item_id == decisions.c.item_id).outerjoin(
        item_reasons,
        sa.and_(
            item_reasons.c.item_id == decisions.c.item_id,
            item_reasons.c.queue == decisions.c.queue,
        ),
    )


def _said(row: Any, heads: Mapping[int, list[str]]) -> dict[str, Any]:
    case_heads = heads.get(row.item_id, []) if row.queue is not None else []
    return judgment(
        row.judged_queue, row.judged_head, row.action, row.labels, case_heads=case_heads
    )


def stats(engine: Engine) -> Stats:
    """Open cases per queue, cases per status, decisions per moderator, each flag's precision
    as moderators judged it, and agreement where two moderators judged the same case.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        open_rows = connection.execute(
            sa.select(item_reasons.c.queue, sa.func.count())
            .where(item_reasons.c.status == "open")
            .group_by(item_reasons.c.queue)
        ).all()
        status_rows = connection.execute(
            sa.select(items.c.status, sa.func.count()).group_by(items.c.status)
        ).all()
        per_moderator = connection.execute(
            sa.select(decisions.c.moderator, sa.func.count()).group_by(decisions.c.moderator)
        ).all()
        judged = connection.execute(
            _with_reason(
                sa.select(
                    decisions.c.item_id,
                    decisions.c.action,
                    decisions.c.labels,
                    decisions.c.moderator,
                    decisions.c.queue,
                    *_judged_columns(),
                )
            ).order_by(decisions.c.decision_id)
        ).all()
        heads = _case_heads(connection)
    open_by_queue = dict.fromkeys(QUEUE_NAMES, 0)
    for queue, count in open_rows:
        open_by_queue[queue] = int(count)
    by_status = dict.fromkeys(ITEM_STATUSES, 0)
    for status, count in status_rows:
        by_status[status] = int(count)

    # Precision: the last judgment of each head on each case, for the heads a flag queued.
    last: dict[tuple[int, str], bool] = {}
    # Agreement: each moderator's first verdict on a case (approve or reject).
    first_verdicts: dict[int, dict[str, str]] = defaultdict(dict)
    for row in judged:
        said = _said(row, heads)
        flagged_by = heads.get(row.item_id, []) if row.queue is not None else [row.judged_queue]
        for head in BINARY_HEADS:
            if head in said and head in flagged_by:
                last[(row.item_id, head)] = bool(said[head])
        if row.action in ("approve", "reject"):
            first_verdicts[row.item_id].setdefault(row.moderator, row.action)
    precision: dict[str, dict[str, Any]] = {}
    for head in BINARY_HEADS:
        verdicts = [confirmed for (_, name), confirmed in last.items() if name == head]
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
        items=sum(by_status.values()),
        decisions=len(judged),
    )


def _agreement(first_verdicts: Mapping[int, Mapping[str, str]]) -> dict[str, Any]:
    """Raw agreement and Cohen's kappa over cases two moderators decided (first two only)."""
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
        _with_reason(
            sa.select(
                decisions.c.decision_id,
                decisions.c.item_id,
                decisions.c.action,
                decisions.c.labels,
                decisions.c.moderator,
                decisions.c.decided_at,
                decisions.c.queue,
                *_judged_columns(),
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
        )
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
        heads = _case_heads(connection)
        for row in connection.execution_options(yield_per=1000).execute(query):
            said = _said(row, heads)
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
                "queue": row.judged_queue,
                "moderator": row.moderator,
                "decided_at": row.decided_at.isoformat(),
                "item_id": row.item_id,
                "decision_id": row.decision_id,
                "model_version": row.model_version,
            }


def _as_int(value: Any) -> int | None:
    return None if value is None else int(bool(value))

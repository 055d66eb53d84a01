"""Putting comments into the review queue: store them with their scores, open queue items.

Ingest is idempotent by (thread source, comment id): a comment whose text is unchanged is
skipped, a new one is stored as version 1, an edited one as the next version with a link
to the old row, and the old version's open items are marked `superseded` while the new
ones point back to them (`replaces_item_id`). Only new and edited comments are scored.

Comments are written in chunks, each one transaction that first locks the thread's row,
so ingests of the same page from several processes take turns instead of duplicating
rows, and a run killed half-way leaves whole chunks that a rerun skips.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.domain import Thread
from app.errors import AppError
from app.features import ARTICLE_CONTEXT_CHARS, thread_frame
from app.policy import Policy, Route, ScoreRowError, flagged_heads, route
from app.queue.store import (
    comments,
    database_errors,
    items,
    reports,
    threads,
    utcnow,
    write_transaction,
)
from app.registry import LoadedModel
from app.scoring import EVIDENCE_TOP, records, score_frame

CHUNK_COMMENTS: Final = 500
SOURCE_MAX_CHARS: Final = 500
COMMENT_ID_MAX_CHARS: Final = 200
# A caller's own scores need these, as probabilities (the router checks their range).
REQUIRED_SCORES: Final = ("hate", "toxic", "conspiracy")
_FLAG_HEADS: Final = ("hate", "toxic", "conspiracy")


class IngestError(AppError):
    """Comments that cannot be queued as given (no text, no source, bad scores)."""

    status_code = 422
    code = "invalid_ingest"


class UnknownComment(AppError):
    """A report names a comment the queue has never seen, and brings no text."""

    status_code = 404
    code = "comment_not_found"


@dataclass(frozen=True, slots=True)
class Report:
    """A reader's report of a comment."""

    reason: str
    reporter: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One comment to queue; `text` may be None only for a report on a stored comment."""

    comment_id: str
    text: str | None
    parent_id: str | None = None
    author: str | None = None
    posted_at: datetime | None = None
    depth: int | None = None
    position: int | None = None
    scores: Mapping[str, Any] | None = None
    report: Report | None = None


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """What is stored about a thread; `source` identifies it across ingests."""

    source: str
    source_format: str
    url: str | None = None
    title: str | None = None
    article_text: str | None = None

    @property
    def topic(self) -> str | None:
        """What comments take a stance toward (the title, else the article's opening)."""
        if self.title and self.title.strip():
            return self.title.strip()
        opening = (self.article_text or "").strip()
        return opening[:300] or None

    @property
    def article_context(self) -> str | None:
        """The parent text of a top-level comment: title and article, as `thread_frame` has it."""
        joined = "\n\n".join(p for p in (self.title or "", self.article_text or "") if p.strip())
        return joined[:ARTICLE_CONTEXT_CHARS] or None


@dataclass
class IngestResult:
    """What one ingest did."""

    thread_id: int
    source: str
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    reports: int = 0
    items_created: list[int] = field(default_factory=list)
    items_superseded: list[int] = field(default_factory=list)
    by_queue: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form returned by the API and printed by the CLI."""
        return {
            "thread_id": self.thread_id,
            "source": self.source,
            "comments": {"new": self.new, "edited": self.edited, "unchanged": self.unchanged},
            "reports": self.reports,
            "items_created": len(self.items_created),
            "items_superseded": len(self.items_superseded),
            "by_queue": dict(self.by_queue),
            "item_ids": self.items_created,
        }


@dataclass(frozen=True, slots=True)
class _Stored:
    row_id: int
    version: int
    sha: str
    depth: int
    position: int
    text: str
    scores: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Written:
    """A comment version written in this transaction, shaped like the rows read back."""

    id: int
    version: int
    text_sha256: str
    scores: Mapping[str, Any]


def text_sha256(text: str) -> str:
    """The hash that tells an edited comment from an unchanged one."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def thread_source(thread: Thread, source: str | None) -> str:
    """The key a page is stored under: the caller's name, else its URL, else its content.

    Raises:
        IngestError: the caller's source is empty or too long.
    """
    if source is not None:
        return checked_source(source)
    if thread.url:
        return thread.url[:SOURCE_MAX_CHARS]
    # Neither a name nor a URL: the article and the first comment identify the page, so
    # the same saved file ingested twice lands on the same thread.
    digest = hashlib.sha256()
    digest.update((thread.article.title or "").encode("utf-8"))
    digest.update(thread.article.text.encode("utf-8"))
    if thread.comments:
        digest.update(thread.comments[0].comment_id.encode("utf-8"))
        digest.update(thread.comments[0].text.encode("utf-8"))
    return f"sha256:{digest.hexdigest()[:32]}"


def checked_source(source: str) -> str:
    """`source` stripped, refused when empty or longer than the column.

    Raises:
        IngestError: it is.
    """
    cleaned = source.strip()
    if not cleaned:
        raise IngestError("source must not be empty", field="source")
    if len(cleaned) > SOURCE_MAX_CHARS:
        raise IngestError(
            f"source is {len(cleaned)} characters, at most {SOURCE_MAX_CHARS} are allowed",
            field="source",
        )
    return cleaned


def ingest_thread(
    engine: Engine,
    model: LoadedModel,
    policy: Policy,
    thread: Thread,
    *,
    source: str | None = None,
    scored: Sequence[Mapping[str, Any]] | None = None,
    evidence_top: int = EVIDENCE_TOP,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Store a parsed page and queue what the policy routes; only new or edited text is scored.

    `scored` may give the score records of `thread.comments` (in order) when the caller has
    them already, as `POST /v1/threads?enqueue=true` does.

    Raises:
        IngestError: the source is empty or too long.
        DatabaseError: the database cannot be reached.
    """
    info = ThreadInfo(
        source=thread_source(thread, source),
        source_format=thread.source_format,
        url=thread.url,
        title=thread.article.title,
        article_text=thread.article.text or None,
    )
    stored = _current_versions(engine, info.source)
    wanted = [
        i
        for i, comment in enumerate(thread.comments)
        if (known := stored.get(comment.comment_id)) is None
        or known.sha != text_sha256(comment.text)
    ]
    if scored is not None:
        if len(scored) != len(thread.comments):
            raise ValueError(f"{len(scored)} score records for {len(thread.comments)} comments")
        fresh = [clean_scores(scored[i]) for i in wanted]
    else:
        frame = thread_frame(thread).iloc[wanted].reset_index(drop=True)
        fresh = []
        # In chunks, so a long page shows progress while it is scored (most of the time).
        for start in range(0, len(frame), CHUNK_COMMENTS):
            part = frame.iloc[start : start + CHUNK_COMMENTS].reset_index(drop=True)
            fresh.extend(_score(model, part, evidence_top))
            if progress is not None:
                progress(len(part))
    scores_by_id = {thread.comments[i].comment_id: s for i, s in zip(wanted, fresh, strict=True)}
    incoming = [
        Incoming(
            comment_id=c.comment_id,
            text=c.text,
            parent_id=c.parent_id,
            author=c.author,
            posted_at=c.posted_at,
            depth=c.depth,
            position=c.position,
            scores=scores_by_id.get(c.comment_id),
        )
        for c in thread.comments
        # A deleted placeholder has no text to judge; its replies still show in context.
        if not c.deleted
    ]
    return _write(engine, policy, info, incoming, stored)


def ingest_comments(
    engine: Engine,
    model: LoadedModel,
    policy: Policy,
    info: ThreadInfo,
    incoming: Sequence[Incoming],
    *,
    evidence_top: int = EVIDENCE_TOP,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Queue comments that arrive one by one (pre-scored rows, reader reports) under `info`.

    Comments without scores are scored here, with their parent's text from the same call or
    from the stored thread. A report without text refers to the stored comment.

    Raises:
        IngestError: a comment has no text and is not a report, has an empty or too long id,
            or carries scores without the three head probabilities.
        UnknownComment: a text-less report names a comment the thread does not have.
        ScoreRowError: a caller's score is not a probability.
        DatabaseError: the database cannot be reached.
    """
    stored = _current_versions(engine, info.source)
    by_id: dict[str, Incoming] = {}
    for n, comment in enumerate(incoming):
        where = f"comments.{n}"
        if not comment.comment_id.strip() or len(comment.comment_id) > COMMENT_ID_MAX_CHARS:
            raise IngestError(
                f"comment_id must be 1 to {COMMENT_ID_MAX_CHARS} characters",
                field=f"{where}.comment_id",
            )
        if comment.text is None:
            if comment.report is None:
                raise IngestError(
                    "a comment needs its text (only a report may name a stored comment by id)",
                    field=f"{where}.text",
                )
            if comment.comment_id not in stored and comment.comment_id not in by_id:
                raise UnknownComment(
                    f"comment {comment.comment_id!r} of {info.source!r} is not in the queue's "
                    "store; send its text with the report",
                    field=f"{where}.comment_id",
                )
        if comment.scores is not None:
            missing = [name for name in REQUIRED_SCORES if name not in comment.scores]
            if missing:
                raise IngestError(
                    f"scores lack {', '.join(missing)}", field=f"{where}.scores.{missing[0]}"
                )
            for name in REQUIRED_SCORES:
                value = comment.scores[name]
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not 0.0 <= float(value) <= 1.0
                ):
                    raise ScoreRowError(
                        f"{name} must be a probability from 0 to 1, not {value!r}",
                        field=f"{where}.scores.{name}",
                    )
        by_id[comment.comment_id] = comment

    # Fill in depth and position from the parent so the thread context can be drawn.
    next_position = 1 + max((s.position for s in stored.values()), default=-1)
    completed: list[Incoming] = []
    depths: dict[str, int] = {cid: s.depth for cid, s in stored.items()}
    for comment in incoming:
        depth = comment.depth
        if depth is None:
            depth = depths.get(comment.parent_id, -1) + 1 if comment.parent_id else 0
        position = comment.position
        known = stored.get(comment.comment_id)
        if position is None:
            if known is not None:
                position = known.position
            else:
                position = next_position
                next_position += 1
        depths[comment.comment_id] = depth
        completed.append(_replace(comment, depth=depth, position=position))

    needing = [
        c
        for c in completed
        if c.scores is None
        and c.text is not None
        and ((known := stored.get(c.comment_id)) is None or known.sha != text_sha256(c.text))
    ]
    if needing:
        texts = {c.comment_id: c.text for c in completed if c.text is not None}
        frame = pd.DataFrame(
            {
                "text": [c.text for c in needing],
                "parent_text": [_parent_text(c.parent_id, texts, stored, info) for c in needing],
                "topic": [info.topic for _ in needing],
            }
        )
        fresh = dict(
            zip(
                (c.comment_id for c in needing),
                _score(model, frame, evidence_top),
                strict=True,
            )
        )
        completed = [
            _replace(c, scores=fresh[c.comment_id]) if c.comment_id in fresh else c
            for c in completed
        ]
    result = _write(engine, policy, info, completed, stored)
    if progress is not None:
        progress(len(completed))
    return result


def _replace(comment: Incoming, **changes: Any) -> Incoming:
    values = {name: getattr(comment, name) for name in Incoming.__slots__}
    values.update(changes)
    return Incoming(**values)


def _parent_text(
    parent_id: str | None,
    texts: Mapping[str, str | None],
    stored: Mapping[str, _Stored],
    info: ThreadInfo,
) -> str | None:
    if parent_id is None:
        return info.article_context
    if texts.get(parent_id) is not None:
        return texts[parent_id]
    known = stored.get(parent_id)
    return known.text if known is not None else None


def _score(model: LoadedModel, frame: pd.DataFrame, evidence_top: int) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    scored = score_frame(model, frame[["text", "parent_text", "topic"]], evidence_top=evidence_top)
    return [clean_scores(record) for record in records(scored)]


def clean_scores(record: Mapping[str, Any]) -> dict[str, Any]:
    """A score record as JSON-ready values: numpy scalars as Python, NaN as None."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[str(key)] = value
    return out


def _current_versions(engine: Engine, source: str) -> dict[str, _Stored]:
    query = (
        sa.select(
            comments.c.comment_id,
            comments.c.id,
            comments.c.version,
            comments.c.text_sha256,
            comments.c.depth,
            comments.c.position,
            comments.c.text,
            comments.c.scores,
        )
        .join(threads, threads.c.thread_id == comments.c.thread_id)
        .where(threads.c.source == source, comments.c.superseded_at.is_(None))
    )
    with database_errors(engine), engine.connect() as connection:
        return {
            row.comment_id: _Stored(
                row.id, row.version, row.text_sha256, row.depth, row.position, row.text, row.scores
            )
            for row in connection.execute(query)
        }


def _insert_ignoring_conflict(connection: sa.Connection, table: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _lock_thread(connection: sa.Connection, info: ThreadInfo) -> int:
    now = utcnow()
    insert = _insert_ignoring_conflict(connection, threads).values(
        source=info.source,
        url=info.url,
        title=info.title,
        article_text=info.article_text,
        source_format=info.source_format,
        created_at=now,
        updated_at=now,
    )
    connection.execute(insert.on_conflict_do_nothing(index_elements=["source"]))
    # FOR UPDATE on PostgreSQL; SQLite already holds the database's write lock (IMMEDIATE).
    row = connection.execute(
        sa.select(threads.c.thread_id, threads.c.title, threads.c.article_text)
        .where(threads.c.source == info.source)
        .with_for_update()
    ).one()
    if info.title is not None and (row.title, row.article_text) != (
        info.title,
        info.article_text,
    ):
        connection.execute(
            threads.update()
            .where(threads.c.thread_id == row.thread_id)
            .values(title=info.title, article_text=info.article_text, updated_at=now)
        )
    return int(row.thread_id)


def _write(
    engine: Engine,
    policy: Policy,
    info: ThreadInfo,
    incoming: Sequence[Incoming],
    stored_before: Mapping[str, _Stored],
) -> IngestResult:
    # Which parents are flagged, from the new scores or the stored ones: a reply agreeing
    # with a flagged parent is boosted.
    flagged: dict[str, bool] = {
        cid: bool(flagged_heads(policy, s.scores)) for cid, s in stored_before.items()
    }
    for comment in incoming:
        if comment.scores is not None:
            flagged[comment.comment_id] = bool(flagged_heads(policy, comment.scores))

    result: IngestResult | None = None
    for start in range(0, max(len(incoming), 1), CHUNK_COMMENTS):
        chunk = incoming[start : start + CHUNK_COMMENTS]
        with write_transaction(engine) as connection:
            thread_id = _lock_thread(connection, info)
            if result is None:
                result = IngestResult(thread_id=thread_id, source=info.source)
            _write_chunk(connection, policy, thread_id, chunk, flagged, result)
    assert result is not None
    return result


def _write_chunk(
    connection: sa.Connection,
    policy: Policy,
    thread_id: int,
    chunk: Sequence[Incoming],
    flagged: Mapping[str, bool],
    result: IngestResult,
) -> None:
    # Read again under the lock: another ingest may have written these since we looked.
    ids = [c.comment_id for c in chunk]
    current: dict[str, Any] = {
        row.comment_id: row
        for row in connection.execute(
            sa.select(
                comments.c.id,
                comments.c.comment_id,
                comments.c.version,
                comments.c.text_sha256,
                comments.c.scores,
                comments.c.model_version,
            ).where(
                comments.c.thread_id == thread_id,
                comments.c.comment_id.in_(ids),
                comments.c.superseded_at.is_(None),
            )
        )
    }
    now = utcnow()
    for comment in chunk:
        known = current.get(comment.comment_id)
        if comment.text is None or (
            known is not None and known.text_sha256 == text_sha256(comment.text)
        ):
            if known is None:  # pragma: no cover - ingest_comments checked this
                raise UnknownComment(f"comment {comment.comment_id!r} is not stored")
            result.unchanged += 0 if comment.text is None else 1
            if comment.report is not None:
                _add_report(connection, policy, known, comment, flagged, result, now)
            continue
        if comment.scores is None:  # pragma: no cover - both ingest paths score first
            raise IngestError(f"comment {comment.comment_id!r} was not scored")
        scores = dict(comment.scores)
        version = 1 if known is None else known.version + 1
        if known is not None:
            connection.execute(
                comments.update().where(comments.c.id == known.id).values(superseded_at=now)
            )
        row_id = connection.execute(
            comments.insert()
            .values(
                thread_id=thread_id,
                comment_id=comment.comment_id,
                version=version,
                parent_comment_id=comment.parent_id,
                author=comment.author,
                posted_at=comment.posted_at,
                depth=comment.depth or 0,
                position=comment.position or 0,
                text=comment.text,
                text_sha256=text_sha256(comment.text),
                scores=scores,
                model_version=str(scores.get("model_version") or "unknown"),
                previous_id=None if known is None else known.id,
                created_at=now,
            )
            .returning(comments.c.id)
        ).scalar_one()
        # A later entry of the same call (a report on this comment) must find this version.
        current[comment.comment_id] = _Written(row_id, version, text_sha256(comment.text), scores)
        replaced: dict[str, int] = {}
        if known is None:
            result.new += 1
        else:
            result.edited += 1
            replaced = _supersede(connection, known.id, now, result)
        parent_flagged = comment.parent_id is not None and flagged.get(comment.parent_id, False)
        routes = route(
            policy, scores, parent_flagged=parent_flagged, reported=comment.report is not None
        )
        _open_items(connection, policy, thread_id, row_id, scores, routes, replaced, now, result)
        if comment.report is not None:
            _insert_report(connection, row_id, comment.report, now)
            result.reports += 1


def _supersede(
    connection: sa.Connection, old_row_id: int, now: datetime, result: IngestResult
) -> dict[str, int]:
    """Mark the old version's open items superseded; their ids by queue, for the new items."""
    old = connection.execute(
        sa.select(items.c.item_id, items.c.queue, items.c.status).where(
            items.c.comment_row_id == old_row_id
        )
    ).all()
    open_ids = [row.item_id for row in old if row.status == "open"]
    if open_ids:
        connection.execute(
            items.update()
            .where(items.c.item_id.in_(open_ids))
            .values(status="superseded", version=items.c.version + 1, updated_at=now)
        )
        result.items_superseded.extend(open_ids)
    return {row.queue: row.item_id for row in old}


def _open_items(
    connection: sa.Connection,
    policy: Policy,
    thread_id: int,
    row_id: int,
    scores: Mapping[str, Any],
    routes: Iterable[Route],
    replaced: Mapping[str, int],
    now: datetime,
    result: IngestResult,
) -> None:
    # The policy's flags, not the row's own: the policy may override the model's thresholds.
    flags = flagged_heads(policy, scores)
    rows = [
        {
            "comment_row_id": row_id,
            "thread_id": thread_id,
            "queue": r.queue,
            "head": r.head,
            "priority": r.priority,
            "probability": _route_probability(scores, r),
            "reason": r.reason,
            "flags": "," + ",".join(flags) + "," if flags else "",
            "hate_target": scores.get("hate_target") if "hate" in flags else None,
            "status": "open",
            "version": 1,
            "model_version": str(scores.get("model_version") or "unknown"),
            "replaces_item_id": replaced.get(r.queue),
            "created_at": now,
            "updated_at": now,
        }
        for r in routes
    ]
    for row in rows:
        item_id = connection.execute(
            items.insert().values(**row).returning(items.c.item_id)
        ).scalar_one()
        result.items_created.append(int(item_id))
        queue = str(row["queue"])
        result.by_queue[queue] = result.by_queue.get(queue, 0) + 1


def _route_probability(scores: Mapping[str, Any], r: Route) -> float | None:
    if r.head is not None:
        value = scores.get(r.head)
        return float(value) if isinstance(value, int | float) else None
    values = [scores.get(h) for h in _FLAG_HEADS]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers) if numbers else None


def _insert_report(connection: sa.Connection, row_id: int, report: Report, now: datetime) -> None:
    connection.execute(
        reports.insert().values(
            comment_row_id=row_id,
            reason=report.reason[:200],
            reporter=None if report.reporter is None else report.reporter[:200],
            created_at=now,
        )
    )


def _add_report(
    connection: sa.Connection,
    policy: Policy,
    known: Any,
    comment: Incoming,
    flagged: Mapping[str, bool],
    result: IngestResult,
    now: datetime,
) -> None:
    assert comment.report is not None
    _insert_report(connection, known.id, comment.report, now)
    result.reports += 1
    exists = connection.execute(
        sa.select(items.c.item_id).where(
            items.c.comment_row_id == known.id, items.c.queue == "reported"
        )
    ).first()
    if exists is not None:
        return
    parent_flagged = comment.parent_id is not None and flagged.get(comment.parent_id, False)
    routes = [
        r
        for r in route(policy, known.scores, parent_flagged=parent_flagged, reported=True)
        if r.queue == "reported"
    ]
    thread_id = connection.execute(
        sa.select(comments.c.thread_id).where(comments.c.id == known.id)
    ).scalar_one()
    _open_items(connection, policy, thread_id, known.id, known.scores, routes, {}, now, result)

"""Putting comments into the review queue: store them with their scores, open queue items.

Ingest is idempotent by (thread source, comment id): a comment whose text is unchanged is
skipped, a new one is stored as version 1, an edited one as the next version with a link
to the old row, and the old version's open items are marked `superseded` while the new
case points back to the one it replaces (`replaces_item_id`). Only new and edited comments
are scored. A comment version any route sends to review is one case (an item) carrying
all its reasons (`item_reasons`), so it is decided once whichever queue shows it.

Comments are written in chunks, each one transaction that first locks the thread's row,
so ingests of the same page from several processes take turns instead of duplicating
rows, and a run killed half-way leaves whole chunks that a rerun skips.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urldefrag, urljoin, urlsplit

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.domain import Comment, Thread
from app.errors import AppError
from app.features import article_context, thread_frame, topic_of
from app.labels import BINARY_HEADS
from app.policy import Policy, Route, ScoreRowError, flagged_heads, route
from app.queue.store import (
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
from app.registry import LoadedModel
from app.scoring import EVIDENCE_TOP, records, score_frame

CHUNK_COMMENTS: Final = 500
SOURCE_MAX_CHARS: Final = 500
COMMENT_ID_MAX_CHARS: Final = 200
# A caller's own scores need these, as probabilities (the router checks their range).
REQUIRED_SCORES: Final = ("hate", "toxic", "conspiracy")


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
    # Where the comment can be seen: its permalink, or the page's address with its anchor.
    url: str | None = None


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
        """What comments take a stance toward, as `thread_frame` gives it."""
        return topic_of(self.title, self.article_text)

    @property
    def article_context(self) -> str | None:
        """The parent text of a top-level comment, as `thread_frame` gives it."""
        return article_context(self.title, self.article_text)


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


def text_sha256(text: str) -> str:
    """The hash that tells an edited comment from an unchanged one."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


URL_MAX_CHARS: Final = 2_000


def comment_url(page_url: str | None, comment: Comment) -> str | None:
    """The address of one comment: its own permalink, else the page's address with the
    comment's anchor, else None. Only http(s) addresses, and none longer than
    `URL_MAX_CHARS` (a moderator's link, not a place to store a payload)."""
    candidates: list[str] = []
    if comment.url:
        candidates.append(urljoin(page_url or "", comment.url.strip()))
    if page_url and comment.anchor:
        candidates.append(urldefrag(page_url)[0] + "#" + quote(comment.anchor.strip(), safe=""))
    for url in candidates:
        if (checked := checked_url(url)) is not None:
            return checked
    return None


def checked_url(url: str | None) -> str | None:
    """`url` stripped when it is an http(s) address of at most `URL_MAX_CHARS`, else None."""
    if url is None:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if len(url) > URL_MAX_CHARS or parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


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
    thread = _without_nul(thread)
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
            url=comment_url(thread.url, c),
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
    for name in ("source", "title", "url", "article_text"):
        if "\x00" in (getattr(info, name) or ""):
            raise IngestError(f"{name} contains the NUL character (U+0000)", field=name)
    stored = _current_versions(engine, info.source)
    by_id: dict[str, Incoming] = {}
    for n, comment in enumerate(incoming):
        where = f"comments.{n}"
        _refuse_nul(comment, where)
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


def _refuse_nul(comment: Incoming, where: str) -> None:
    """Refuse U+0000 in what a caller sends: PostgreSQL cannot store it, and a caller can fix it.

    Raises:
        IngestError: a field has one.
    """
    fields: dict[str, Any] = {
        "comment_id": comment.comment_id,
        "text": comment.text,
        "parent_id": comment.parent_id,
        "author": comment.author,
        "scores": comment.scores,
    }
    if comment.report is not None:
        fields["report.reason"] = comment.report.reason
        fields["report.reporter"] = comment.report.reporter
    for name, value in fields.items():
        if value is not None and _nul_free(value) != value:
            raise IngestError(
                f"{name} contains the NUL character (U+0000)", field=f"{where}.{name}"
            )


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
    """A score record as JSON-ready values: numpy scalars as Python, NaN as None, no NUL."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[str(key)] = _nul_free(value)
    return out


def _nul_free(value: Any) -> Any:
    # PostgreSQL's text and JSONB cannot hold U+0000; evidence quotes the comment's words.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _nul_free(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nul_free(v) for v in value]
    return value


def _as_utc(value: datetime | None) -> datetime | None:
    """A page's time as stored: a time without a zone is taken as UTC (pages often show
    local time without saying which; the comment keeps the text as shown in `date_text`)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        return None


def _strip(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")


def _without_nul(thread: Thread) -> Thread:
    """The page with NUL characters removed: in a saved page they are debris of the scrape,
    and PostgreSQL cannot store them."""

    def has_nul(*values: str | None) -> bool:
        return any(v is not None and "\x00" in v for v in values)

    cleaned = tuple(
        dataclasses.replace(
            c,
            comment_id=_strip(c.comment_id) or "",
            parent_id=_strip(c.parent_id),
            text=_strip(c.text) or "",
            author=_strip(c.author),
            date_text=_strip(c.date_text),
            url=_strip(c.url),
            anchor=_strip(c.anchor),
        )
        if has_nul(c.comment_id, c.parent_id, c.text, c.author, c.date_text, c.url, c.anchor)
        else c
        for c in thread.comments
    )
    article = thread.article
    if has_nul(article.title, article.author, *(p.text for p in article.paragraphs)):
        article = dataclasses.replace(
            article,
            title=_strip(article.title),
            author=_strip(article.author),
            paragraphs=tuple(
                dataclasses.replace(p, text=_strip(p.text) or "") for p in article.paragraphs
            ),
        )
    if cleaned == thread.comments and article is thread.article and not has_nul(thread.url):
        return thread
    return dataclasses.replace(thread, comments=cleaned, article=article, url=_strip(thread.url))


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


@dataclass
class _Pending:
    """One comment of a call, with every report the call makes on it."""

    comment: Incoming
    reports: list[Report]


def _merged(incoming: Sequence[Incoming]) -> list[_Pending]:
    """The call's comments once each, in first-seen order; later text-less entries are reports.

    Raises:
        IngestError: one comment id comes twice with different texts.
    """
    pending: dict[str, _Pending] = {}
    for n, comment in enumerate(incoming):
        seen = pending.get(comment.comment_id)
        if seen is None:
            pending[comment.comment_id] = _Pending(
                comment, [comment.report] if comment.report is not None else []
            )
            continue
        if comment.text is not None:
            if seen.comment.text is None:
                seen.comment = _replace(comment, report=None)
            elif seen.comment.text != comment.text:
                raise IngestError(
                    f"comment {comment.comment_id!r} comes twice with different texts",
                    field=f"comments.{n}.comment_id",
                )
        if comment.report is not None:
            seen.reports.append(comment.report)
    return list(pending.values())


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
    pending = _merged(incoming)
    # Nothing to write for a comment whose text is stored already and that nobody reported;
    # the chunk re-reads under the lock whatever it does write.
    work: list[_Pending] = []
    unchanged = 0
    for entry in pending:
        known = stored_before.get(entry.comment.comment_id)
        text = entry.comment.text
        if not entry.reports and known is not None and text is not None:
            if known.sha == text_sha256(text):
                unchanged += 1
                continue
        work.append(entry)

    result: IngestResult | None = None
    for start in range(0, max(len(work), 1), CHUNK_COMMENTS):
        chunk = work[start : start + CHUNK_COMMENTS]
        with write_transaction(engine) as connection:
            thread_id = _lock_thread(connection, info)
            if result is None:
                result = IngestResult(thread_id=thread_id, source=info.source)
            if chunk:
                _write_chunk(connection, policy, thread_id, chunk, flagged, result)
    assert result is not None
    result.unchanged += unchanged
    return result


def _write_chunk(
    connection: sa.Connection,
    policy: Policy,
    thread_id: int,
    chunk: Sequence[_Pending],
    flagged: Mapping[str, bool],
    result: IngestResult,
) -> None:
    # Read again under the lock: another ingest may have written these since we looked.
    ids = [entry.comment.comment_id for entry in chunk]
    current: dict[str, Any] = {
        row.comment_id: row
        for row in connection.execute(
            sa.select(
                comments.c.id,
                comments.c.comment_id,
                comments.c.version,
                comments.c.text_sha256,
                comments.c.scores,
            ).where(
                comments.c.thread_id == thread_id,
                comments.c.comment_id.in_(ids),
                comments.c.superseded_at.is_(None),
            )
        )
    }
    now = utcnow()
    versions: list[tuple[_Pending, Any, dict[str, Any]]] = []  # (entry, the row it replaces)
    reported_only: list[tuple[_Pending, Any]] = []
    for entry in chunk:
        comment = entry.comment
        known = current.get(comment.comment_id)
        if comment.text is None or (
            known is not None and known.text_sha256 == text_sha256(comment.text)
        ):
            if known is None:
                raise UnknownComment(f"comment {comment.comment_id!r} is not stored")
            if comment.text is not None:
                result.unchanged += 1
            if entry.reports:
                reported_only.append((entry, known))
            continue
        if comment.scores is None:  # pragma: no cover - both ingest paths score first
            raise IngestError(f"comment {comment.comment_id!r} was not scored")
        versions.append((entry, known, dict(comment.scores)))

    edited = [known.id for _, known, _ in versions if known is not None]
    if edited:
        connection.execute(
            comments.update().where(comments.c.id.in_(edited)).values(superseded_at=now)
        )
    row_ids: list[int] = []
    if versions:
        # One statement for the whole chunk; insertmanyvalues keeps RETURNING in order.
        row_ids = list(
            connection.execute(
                comments.insert().returning(comments.c.id, sort_by_parameter_order=True),
                [
                    {
                        "thread_id": thread_id,
                        "comment_id": entry.comment.comment_id,
                        "version": 1 if known is None else known.version + 1,
                        "parent_comment_id": entry.comment.parent_id,
                        "author": entry.comment.author,
                        "posted_at": _as_utc(entry.comment.posted_at),
                        "depth": entry.comment.depth or 0,
                        "position": entry.comment.position or 0,
                        "text": entry.comment.text,
                        "text_sha256": text_sha256(entry.comment.text or ""),
                        "scores": scores,
                        "model_version": str(scores.get("model_version") or "unknown"),
                        "previous_id": None if known is None else known.id,
                        "created_at": now,
                        "url": entry.comment.url,
                    }
                    for entry, known, scores in versions
                ],
            ).scalars()
        )
    replaced = _supersede(connection, edited, now, result)
    cases: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    new_reports: list[dict[str, Any]] = []
    for (entry, known, scores), row_id in zip(versions, row_ids, strict=True):
        comment = entry.comment
        if known is None:
            result.new += 1
        else:
            result.edited += 1
        parent_flagged = comment.parent_id is not None and flagged.get(comment.parent_id, False)
        routes = route(policy, scores, parent_flagged=parent_flagged, reported=bool(entry.reports))
        previous = replaced.get(known.id) if known is not None else None
        case = _case(policy, thread_id, row_id, scores, routes, previous, now)
        if case is not None:
            cases.append(case)
        new_reports.extend(_report_rows(row_id, entry.reports, now))
    for entry, known in reported_only:
        new_reports.extend(_report_rows(known.id, entry.reports, now))
        comment = entry.comment
        parent_flagged = comment.parent_id is not None and flagged.get(comment.parent_id, False)
        routes = [
            r
            for r in route(policy, known.scores, parent_flagged=parent_flagged, reported=True)
            if r.queue == "reported"
        ]
        if not routes:
            continue
        live = connection.execute(
            sa.select(items.c.item_id, items.c.status, items.c.version).where(
                items.c.comment_row_id == known.id, items.c.status != "superseded"
            )
        ).first()
        if live is None:
            case = _case(policy, thread_id, known.id, known.scores, routes, None, now)
            if case is not None:
                cases.append(case)
        else:
            _add_report_reason(connection, live, routes[0], entry.reports[0], now, result)
    if cases:
        item_ids = connection.execute(
            items.insert().returning(items.c.item_id, sort_by_parameter_order=True),
            [case for case, _ in cases],
        ).scalars()
        reason_rows: list[dict[str, Any]] = []
        for item_id, (_, reasons) in zip(item_ids, cases, strict=True):
            result.items_created.append(int(item_id))
            for reason in reasons:
                reason_rows.append({**reason, "item_id": int(item_id)})
                queue = str(reason["queue"])
                result.by_queue[queue] = result.by_queue.get(queue, 0) + 1
        connection.execute(item_reasons.insert(), reason_rows)
    if new_reports:
        connection.execute(reports.insert(), new_reports)
        result.reports += len(new_reports)


# Who a decision made by the system itself is recorded as (a reader's report reopening an
# approved comment): not a key, so no moderator is credited with it.
REPORT_REOPENER: Final = "threadguard: reader report"


def _add_report_reason(
    connection: sa.Connection,
    live: Any,
    reported: Route,
    report: Report,
    now: datetime,
    result: IngestResult,
) -> None:
    """A report on a comment already under review adds the `reported` reason to its case.

    A case a moderator approved opens again, through a `reopen` decision in the audit log
    (so the log still says why its status changed); a rejected or escalated one stays as
    it is, with the report beside it.
    """
    has_reason = connection.execute(
        sa.select(item_reasons.c.queue).where(
            item_reasons.c.item_id == live.item_id, item_reasons.c.queue == "reported"
        )
    ).first()
    if has_reason is not None:
        return
    status = live.status
    if status == "approved":
        status = "open"
        reopened = connection.execute(
            items.update()
            .where(items.c.item_id == live.item_id, items.c.version == live.version)
            .values(status="open", version=items.c.version + 1, updated_at=now)
        )
        if reopened.rowcount != 1:  # pragma: no cover - the thread lock orders ingests
            raise IngestError(f"item {live.item_id} changed while a report was added")
        connection.execute(
            item_reasons.update()
            .where(item_reasons.c.item_id == live.item_id)
            .values(status="open")
        )
        connection.execute(
            decisions.insert().values(
                item_id=live.item_id,
                item_version=live.version,
                action="reopen",
                status_after="open",
                reason=f"reported by a reader: {report.reason}"[:200],
                key_id=None,
                moderator=REPORT_REOPENER,
                decided_at=now,
                queue="reported",
            )
        )
    connection.execute(
        item_reasons.insert().values(
            item_id=live.item_id,
            queue="reported",
            head=None,
            priority=reported.priority,
            probability=None,
            reason=reported.reason,
            status=status,
            from_item_id=None,
            created_at=now,
        )
    )
    connection.execute(
        items.update()
        .where(items.c.item_id == live.item_id, items.c.priority < reported.priority)
        .values(priority=reported.priority)
    )
    result.by_queue["reported"] = result.by_queue.get("reported", 0) + 1


def _supersede(
    connection: sa.Connection, old_row_ids: Sequence[int], now: datetime, result: IngestResult
) -> dict[int, int]:
    """Mark the old versions' open cases superseded; by old row, the case an edit replaces."""
    if not old_row_ids:
        return {}
    old = connection.execute(
        sa.select(items.c.item_id, items.c.comment_row_id, items.c.status)
        .where(items.c.comment_row_id.in_(list(old_row_ids)))
        .order_by(items.c.item_id)
    ).all()
    open_ids = [row.item_id for row in old if row.status == "open"]
    if open_ids:
        connection.execute(
            items.update()
            .where(items.c.item_id.in_(open_ids))
            .values(status="superseded", version=items.c.version + 1, updated_at=now)
        )
        connection.execute(
            item_reasons.update()
            .where(item_reasons.c.item_id.in_(open_ids))
            .values(status="superseded")
        )
        result.items_superseded.extend(open_ids)
    # The old version's live case if it had one (decided cases stay live), else its last.
    by_row: dict[int, int] = {}
    for row in old:
        if row.status != "superseded" or row.item_id in open_ids:
            by_row[row.comment_row_id] = row.item_id
        else:
            by_row.setdefault(row.comment_row_id, row.item_id)
    return by_row


def _case(
    policy: Policy,
    thread_id: int,
    row_id: int,
    scores: Mapping[str, Any],
    routes: Sequence[Route],
    replaced: int | None,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The case of one comment version and its reasons, None when no route sends it."""
    if not routes:
        return None
    # The policy's flags, not the row's own: the policy may override the model's thresholds.
    flags = flagged_heads(policy, scores)
    top = routes[0]  # `route` sorts the most urgent first
    case = {
        "comment_row_id": row_id,
        "thread_id": thread_id,
        "queue": top.queue,
        "head": top.head,
        "priority": top.priority,
        "probability": route_probability(scores, top),
        "reason": top.reason,
        "flags": "," + ",".join(flags) + "," if flags else "",
        "hate_target": scores.get("hate_target") if "hate" in flags else None,
        "status": "open",
        "version": 1,
        "model_version": str(scores.get("model_version") or "unknown"),
        "replaces_item_id": replaced,
        "created_at": now,
        "updated_at": now,
    }
    reasons = [
        {
            "queue": r.queue,
            "head": r.head,
            "priority": r.priority,
            "probability": route_probability(scores, r),
            "reason": r.reason,
            "status": "open",
            "from_item_id": None,
            "created_at": now,
        }
        for r in routes
    ]
    return case, reasons


def route_probability(scores: Mapping[str, Any], r: Route) -> float | None:
    """The probability a reason shows: its head's, or the highest flag's for a report."""
    if r.head is not None:
        value = scores.get(r.head)
        return float(value) if isinstance(value, int | float) else None
    values = [scores.get(h) for h in BINARY_HEADS]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers) if numbers else None


def _report_rows(row_id: int, given: Sequence[Report], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "comment_row_id": row_id,
            "reason": report.reason[:200],
            "reporter": None if report.reporter is None else report.reporter[:200],
            "created_at": now,
        }
        for report in given
    ]

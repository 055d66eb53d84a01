"""The review queue's JSON API: ingest, list, one item in context, decisions, stats, export.

Reads and decisions need a moderator key; the export (every moderator's decisions with the
comment texts) needs an admin key, as does deciding an escalated item.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.api.budget import check_budget, check_count, check_text, request_cost
from app.api.deps import AdminDep, KeyFirstRoute, ModeratorDep, ServicesDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import (
    NO_NUL,
    NOT_BLANK_NO_NUL,
    DocumentedAs,
    FilterTime,
    Name,
    NulFreeJson,
    StoredTime,
    Text,
    is_blank,
    limit,
    no_nul,
)
from app.api.work import ClientGone
from app.auth import ApiKey
from app.config import Settings
from app.features import article_context, topic_of
from app.heads import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS
from app.queue.ingest import (
    REQUIRED_SCORES,
    Incoming,
    Report,
    ThreadInfo,
    checked_source,
    checked_url,
    ingest_comments,
)
from app.queue.review import (
    BULK_MAX,
    CURSOR_PATTERN,
    MAX_PAGE,
    SEARCH_MAX_CHARS,
    Filters,
    Labels,
    Seen,
    decide,
    decide_many,
    export_feedback,
    get_item,
    history,
    list_items,
    stats,
)
from app.queue.store import (
    DECISION_ACTIONS,
    ITEM_STATUSES,
    MODEL_VERSION_CHARS,
    QUEUE_NAMES,
    comments,
    database_errors,
    threads,
)

router = APIRouter(tags=["queue"], route_class=KeyFirstRoute)

# A static cap on the article: it is stored, and counts toward the budget only when a
# comment without scores needs it as context.
_ARTICLE_CAP = 1_000_000


def _no_nul_inside(value: Any) -> Any:
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(str(key))
            _no_nul_inside(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul_inside(item)
    return value


ItemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The queue item's id.")]
_Probability = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]}),
]


class ScoreRecord(BaseModel):
    """A score record as /v1/score or `threadguard score` returns it (documentation only:
    `_check_scores` and ingest check it, naming the field)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "required": list(REQUIRED_SCORES),
            "propertyNames": {"pattern": NO_NUL},
        },
    )
    __pydantic_extra__: dict[str, NulFreeJson]

    hate: _Probability = None
    toxic: _Probability = None
    conspiracy: _Probability = None
    hate_target: Annotated[
        Any, WithJsonSchema({"anyOf": [{"enum": list(HATE_TARGETS)}, {"type": "null"}]})
    ] = None
    model_version: Annotated[
        Any,
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "maxLength": MODEL_VERSION_CHARS, "pattern": NO_NUL},
                    {"type": "null"},
                ]
            }
        ),
    ] = None


class ReportIn(BaseModel):
    """A reader's report of a comment."""

    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=200, description="Why it was reported.")
    reporter: Text | None = Field(default=None, max_length=200, description="Who reported it.")


class QueueCommentIn(BaseModel):
    """One comment to queue: scored here unless `scores` is given; text optional for a
    report on a comment already stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # Only a report may leave the text out: it then names a stored comment.
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["report"], "properties": {"report": {"type": "object"}}},
            ]
        },
    )

    comment_id: Name = Field(max_length=200, description="Your id for it; not blank.")
    # No static cap: over THREADGUARD_MAX_TEXT_BYTES is 413 text_too_long.
    text: (
        Annotated[
            str,
            AfterValidator(no_nul),
            Field(json_schema_extra=limit("max_text_bytes", pattern=NOT_BLANK_NO_NUL)),
        ]
        | None
    ) = Field(
        default=None,
        description="The comment: at most THREADGUARD_MAX_TEXT_BYTES UTF-8 bytes (413 over "
        "it), not blank. Only a report on a stored comment may leave it out.",
    )
    parent_id: Text | None = Field(
        default=None, max_length=200, description="The comment it replies to (None: the article)."
    )
    author: Text | None = Field(default=None, max_length=200)
    posted_at: StoredTime | None = Field(
        default=None,
        description="RFC 3339 with seconds and a zone; on 0001-01-01 or 9999-12-31 in UTC (Z).",
    )
    scores: (
        Annotated[dict[str, Any], AfterValidator(_no_nul_inside), DocumentedAs(ScoreRecord)] | None
    ) = Field(
        default=None,
        description="A score record as /v1/score or `threadguard score` returns it (at least "
        "hate, toxic and conspiracy probabilities, and model_version); left out, the "
        "comment is scored with the current model.",
    )
    report: ReportIn | None = None
    url: Text | None = Field(
        default=None,
        max_length=2_000,
        description="The comment's own address (permalink), linked from the review page; "
        "kept only when it is http(s).",
    )


class QueueItemsIn(BaseModel):
    """Comments of one thread (page, story) to put into the queue."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "https://example.org/2026/11/bridge",
                    "title": "The council votes on the bridge",
                    "comments": [
                        {"comment_id": "c1", "text": "Build it.", "author": "ann"},
                        {
                            "comment_id": "c2",
                            "parent_id": "c1",
                            "text": "Only a fool would.",
                            "report": {"reason": "insult", "reporter": "reader-7"},
                        },
                    ],
                }
            ]
        },
    )

    source: Name = Field(
        max_length=500,
        description="What identifies the thread across calls: its URL or your story id.",
    )
    title: Text | None = Field(default=None, max_length=1_000, description="The topic.")
    url: Text | None = Field(default=None, max_length=2_000)
    article_text: Text | None = Field(default=None, max_length=_ARTICLE_CAP)
    comments: list[QueueCommentIn] = Field(
        min_length=1,
        description="At most THREADGUARD_MAX_BATCH comments (413 over it).",
        json_schema_extra=limit("max_batch"),
    )


class LabelsIn(BaseModel):
    """Label corrections; leave out what you do not correct."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # A target is a target of hate: not named when hate is corrected to false.
            "not": {
                "required": ["hate", "hate_target"],
                "properties": {"hate": {"const": False}, "hate_target": {"type": "string"}},
            }
        },
    )

    hate: bool | None = None
    hate_target: Literal[HATE_TARGETS] | None = None  # type: ignore[valid-type]
    toxic: bool | None = None
    conspiracy: bool | None = None
    stance: Literal[STANCE_LABELS] | None = None  # type: ignore[valid-type]
    reply_stance: Literal[REPLY_LABELS] | None = None  # type: ignore[valid-type]


_NOT_NULL: dict[str, Any] = {"not": {"type": "null"}}


class DecisionIn(BaseModel):
    """A moderator's decision on the version of the item they saw."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "reject", "item_version": 1, "reason": "antisemitic slur"},
                {
                    "action": "label",
                    "item_version": 2,
                    "labels": {"hate": True, "hate_target": "muslim"},
                },
            ],
            # A label decision corrects something: its labels give at least one value.
            "anyOf": [
                {"properties": {"action": {"not": {"const": "label"}}}},
                {
                    "required": ["labels"],
                    "properties": {
                        "labels": {
                            "type": "object",
                            "anyOf": [
                                {"required": [name], "properties": {name: _NOT_NULL}}
                                for name in LabelsIn.model_fields
                            ],
                        }
                    },
                },
            ],
        },
    )

    action: Literal[DECISION_ACTIONS] = Field(  # type: ignore[valid-type]
        description="approve (the comment may stay), reject (it may not), escalate (an "
        "admin decides), label (corrections only), reopen (undo: back to open)."
    )
    item_version: int = Field(
        ge=1, le=2**31 - 1, description="The item's `version` when you looked at it."
    )
    labels: LabelsIn | None = None
    reason: Text | None = Field(default=None, max_length=200)
    note: Text | None = Field(default=None, max_length=2_000)
    queue: Literal[QUEUE_NAMES] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The queue you decided it from: reject confirms that reason's head "
        "(approve clears every flag of the case). Left out: the case's most urgent reason. "
        "A queue the case is not in is 422.",
    )


class SeenIn(BaseModel):
    """One case of a bulk decision, at the version you saw."""

    model_config = ConfigDict(extra="forbid")

    item_id: int = Field(ge=1, le=2**31 - 1)
    item_version: int = Field(ge=1, le=2**31 - 1)


class BulkDecisionIn(BaseModel):
    """One decision on each of several cases (the review page's bulk approve/reject)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "reject",
                    "items": [
                        {"item_id": 3, "item_version": 1},
                        {"item_id": 4, "item_version": 1},
                    ],
                    "reason": "Spam",
                }
            ]
        },
    )

    action: Literal["approve", "reject", "reopen"] = Field(
        description="approve, reject, or reopen (the undo of a bulk decision)."
    )
    items: list[SeenIn] = Field(min_length=1, max_length=BULK_MAX)
    reason: Text | None = Field(default=None, max_length=200)
    note: Text | None = Field(default=None, max_length=2_000)
    queue: Literal[QUEUE_NAMES] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The queue the selection was made in (what a reject confirms, for the "
        "cases that are in it).",
    )


def _check_texts(body: QueueItemsIn, settings: Settings, engine: Any) -> None:
    """Refuse a call over the comment count, the per-comment limit or the cost budget.

    What counts toward the budget is what ingest scores: the text of each comment sent
    without `scores`, the article context and title once, and each distinct parent text
    read from the store for such a comment (by its stored length in characters).

    Raises:
        ApiError: 413 batch_too_large, text_too_long or request_too_large; 422 comment_empty.
    """
    check_count(len(body.comments), settings.max_batch, "THREADGUARD_MAX_BATCH", what="the call")
    sizes: list[int] = []
    for n, comment in enumerate(body.comments):
        if comment.scores is not None:
            _check_scores(comment.scores, f"comments.{n}.scores")
        if comment.text is None:
            continue
        if is_blank(comment.text):
            raise ApiError(422, "text is empty", code="comment_empty", field=f"comments.{n}.text")
        size = check_text(comment.text, settings, f"comments.{n}.text")
        if comment.scores is None:
            sizes.append(size)
    if not sizes:
        return
    sent = {c.comment_id for c in body.comments if c.text is not None}
    outside = {
        c.parent_id
        for c in body.comments
        if c.scores is None and c.text is not None and c.parent_id and c.parent_id not in sent
    }
    stored = _stored_lengths(engine, body.source.strip(), outside) if outside else 0
    article = article_context(body.title, body.article_text)
    cost = request_cost([], [article, topic_of(body.title, body.article_text)], sizes=sizes)
    check_budget(cost + stored, settings, what="the call")


def _check_scores(scores: dict[str, Any], where: str) -> None:
    """Refuse the values of a caller's score record that are copied into typed columns.

    Ingest checks the three probabilities; these two would otherwise reach the database,
    where a non-string or over-long value fails the insert (PostgreSQL) or stores garbage.

    Raises:
        ApiError: 422 invalid_scores naming the field.
    """
    target = scores.get("hate_target")
    if target is not None and target not in HATE_TARGETS:
        raise ApiError(
            422,
            f"hate_target must be one of {', '.join(HATE_TARGETS)} or null, not {target!r}",
            code="invalid_scores",
            field=f"{where}.hate_target",
        )
    version = scores.get("model_version")
    fits = isinstance(version, str) and len(version) <= MODEL_VERSION_CHARS
    if version is not None and not fits:
        raise ApiError(
            422,
            f"model_version must be a string of at most {MODEL_VERSION_CHARS} characters or null",
            code="invalid_scores",
            field=f"{where}.model_version",
        )


def _stored_lengths(engine: Any, source: str, comment_ids: set[str]) -> int:
    """The summed length of the current stored texts of these comments of `source`."""
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(comments.c.text)), 0))
        .join(threads, threads.c.thread_id == comments.c.thread_id)
        .where(
            threads.c.source == source,
            comments.c.superseded_at.is_(None),
            comments.c.comment_id.in_(sorted(comment_ids)),
        )
    )
    with database_errors(engine), engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


@router.post(
    "/v1/queue/items",
    status_code=status.HTTP_200_OK,
    responses=error_responses(400, 401, 403, 404, 413, 422, 503),
)
async def post_items(
    request: Request, body: QueueItemsIn, services: ServicesDep, caller: ModeratorDep
) -> dict[str, Any]:
    """Queue comments of one thread (scored here unless scores are given) and reader reports.

    At most THREADGUARD_MAX_BATCH comments and THREADGUARD_MAX_REQUEST_TEXT_BYTES of text to
    score; ingest scores and writes in one step on a scoring thread, so a client that
    disconnects is noticed only before it starts.
    """
    settings = services.settings
    scoring = services.scoring
    await scoring.run(_check_texts, body, settings, services.engine)
    if await request.is_disconnected():
        services.metrics.observe_abandoned("queue")
        raise ClientGone()
    info = ThreadInfo(
        source=checked_source(body.source),
        source_format="api",
        url=body.url,
        title=body.title,
        article_text=body.article_text,
    )
    incoming = [
        Incoming(
            comment_id=c.comment_id,
            text=c.text,
            parent_id=c.parent_id,
            author=c.author,
            posted_at=c.posted_at,
            scores=c.scores,
            report=None if c.report is None else Report(c.report.reason, c.report.reporter),
            url=checked_url(c.url),
        )
        for c in body.comments
    ]
    assert services.policy is not None
    result = await scoring.run(
        ingest_comments,
        services.engine,
        services.model,
        services.policy,
        info,
        incoming,
        evidence_top=settings.evidence_top,
    )
    services.metrics.observe_queued(result.by_queue)
    return result.as_dict()


@router.get("/v1/queue/items", responses=error_responses(401, 403, 422, 503))
def get_items(
    services: ServicesDep,
    caller: ModeratorDep,
    queue: Annotated[
        str | None, Query(description="One queue.", json_schema_extra={"enum": list(QUEUE_NAMES)})
    ] = None,
    status_: Annotated[
        str,
        Query(
            alias="status",
            description="Items in this status, or `any`.",
            json_schema_extra={"enum": [*ITEM_STATUSES, "any"]},
        ),
    ] = "open",
    label: Annotated[
        str | None,
        Query(
            description="Only comments flagged with this label.",
            json_schema_extra={"enum": ["hate", "toxic", "conspiracy"]},
        ),
    ] = None,
    target: Annotated[
        str | None,
        Query(
            description="Only hate flags against this group.",
            json_schema_extra={"enum": list(HATE_TARGETS)},
        ),
    ] = None,
    min_probability: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    thread_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[
        Annotated[str, Field(json_schema_extra={"pattern": NOT_BLANK_NO_NUL})] | None,
        Query(
            max_length=SEARCH_MAX_CHARS,
            description="Only comments whose text contains this (case-insensitive).",
        ),
    ] = None,
    author: Annotated[
        Annotated[str, Field(json_schema_extra={"pattern": NOT_BLANK_NO_NUL})] | None,
        Query(
            max_length=SEARCH_MAX_CHARS,
            description="Only comments by this author: the name exactly as pages show it.",
        ),
    ] = None,
    since: Annotated[
        FilterTime | None, Query(description="Queued at or after (RFC 3339, with a zone).")
    ] = None,
    until: Annotated[
        FilterTime | None, Query(description="Queued before (RFC 3339, with a zone).")
    ] = None,
    order: Annotated[Literal["priority", "newest", "oldest"], Query()] = "priority",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[
        Annotated[str, Field(json_schema_extra={"pattern": CURSOR_PATTERN})] | None,
        Query(
            max_length=200,
            description="`next_cursor` of the previous page, passed as it is: it continues "
            "that listing in its order (`order` is then not read).",
        ),
    ] = None,
) -> dict[str, Any]:
    """List queue items, most urgent first, with filters and cursor pagination."""
    filters = Filters(
        queue=queue,
        status=None if status_ == "any" else status_,
        label=label,
        target=target,
        min_probability=min_probability,
        thread_id=thread_id,
        since=since,
        until=until,
        text=q,
        author=author,
    )
    page = list_items(services.engine, filters, order=order, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/v1/queue/items/{item_id}", responses=error_responses(401, 403, 404, 422, 503))
def get_one(item_id: ItemId, services: ServicesDep, caller: ModeratorDep) -> dict[str, Any]:
    """One item: the comment, its scores and evidence, the thread around it, its decisions."""
    return get_item(services.engine, item_id)


@router.get(
    "/v1/queue/items/{item_id}/decisions", responses=error_responses(401, 403, 404, 422, 503)
)
def get_decisions(item_id: ItemId, services: ServicesDep, caller: ModeratorDep) -> dict[str, Any]:
    """Every decision on an item, oldest first (the audit log)."""
    return {"item_id": item_id, "decisions": history(services.engine, item_id)}


@router.post(
    "/v1/queue/items/{item_id}/decisions",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 404, 409, 422, 503),
)
def post_decision(
    item_id: ItemId, body: DecisionIn, services: ServicesDep, caller: ModeratorDep
) -> dict[str, Any]:
    """Decide an item; 409 with its current state when someone decided it first."""
    key: ApiKey | None = caller.key
    assert key is not None  # a moderator is never anonymous
    labels = Labels(**body.labels.model_dump()) if body.labels is not None else None
    made = decide(
        services.engine,
        item_id,
        action=body.action,
        item_version=body.item_version,
        key=key,
        labels=labels,
        reason=body.reason,
        note=body.note,
        queue=body.queue,
    )
    services.metrics.observe_decision(body.action)
    return made


@router.post("/v1/queue/decisions", responses=error_responses(400, 401, 403, 422, 503))
def post_decisions(
    body: BulkDecisionIn, services: ServicesDep, caller: ModeratorDep
) -> dict[str, Any]:
    """Decide several cases at once, each on its own: one decided meanwhile by someone else
    is reported (`ok: false`, with `current` for a stale one) and the rest still go through."""
    key: ApiKey | None = caller.key
    assert key is not None  # a moderator is never anonymous
    results = decide_many(
        services.engine,
        [Seen(one.item_id, one.item_version) for one in body.items],
        action=body.action,
        key=key,
        reason=body.reason,
        note=body.note,
        queue=body.queue,
    )
    for result in results:
        if result["ok"]:
            services.metrics.observe_decision(body.action)
    return {
        "decided": sum(1 for r in results if r["ok"]),
        "refused": sum(1 for r in results if not r["ok"]),
        "results": results,
    }


@router.get("/v1/queue/stats", responses=error_responses(401, 403, 503))
def get_stats(services: ServicesDep, caller: ModeratorDep) -> dict[str, Any]:
    """Open items per queue, decisions per moderator, flag precision, moderator agreement."""
    found = asdict(stats(services.engine))
    found.pop("extra", None)
    return found


@router.get(
    "/v1/queue/export",
    responses={
        200: {
            "description": "One JSON object per line (threadguard.feedback/1), oldest first.",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 422, 503),
    },
)
def get_export(
    services: ServicesDep,
    caller: AdminDep,
    since: Annotated[
        FilterTime | None,
        Query(description="Only decisions made at or after this time (RFC 3339, with a zone)."),
    ] = None,
) -> StreamingResponse:
    """Every decision as a labelled training row (what `threadguard queue export` writes)."""
    rows = list(export_feedback(services.engine, since=since))

    def lines() -> Iterator[str]:
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")

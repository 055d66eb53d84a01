"""POST /v1/threads: a page body in, its comment tree out, every comment scored in context.

The response is streamed comment by comment, so a page of 100,000 comments never becomes
one string in memory. `Accept: application/x-ndjson` gives one JSON object per line
(a "thread" header, one "comment" per comment in document order, a closing "summary");
otherwise one JSON document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import MetricsDep, ModelDep, ScorerDep, ServicesDep, SettingsDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import scored_comment
from app.auth import Role
from app.queue.ingest import ingest_thread
from app.scoring import records, score_thread
from app.threads import FORMATS, ParseOptions, parse

router = APIRouter(tags=["threads"])

NDJSON = "application/x-ndjson"
_PAGE_TYPES = ("text/html", "text/plain", "application/xml", "application/json")

_EXAMPLE_RESPONSE = {
    "model_version": "20261123-535e70f8",
    "thread": {
        "schema": "threadguard.thread/1",
        "url": None,
        "source_format": "textdump",
        "article": {"title": "A title", "author": None, "paragraphs": []},
        "comments": [
            {
                "comment_id": "c1",
                "parent_id": None,
                "author": "Ann",
                "depth": 0,
                "position": 0,
                "text": "…",
                "labels": {
                    "scores": {"hate": 0.02, "toxic": 0.11, "conspiracy": 0.04},
                    "flags": [],
                    "hate_target": None,
                    "stance": None,
                    "reply_stance": None,
                    "thread_stance": {"label": "favor", "p": 0.61},
                    "evidence": {},
                },
            }
        ],
    },
    "summary": {"comments": 1, "flags": {"hate": 0, "toxic": 0, "conspiracy": 0}},
}


@router.post(
    "/v1/threads",
    responses={
        200: {
            "description": "The parsed thread with a `labels` object on every comment "
            f"(or, with Accept: {NDJSON}, one JSON object per line).",
            "content": {
                "application/json": {"example": _EXAMPLE_RESPONSE},
                NDJSON: {"schema": {"type": "string"}},
            },
        },
        **error_responses(400, 401, 403, 413, 422, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The page as saved: WordPress/Blogger/other HTML, a plain-text "
            "dump, WordPress WXR, Disqus XML, Reddit JSON, or JSON/JSONL with parent ids.",
            "content": {kind: {"schema": {"type": "string"}} for kind in _PAGE_TYPES},
        }
    },
)
async def threads(
    request: Request,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    caller: ScorerDep,
    services: ServicesDep,
    format: Annotated[
        str | None,
        Query(
            description="The page's format; detected from the content when left out.",
            json_schema_extra={"enum": list(FORMATS)},
        ),
    ] = None,
    enqueue: Annotated[
        bool,
        Query(
            description="Also put the comments the review policy routes into the moderator "
            "queue (needs a moderator key); the summary then has a `queue` object."
        ),
    ] = False,
    source: Annotated[
        str | None,
        Query(
            max_length=500,
            description="With enqueue: what identifies the thread across calls (default: "
            "the page's URL, else a hash of its article and first comment).",
        ),
    ] = None,
) -> StreamingResponse:
    """Parse a comment page and score every comment with its parent and the thread's topic."""
    if enqueue and (caller.role is None or not caller.role.allows(Role.moderator)):
        raise ApiError(
            403,
            "enqueue=true puts comments into the review queue: it needs a moderator key",
            field="enqueue",
        )
    if format is not None and format not in FORMATS:
        raise ApiError(
            422,
            f"unknown format {format!r}; choose one of {', '.join(FORMATS)}",
            code="invalid_input",
            field="format",
        )
    body = await request.body()
    if not body.strip():
        raise ApiError(422, "the body is empty: send the page itself", code="parse_error")
    options = ParseOptions(
        max_bytes=settings.max_body_bytes, max_comments=settings.max_thread_comments
    )
    thread = await run_in_threadpool(parse, body, format=format, options=options)
    scored = await run_in_threadpool(
        score_thread, model, thread, evidence_top=settings.evidence_top
    )
    rows = records(scored)
    metrics.observe_rows(rows, endpoint="threads")
    queued: dict[str, Any] | None = None
    if enqueue:
        assert services.policy is not None
        result = await run_in_threadpool(
            ingest_thread,
            services.engine,
            model,
            services.policy,
            thread,
            source=source,
            scored=rows,
        )
        queued = result.as_dict()
        metrics.observe_queued(result.by_queue)
    # The thread is turned into JSON-ready values once; header and comments share it.
    header = thread.to_dict()
    comments = header.pop("comments")
    accept = request.headers.get("accept", "")
    if NDJSON in accept:
        return StreamingResponse(
            _ndjson(header, comments, rows, model.version, queued), media_type=NDJSON
        )
    return StreamingResponse(
        _document(header, comments, rows, model.version, queued), media_type="application/json"
    )


def _labelled(
    comments: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    for comment, record in zip(comments, rows, strict=True):
        labels = scored_comment(record, None)
        del labels["id"], labels["model_version"]
        stance = record.get("thread_stance")
        labels["thread_stance"] = (
            {"label": stance, "p": round(float(record["thread_stance_p"]), 6)} if stance else None
        )
        yield {**comment, "labels": labels}


def _summary(rows: list[dict[str, Any]], queued: dict[str, Any] | None) -> dict[str, Any]:
    flags = {
        head: sum(1 for row in rows if row[f"{head}_flag"])
        for head in ("hate", "toxic", "conspiracy")
    }
    summary: dict[str, Any] = {"comments": len(rows), "flags": flags}
    if queued is not None:
        summary["queue"] = queued
    return summary


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _document(
    header: dict[str, Any],
    comments: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    version: str,
    queued: dict[str, Any] | None,
) -> Iterator[str]:
    opening = _dumps(header)
    yield f'{{"model_version":{_dumps(version)},"thread":{opening[:-1]},"comments":['
    for i, comment in enumerate(_labelled(comments, rows)):
        yield ("," if i else "") + _dumps(comment)
    yield f']}},"summary":{_dumps(_summary(rows, queued))}}}'


def _ndjson(
    header: dict[str, Any],
    comments: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    version: str,
    queued: dict[str, Any] | None,
) -> Iterator[str]:
    yield _dumps({"type": "thread", "model_version": version, **header}) + "\n"
    for comment in _labelled(comments, rows):
        yield _dumps({"type": "comment", **comment}) + "\n"
    yield _dumps({"type": "summary", **_summary(rows, queued)}) + "\n"

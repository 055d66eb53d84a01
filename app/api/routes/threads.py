"""POST /v1/threads: a page body in, its comment tree out, every comment scored in context.

The page is parsed, then checked against the cost budget before anything is scored: at most
THREADGUARD_MAX_PAGE_COMMENTS comments, each at most THREADGUARD_MAX_TEXT_BYTES (a longer
comment is refused with 413 naming its path, `comments.17.text`, and its id: a prefix
would be scored without the words that may have made it hateful), and at most
THREADGUARD_MAX_REQUEST_TEXT_BYTES of text in all (the comments, the article context and
the topic). Scoring runs in chunks that stop when the client disconnects; the queue is
written only after the last chunk, so a page left half-scored stores nothing.

The response is streamed comment by comment, so a long page never becomes one string in
memory. `Accept: application/x-ndjson` gives one JSON object per line
(a "thread" header, one "comment" per comment in document order, a closing "summary");
otherwise one JSON document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from app.api.budget import check_budget, check_count, check_text, request_cost
from app.api.deps import KeyFirstRoute, MetricsDep, ModelDep, ScorerDep, ServicesDep, SettingsDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import NOT_BLANK, Name, is_blank, scored_comment
from app.api.work import ScoringPool
from app.auth import Role
from app.config import Settings
from app.domain import Thread
from app.features import article_context, thread_frame, thread_topic
from app.queue.ingest import checked_source, ingest_thread
from app.registry import LoadedModel
from app.scoring import reconcile_stance, score_rows
from app.threads import FORMATS, ParseOptions, parse

router = APIRouter(tags=["threads"], route_class=KeyFirstRoute)

NDJSON = "application/x-ndjson"
# The page as text: any non-blank text is a page to try (whether it parses as one of the
# formats is the parser's to say: 422 parse_error, which no schema can predict). A JSON
# page is an object or an array; JSONL goes as text/plain.
_TEXT_PAGE = {"type": "string", "pattern": NOT_BLANK}
_PAGE_SCHEMAS: dict[str, dict[str, Any]] = {
    "text/html": _TEXT_PAGE,
    "text/plain": _TEXT_PAGE,
    "application/xml": _TEXT_PAGE,
    "application/json": {"type": ["object", "array"]},
}

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
            "content": {kind: {"schema": schema} for kind, schema in _PAGE_SCHEMAS.items()},
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
        Name | None,
        Query(
            max_length=500,
            description="With enqueue: what identifies the thread across calls (default: "
            "the page's URL, else a hash of its article and first comment). Not blank, "
            "no U+0000.",
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
    if source is not None:
        # Checked with or without enqueue, so a request is valid or not whatever it asks.
        checked_source(source)
    body = await request.body()
    # Blank as the spec's pattern says (Unicode whitespace, not only ASCII's).
    if is_blank(body.decode("utf-8", "replace")):
        raise ApiError(422, "the body is empty: send the page itself", code="parse_error")
    options = ParseOptions(
        max_bytes=settings.max_body_bytes, max_comments=settings.max_thread_comments
    )
    scoring = services.scoring
    thread = await scoring.run(parse, body, format=format, options=options)
    sizes = check_page(thread, settings)
    rows = await score_page(request, scoring, model, thread, sizes, settings.evidence_top)
    metrics.observe_rows(rows, endpoint="threads")
    queued: dict[str, Any] | None = None
    if enqueue:
        assert services.policy is not None
        result = await scoring.run(
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


def check_page(thread: Thread, settings: Settings) -> list[int]:
    """The UTF-8 size of each comment's text, once the page is known to fit the budget.

    Raises:
        ApiError: 413 batch_too_large (too many comments), text_too_long (naming the
            comment's path and id) or request_too_large (too much text in all).
    """
    comments = thread.comments
    check_count(
        len(comments), settings.max_page_comments, "THREADGUARD_MAX_PAGE_COMMENTS", what="the page"
    )
    sizes = [
        check_text(c.text, settings, f"comments.{i}.text", label=f"comment_id {c.comment_id!r}")
        for i, c in enumerate(comments)
    ]
    article = article_context(thread.article.title, thread.article.text)
    check_budget(
        request_cost([], [article, thread_topic(thread)], sizes=sizes), settings, what="the page"
    )
    return sizes


async def score_page(
    request: Request | None,
    scoring: ScoringPool,
    model: LoadedModel,
    thread: Thread,
    sizes: Sequence[int],
    evidence_top: int,
) -> list[dict[str, Any]]:
    """`records(score_thread(model, thread))`, scored in chunks that stop for a gone client.

    The rows are scored independently of each other; only the thread stance reads the
    tree, and it is reconciled once every chunk is in (as `score_thread` does).

    Raises:
        ClientGone: the client disconnected before the last chunk.
    """
    frame = thread_frame(thread)
    tree = frame[["comment_id", "parent_id", "author", "depth"]].to_dict("records")
    inputs = list(
        zip(
            frame["text"].tolist(),
            frame["parent_text"].tolist(),
            frame["topic"].tolist(),
            strict=True,
        )
    )

    def score(part: Sequence[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
        texts, parents, topics = zip(*part, strict=True)
        return score_rows(model, texts, parents, topics, evidence_top=evidence_top)

    scored = await scoring.in_chunks(request, inputs, sizes, score, endpoint="threads")
    rows = [{**node, **row} for node, row in zip(tree, scored, strict=True)]
    reconciled = reconcile_stance(pd.DataFrame(rows)) if rows else []
    for row, (label, p) in zip(rows, reconciled, strict=True):
        row["thread_stance"] = label
        row["thread_stance_p"] = p
    return rows


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

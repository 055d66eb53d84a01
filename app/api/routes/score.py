"""POST /v1/score: one comment or a batch, through the one scoring function.

A single comment goes through the app's micro-batcher (app.api.batcher); a batch is
checked against the cost budget (app.api.budget) and scored in chunks that stop when the
client disconnects (app.api.work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request

from app.api.budget import check_budget, check_count, check_text, request_cost
from app.api.deps import KeyFirstRoute, ScorerDep, ServicesDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import (
    BatchIn,
    BatchScores,
    CommentIn,
    ScoredComment,
    is_blank,
    scored_comment,
)
from app.config import Settings
from app.registry import LoadedModel
from app.scoring import score_rows

router = APIRouter(tags=["scoring"], route_class=KeyFirstRoute)


def check_comment(comment: CommentIn, settings: Settings, where: str) -> int:
    """Refuse a blank text or one over the byte limit, naming the field; its text's size.

    Raises:
        ApiError: 422 for a blank text, 413 for a text over `settings.max_text_bytes`.
    """
    if is_blank(comment.text):
        raise ApiError(422, f"{where}text is empty", code="comment_empty", field=f"{where}text")
    size = check_text(comment.text, settings, f"{where}text")
    if comment.parent_text is not None:
        check_text(comment.parent_text, settings, f"{where}parent_text")
    return size


def score_comments(
    model: LoadedModel, comments: Sequence[CommentIn], evidence_top: int
) -> list[dict[str, Any]]:
    """The score rows of `comments`, in order (what each chunk and micro-batch runs)."""
    return score_rows(
        model,
        [c.text for c in comments],
        [c.parent_text for c in comments],
        [c.topic for c in comments],
        evidence_top=evidence_top,
    )


@router.post(
    "/v1/score",
    response_model=ScoredComment | BatchScores,
    responses=error_responses(400, 401, 403, 413, 422),
)
async def score(
    request: Request, body: CommentIn | BatchIn, services: ServicesDep, caller: ScorerDep
) -> dict[str, Any]:
    """Score one comment, or a batch of comments sent as {"comments": [...]}.

    A batch may have at most THREADGUARD_MAX_BATCH comments and
    THREADGUARD_MAX_REQUEST_TEXT_BYTES bytes of text (each distinct parent text and topic
    counted once); over either it is refused with 413 before anything is scored.
    """
    # One dependency for the services (each one FastAPI solves costs the hot path time).
    model, settings, metrics = services.model, services.settings, services.metrics
    if isinstance(body, CommentIn):
        size = check_comment(body, settings, "")
        # The parent text and topic count too, as in a batch of one.
        cost = request_cost([body.text], [body.parent_text, body.topic], sizes=[size])
        check_budget(cost, settings)
        row = await services.batcher.score(body, cost, request)
        metrics.observe_rows([row], endpoint="score")
        return scored_comment(row, body.id)
    check_count(len(body.comments), settings.max_batch, "THREADGUARD_MAX_BATCH")
    sizes = [check_comment(c, settings, f"comments.{i}.") for i, c in enumerate(body.comments)]
    contexts = [v for c in body.comments for v in (c.parent_text, c.topic)]
    check_budget(request_cost([], contexts, sizes=sizes), settings)
    rows = await services.scoring.in_chunks(
        request,
        body.comments,
        sizes,
        lambda part: score_comments(model, part, settings.evidence_top),
        endpoint="score",
    )
    metrics.observe_rows(rows, endpoint="score")
    results = [scored_comment(row, c.id) for row, c in zip(rows, body.comments, strict=True)]
    return {"model_version": model.version, "results": results}

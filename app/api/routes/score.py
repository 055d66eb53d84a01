"""POST /v1/score: one comment or a batch, through the one scoring function."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import MetricsDep, ModelDep, ScorerDep, SettingsDep
from app.api.errors import ApiError, error_responses
from app.api.schemas import BatchIn, BatchScores, CommentIn, ScoredComment, scored_comment
from app.config import Settings
from app.scoring import score_rows

router = APIRouter(tags=["scoring"])


def check_comment(comment: CommentIn, settings: Settings, where: str) -> None:
    """Refuse a blank text or one over the byte limit, naming the field.

    Raises:
        ApiError: 422 for a blank text, 413 for a text over `settings.max_text_bytes`.
    """
    if not comment.text.strip():
        raise ApiError(422, f"{where}text is empty", code="comment_empty", field=f"{where}text")
    for name in ("text", "parent_text"):
        value = getattr(comment, name)
        if value is None:
            continue
        size = len(value.encode("utf-8"))
        if size > settings.max_text_bytes:
            raise ApiError(
                413,
                f"{where}{name} is {size:,} bytes, over the limit of "
                f"{settings.max_text_bytes:,} UTF-8 bytes",
                code="text_too_long",
                field=f"{where}{name}",
            )


@router.post(
    "/v1/score",
    response_model=ScoredComment | BatchScores,
    responses=error_responses(400, 401, 403, 413, 422),
)
def score(
    body: CommentIn | BatchIn,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    caller: ScorerDep,
) -> dict[str, Any]:
    """Score one comment, or a batch of comments sent as {"comments": [...]}."""
    if isinstance(body, BatchIn):
        if len(body.comments) > settings.max_batch:
            raise ApiError(
                413,
                f"the batch has {len(body.comments):,} comments, over the limit of "
                f"{settings.max_batch:,}",
                code="batch_too_large",
                field="comments",
            )
        for i, comment in enumerate(body.comments):
            check_comment(comment, settings, f"comments.{i}.")
        comments = body.comments
    else:
        check_comment(body, settings, "")
        comments = [body]
    rows = score_rows(
        model,
        [c.text for c in comments],
        [c.parent_text for c in comments],
        [c.topic for c in comments],
        evidence_top=settings.evidence_top,
    )
    metrics.observe_rows(rows, endpoint="score")
    results = [scored_comment(row, c.id) for row, c in zip(rows, comments, strict=True)]
    if isinstance(body, BatchIn):
        return {"model_version": model.version, "results": results}
    return results[0]

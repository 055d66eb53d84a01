"""Request and response bodies of the v1 API; their descriptions become the OpenAPI docs.

Field limits that depend on settings (text bytes, batch size) are checked by the routes,
which name the offending field; the static caps here keep absurd values out of the parser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.heads import REPLY_LABELS, SEVERITY_LABELS, STANCE_LABELS

# Generous static caps: the configured limits (20 KB a text by default) are checked in the
# route so the message can quote them; these only stop pathological bodies early.
_TEXT_CAP = 1_000_000
_TOPIC_CAP = 1_000


class CommentIn(BaseModel):
    """One comment to score."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "c1",
                    "text": "You are all idiots for believing this.",
                    "parent_text": "The council voted to build the bridge.",
                    "topic": "the new bridge",
                }
            ]
        },
    )

    id: Annotated[str | None, Field(max_length=200)] = Field(
        default=None, description="Your id for the comment, echoed back."
    )
    text: Annotated[str, Field(max_length=_TEXT_CAP)] = Field(
        description="The comment (at most THREADGUARD_MAX_TEXT_BYTES UTF-8 bytes, 20 KB "
        "by default). Must not be blank."
    )
    parent_text: Annotated[str | None, Field(max_length=_TEXT_CAP)] = Field(
        default=None,
        description="The text it replies to (a comment, or the article for a top-level "
        "comment); without it there is no reply_stance.",
    )
    topic: Annotated[str | None, Field(max_length=_TOPIC_CAP)] = Field(
        default=None,
        description="What the thread is about (e.g. the article's title); without it there "
        "is no stance.",
    )


class BatchIn(BaseModel):
    """Several comments scored in one call."""

    model_config = ConfigDict(extra="forbid")

    comments: list[CommentIn] = Field(
        description="At most THREADGUARD_MAX_BATCH comments (1,000 by default).",
        min_length=1,
    )


class EvidenceSpan(BaseModel):
    """A word of the comment that raised a flag, located by code-point offsets."""

    text: str
    start: int = Field(description="Offset of the first character (Unicode code points).")
    end: int = Field(description="Offset after the last character.")
    weight: float = Field(description="How much the word raised the head's logit.")


class Label(BaseModel):
    """A chosen label, its probability and the probability of every label."""

    label: str
    p: float
    probabilities: dict[str, float]


class Target(BaseModel):
    """The group a hate flag is aimed at."""

    label: str
    p: float


class Scores(BaseModel):
    """The probability of each binary head (calibrated on validation data)."""

    hate: float
    toxic: float
    conspiracy: float


class ScoredComment(BaseModel):
    """Everything the models say about one comment."""

    id: str | None = None
    model_version: str
    scores: Scores
    flags: list[str] = Field(
        description="The heads whose probability reached the threshold in the manifest."
    )
    hate_target: Target | None = Field(description="Only when the hate flag is raised.")
    severity: Label | None = Field(
        default=None,
        description=f"One of {', '.join(SEVERITY_LABELS)} (HateXplain's three classes); null "
        "for models without this head.",
    )
    stance: Label | None = Field(
        description=f"Toward the topic: one of {', '.join(STANCE_LABELS)}; null without topic."
    )
    reply_stance: Label | None = Field(
        description=f"Toward the parent: one of {', '.join(REPLY_LABELS)}; null without "
        "parent_text."
    )
    evidence: dict[str, list[EvidenceSpan]] = Field(
        description="For each raised flag, the words that pushed its score up the most."
    )


class BatchScores(BaseModel):
    """The scores of a batch, in the order sent."""

    model_version: str
    results: list[ScoredComment]


class ModelInfo(BaseModel):
    """The loaded model, from its manifest."""

    version: str
    created_at: str | None
    git_sha: str | None
    label_schema: dict[str, Any]
    thresholds: dict[str, dict[str, Any]]
    metrics: dict[str, Any]
    libraries: dict[str, str]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    model_version: str
    database: str


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else round(number, 6)


def _label(
    record: Mapping[Any, Any], name: str, prefix: str, labels: Sequence[str]
) -> dict[str, Any] | None:
    """A multiclass head's `Label` (None where the row has no answer for it)."""
    chosen = record.get(name)
    if not chosen:
        return None
    return {
        "label": chosen,
        "p": _float(record.get(f"{name}_p")),
        "probabilities": {label: _float(record.get(f"{prefix}_{label}")) for label in labels},
    }


def scored_comment(record: Mapping[Any, Any], comment_id: str | None) -> dict[str, Any]:
    """A `score_frame` row as the JSON form of `ScoredComment` (plain dicts, no validation).

    Routes return these dicts directly: building pydantic objects per comment would cost
    more than scoring a short comment.
    """
    heads = ("hate", "toxic", "conspiracy")
    target = record.get("hate_target")
    return {
        "id": comment_id,
        "model_version": record["model_version"],
        "scores": {head: round(float(record[head]), 6) for head in heads},
        "flags": [head for head in heads if bool(record[f"{head}_flag"])],
        "hate_target": (
            {"label": target, "p": _float(record.get("hate_target_p"))} if target else None
        ),
        "severity": _label(record, "severity", "p_severity", SEVERITY_LABELS),
        "stance": _label(record, "stance", "p_stance", STANCE_LABELS),
        "reply_stance": _label(record, "reply_stance", "p_reply", REPLY_LABELS),
        "evidence": record.get("evidence") or {},
    }

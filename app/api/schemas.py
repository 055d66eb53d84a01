"""Request and response bodies of the v1 API; their descriptions become the OpenAPI docs.

The schema states every rule the code enforces, so a client (or schemathesis) can tell a
request that will be refused from its schema alone. Limits that are settings
(THREADGUARD_MAX_TEXT_BYTES, THREADGUARD_MAX_BATCH) are marked with `limit(...)` and filled
in with the configured value when the app builds its spec; over them the routes answer 413
naming the field, as the README promises. The rest (ids, topics, blank texts) are 422.

JSON Schema counts characters, not bytes: the byte limit of a text appears as a `maxLength`
of that many characters, which it implies; a text within it but over the byte limit is
still refused with 413.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from typing_extensions import TypeAliasType

from app.heads import REPLY_LABELS, SEVERITY_LABELS, STANCE_LABELS

# The static cap of a topic: a topic is a title, and nothing counts it toward a budget.
_TOPIC_CAP = 1_000

# The characters str.isspace() calls whitespace (what str.strip() removes), spelled out: the
# `\s` of a schema pattern (ECMA-262) is another set, so a pattern using it would call U+001C
# blank where the code does not, and U+FEFF the other way round.
SPACE = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
# A pattern (unanchored, as JSON Schema applies them): at least one character that is not
# whitespace. `is_blank` reads the same pattern, so schema and code cannot disagree.
NOT_BLANK = f"[^{SPACE}]"
# No U+0000 anywhere: PostgreSQL cannot store it, so the queue refuses it on every database.
NO_NUL = "^[^\\u0000]*$"
# Both at once (one `pattern` per schema): no NUL, and something that is not whitespace.
NOT_BLANK_NO_NUL = f"^[^\\u0000]*[^\\u0000{SPACE}][^\\u0000]*$"
_NOT_BLANK_RE = re.compile(NOT_BLANK)


def no_nul(value: str | None) -> str | None:
    """`value`, refused (ValueError) when it holds U+0000."""
    # PostgreSQL cannot store U+0000 in text or JSONB (SQLite can): refused on both alike.
    if value is not None and "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


# Text the queue stores: no NUL.
Text = Annotated[str, AfterValidator(no_nul), Field(json_schema_extra={"pattern": NO_NUL})]
# An id or a source: no NUL, and not blank (ingest strips it and refuses what is left empty).
Name = Annotated[
    str, AfterValidator(no_nul), Field(json_schema_extra={"pattern": NOT_BLANK_NO_NUL})
]

# The schema extension that marks a length or count limit set by a setting (its field name
# in `Settings`); `app.api.app` turns it into maxLength/maxItems with the configured value.
LIMIT_KEY = "x-threadguard-limit"


def is_blank(text: str) -> bool:
    """True when `text` has no character but whitespace (the negation of `NOT_BLANK`)."""
    return _NOT_BLANK_RE.search(text) is None


def limit(setting: str, **schema: Any) -> dict[str, Any]:
    """`json_schema_extra` for a value whose length or count is capped by `setting`."""
    return {LIMIT_KEY: setting, **schema}


def apply_limits(node: Any, values: Mapping[str, int]) -> None:
    """Fill in, in place, the maxLength/maxItems of every `limit(...)` mark in a spec.

    The mark stays, renamed to the environment variable, so a reader sees which setting
    the number comes from.
    """
    if isinstance(node, dict):
        setting = node.get(LIMIT_KEY)
        if isinstance(setting, str) and setting in values:
            keyword = "maxItems" if node.get("type") == "array" else "maxLength"
            node[keyword] = values[setting]
            node[LIMIT_KEY] = f"THREADGUARD_{setting.upper()}"
        for value in node.values():
            apply_limits(value, values)
    elif isinstance(node, list):
        for value in node:
            apply_limits(value, values)


# --------------------------------------------------------------------------- times

# RFC 3339's date-time, which is what `format: date-time` means: seconds and a zone are
# required. FastAPI's own datetime would also take "0.5" or a bare date, which the spec
# does not admit.
_RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# The instants that would fall outside years 1-9999 once moved to UTC lie on the first
# day of the calendar east of UTC or on its last day west of it. A stored time is refused
# there unless it is given in UTC, so the rule fits a pattern the schema can state.
FIRST_DAY_EAST = "^0001-01-01[Tt][^+]*[+]"
LAST_DAY_WEST = "^9999-12-31[Tt][0-9:.]*-"
_BEYOND_RE = re.compile(f"{FIRST_DAY_EAST}|{LAST_DAY_WEST}")
_TIME_HELP = "an RFC 3339 date-time with seconds and a zone, such as 2026-11-23T14:05:00Z"


def parse_rfc3339(value: Any) -> datetime:
    """An RFC 3339 date-time as an aware datetime (a leap second as the instant before it).

    Raises:
        ValueError: `value` is not a string of that form, or names no real date or time.
    """
    found = _RFC3339_RE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"must be {_TIME_HELP}")
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    fraction, zone = found.group(7), found.group(8)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"has a zone offset out of range; it must be {_TIME_HELP}")
        offset = (-1 if zone[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes)
    leap = second == 60
    try:
        moment = datetime(
            year, month, day, hour, minute, 59 if leap else second, micro, timezone(offset)
        )
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc}); it must be {_TIME_HELP}") from exc
    # RFC 3339 allows a leap second only at 23:59:60 UTC; Python has no second 60.
    if leap:
        in_utc = moment - offset
        if (in_utc.hour, in_utc.minute) != (23, 59):
            raise ValueError("has second 60, which only a leap second at 23:59:60 UTC may have")
        moment = moment.replace(microsecond=999_999)
    return moment


def _stored_time(value: Any) -> datetime:
    moment = parse_rfc3339(value)
    if _BEYOND_RE.match(value):
        raise ValueError(
            "is on the first or last day of the calendar and may fall outside it once moved "
            "to UTC: give it in UTC (Z)"
        )
    return moment.astimezone(UTC)


def _filter_time(value: Any) -> datetime:
    moment = parse_rfc3339(value)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # Before the first or after the last instant any stored time can have: as a bound
        # of a filter it means the same as that instant.
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


# A time a client stores (a comment's posted_at), in UTC.
StoredTime = Annotated[
    datetime,
    BeforeValidator(_stored_time),
    Field(json_schema_extra={"not": {"pattern": f"{FIRST_DAY_EAST}|{LAST_DAY_WEST}"}}),
]
# A bound of a filter (since, until), in UTC.
FilterTime = Annotated[datetime, BeforeValidator(_filter_time)]


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
    # No static cap: a text over the byte limit is 413 text_too_long however long it is.
    text: Annotated[str, Field(json_schema_extra=limit("max_text_bytes", pattern=NOT_BLANK))] = (
        Field(
            description="The comment: at most THREADGUARD_MAX_TEXT_BYTES UTF-8 bytes (20 KB by "
            "default; 413 over it), not blank (422)."
        )
    )
    parent_text: Annotated[str, Field(json_schema_extra=limit("max_text_bytes"))] | None = Field(
        default=None,
        description="The text it replies to (a comment, or the article for a top-level "
        "comment); without it there is no reply_stance. At most THREADGUARD_MAX_TEXT_BYTES "
        "UTF-8 bytes (413 over it).",
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
        description="At most THREADGUARD_MAX_BATCH comments (1,000 by default; 413 over it).",
        min_length=1,
        json_schema_extra=limit("max_batch"),
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


# --------------------------------------------------------------------------- documentation


class DocumentedAs:
    """Annotation metadata: document a value with another type's JSON schema.

    For a value the code checks itself, with its own error codes, where the pydantic type
    that would describe it exactly would also validate it (with other messages). The
    other type's definitions land in the spec's components, so it may be recursive.
    """

    def __init__(self, documented: Any) -> None:
        self.core = TypeAdapter(documented).core_schema

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        return handler(self.core)


_NulFreeText = Annotated[str, Field(json_schema_extra={"pattern": NO_NUL})]
if TYPE_CHECKING:
    # mypy cannot follow a recursive alias built at run time; to it this is any JSON.
    NulFreeJson = Any
else:
    _NulFreeObject = Annotated[
        dict[str, "NulFreeJson"], Field(json_schema_extra={"propertyNames": {"pattern": NO_NUL}})
    ]
    # Any JSON value without U+0000 in a string or a key, at any depth.
    NulFreeJson = TypeAliasType(
        "NulFreeJson",
        _NulFreeText | bool | int | float | list["NulFreeJson"] | _NulFreeObject | None,
    )

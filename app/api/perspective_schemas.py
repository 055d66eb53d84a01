"""The request and response bodies of the Perspective-compatible endpoint, as its spec.

The models take both the lowerCamelCase names and the proto field names, as Google's JSON
parser does; the spec documents the first (see `_names`). Rules the route checks itself,
with Perspective's error types, are stated here as schema so that the spec tells them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.api.compat import PROBABILITY_TYPES, SERVED_ATTRIBUTES
from app.api.schemas import NOT_BLANK, SPACE, limit

# Static caps (400 INVALID_REQUEST over them); the comment's own text has the byte limit.
_TEXT_CAP = 1_000_000
_NAME_CAP = 100
TEXT_TYPES = ("PLAIN_TEXT", "TEXT_TYPE_UNSPECIFIED")
_SCORE_TYPES = sorted(PROBABILITY_TYPES)
# Letters other than a-z whose str.upper() is an ASCII letter: `attribute_head` upper-cases
# the name, so "toxıcıty" (dotless i) is TOXICITY to it, and the pattern must say so too.
_UPPER_TO_ASCII = {"I": "\\u0131", "S": "\\u017f"}


def _any_case(name: str) -> str:
    """A pattern matching `name` as `str.upper()` does."""
    return "".join(
        f"[{ch}{ch.lower()}{_UPPER_TO_ASCII.get(ch, '')}]" if ch.isalpha() else re.escape(ch)
        for ch in name
    )


# The attribute names `attribute_head` serves.
SERVED_PATTERN = "^(?:" + "|".join(_any_case(name) for name in SERVED_ATTRIBUTES) + ")$"
# What `is_english` accepts once blank entries (which are ignored) are set aside: "en", then
# optionally "-" or "_" and anything, with whitespace around.
_WS = f"[{SPACE}]"
ENGLISH_PATTERN = f"^{_WS}*(?:[Ee][Nn](?:[-_][\\s\\S]*)?{_WS}*)?$"
TOKEN_CAP = 4_096

# --------------------------------------------------------------------------- schemas


def _names(field: str) -> tuple[str, ...]:
    """The JSON names the spec gives a request field: lowerCamelCase only.

    Google's JSON parser, and so the models here, also take the proto field name
    (`do_not_store`), one of the two at a time. The spec leaves that spelling out: the
    rule "either name, not both" needs `not: {required: [...]}` pairs, which schema-driven
    generators (schemathesis among them) cannot build requests from.
    """
    return (to_camel(field),)


def _required_object(schema: dict[str, Any], field: str) -> None:
    """Document a field the code refuses without (with its own error type) as required
    and not null, under either of its names."""
    properties = schema["properties"]
    for name in _names(field):
        prop = properties[name]
        kept = [branch for branch in prop.pop("anyOf", []) if branch != {"type": "null"}]
        prop.pop("default", None)
        if kept:
            prop.update(kept[0])
    schema.setdefault("allOf", []).append({"anyOf": [{"required": [n]} for n in _names(field)]})


class _Message(BaseModel):
    # Google's JSON accepts both the lowerCamelCase names and the proto field names.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class TextEntry(_Message):
    """A piece of text (of the context, which is accepted and not read)."""

    text: Annotated[str | None, Field(max_length=_TEXT_CAP)] = Field(
        default=None, description="UTF-8 text."
    )
    type: Annotated[str | None, Field(max_length=_NAME_CAP)] = None


def _comment_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    _required_object(schema, "text")


class CommentEntry(_Message):
    """The comment to score."""

    model_config = ConfigDict(json_schema_extra=_comment_schema)

    # No static cap: a comment over the byte limit is COMMENT_TOO_LONG however long it is.
    text: (
        Annotated[str, Field(json_schema_extra=limit("max_text_bytes", pattern=NOT_BLANK))] | None
    ) = Field(
        default=None,
        description="UTF-8 text, not blank (COMMENT_EMPTY); at most THREADGUARD_MAX_TEXT_BYTES "
        "bytes (COMMENT_TOO_LONG).",
    )
    type: Annotated[str, Field(json_schema_extra={"enum": list(TEXT_TYPES)})] | None = Field(
        default=None, description="PLAIN_TEXT (the default). HTML is refused, as by Perspective."
    )


class ArticleAndParentComment(_Message):
    """The article and the comment replied to."""

    article: TextEntry | None = None
    parent_comment: TextEntry | None = None


class CommentContext(_Message):
    """What the comment replies to; accepted and not used (see the endpoint's notes).

    Either entries or articleAndParentComment, as Perspective has it."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema, cls: _context_schema(schema, cls)  # noqa: PLW0108
    )

    entries: Annotated[list[TextEntry] | None, Field(max_length=1_000)] = None
    article_and_parent_comment: ArticleAndParentComment | None = None


def _context_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    for name in _names("article_and_parent_comment"):
        both = {
            "required": ["entries", name],
            "properties": {"entries": {"type": "array", "minItems": 1}, name: {"type": "object"}},
        }
        schema.setdefault("allOf", []).append({"not": both})


class AttributeParameters(_Message):
    """How to score one attribute."""

    score_type: (
        Annotated[str, Field(max_length=_NAME_CAP, json_schema_extra={"enum": _SCORE_TYPES})] | None
    ) = Field(default=None, description="PROBABILITY (the default); no other type is served.")
    score_threshold: (
        Annotated[float, Field(json_schema_extra={"minimum": 0, "maximum": 1})] | None
    ) = Field(
        default=None, description="Leave the attribute out when its score is below this (0-1)."
    )


def _request_schema(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    _required_object(schema, "comment")
    _required_object(schema, "requested_attributes")
    for name in _names("requested_attributes"):
        schema["properties"][name]["minProperties"] = 1  # else NO_REQUESTED_ATTRIBUTES
    # Without dropUnsupportedAttributes every attribute must be served and every language
    # English; with it, the others are left out of the answer instead.
    dropping = [
        {"required": [name], "properties": {name: {"const": True}}}
        for name in _names("drop_unsupported_attributes")
    ]
    strict: dict[str, Any] = {
        name: {"propertyNames": {"pattern": SERVED_PATTERN}}
        for name in _names("requested_attributes")
    }
    strict["languages"] = {"items": {"pattern": ENGLISH_PATTERN}}
    schema.setdefault("allOf", []).append({"anyOf": [*dropping, {"properties": strict}]})
    schema["examples"] = [
        {
            "comment": {"text": "You are an idiot and nobody cares."},
            "requestedAttributes": {"TOXICITY": {}, "IDENTITY_ATTACK": {}},
            "languages": ["en"],
            "doNotStore": True,
        }
    ]


class AnalyzeCommentRequest(_Message):
    """Perspective's AnalyzeCommentRequest. Every message also takes its fields' proto names
    (`do_not_store` for `doNotStore`), one spelling per field, as Google's parser does."""

    model_config = ConfigDict(json_schema_extra=_request_schema)

    comment: CommentEntry | None = None
    context: CommentContext | None = None
    requested_attributes: Annotated[
        dict[Annotated[str, Field(max_length=_NAME_CAP)], AttributeParameters] | None,
        Field(max_length=50),
    ] = Field(
        default=None,
        description="Attribute name -> parameters ({} for the defaults); at least one "
        "(NO_REQUESTED_ATTRIBUTES). Served, in any case: TOXICITY, IDENTITY_ATTACK, "
        "THREADGUARD_TOXIC, THREADGUARD_HATE, THREADGUARD_CONSPIRACY.",
    )
    languages: Annotated[
        list[Annotated[str, Field(max_length=_NAME_CAP)]] | None, Field(max_length=20)
    ] = Field(
        default=None,
        description='English only: "en" or a BCP-47 tag like "en-US" (blank entries are ignored).',
    )
    do_not_store: bool | None = Field(default=None, description="Accepted; nothing is stored.")
    client_token: Annotated[str | None, Field(max_length=TOKEN_CAP)] = Field(
        default=None, description="Echoed in the response."
    )
    session_id: Annotated[str | None, Field(max_length=TOKEN_CAP)] = None
    community_id: Annotated[str | None, Field(max_length=TOKEN_CAP)] = None
    span_annotations: bool | None = Field(
        default=None, description="Score each sentence on its own and return it as a span."
    )
    drop_unsupported_attributes: bool | None = Field(
        default=None,
        description="Leave out requested attributes this server does not serve (or not in "
        "the requested language) instead of refusing the request.",
    )


class _Reply(BaseModel):
    # Answers use the lowerCamelCase names only, as Perspective's do.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Score(_Reply):
    value: float = Field(description="A probability, 0-1.")
    type: str = Field(default="PROBABILITY", description="Always PROBABILITY.")


class SpanScore(_Reply):
    begin: int = Field(description="UTF-16 offset of the span's first character.")
    end: int = Field(description="UTF-16 offset after its last character.")
    score: Score


class AttributeScores(_Reply):
    summary_score: Score = Field(description="The score of the whole comment.")
    span_scores: list[SpanScore] = Field(
        description="One span for the whole comment, or one per sentence with spanAnnotations."
    )


class AnalyzeCommentResponse(_Reply):
    """Perspective's AnalyzeCommentResponse (no detectedLanguages: nothing is detected)."""

    attribute_scores: dict[str, AttributeScores] = Field(
        description="Requested attribute -> scores; left out when under its scoreThreshold."
    )
    languages: list[str] = Field(description='The request\'s languages, or ["en"].')
    client_token: str | None = Field(default=None, description="The request's clientToken.")


class GoogleErrorDetail(BaseModel):
    code: int
    message: str
    status: str
    details: list[dict[str, Any]] = []


class GoogleError(BaseModel):
    """Google's error shape, which Perspective clients parse."""

    error: GoogleErrorDetail

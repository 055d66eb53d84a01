"""POST /v1alpha1/comments:analyze: Perspective's AnalyzeComment, served by threadguard.

A site that calls Perspective switches by changing its base URL to this service's
(`https://commentanalyzer.googleapis.com/v1alpha1` becomes `http://HOST:8000/v1alpha1`);
the API key goes where Perspective clients already put it (`?key=`, or the
`X-Goog-Api-Key` header), or in `Authorization: Bearer` like every other endpoint.

Errors are in Perspective's (Google's) shape, not the project's, because Perspective
clients parse that: `{"error": {"code", "message", "status", "details": [{"@type":
"type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType": ...}]}}`, with a
`google.rpc.BadRequest` detail naming the offending field where there is one. Every
request error is HTTP 400 with status INVALID_ARGUMENT, as Perspective answers, including
COMMENT_TOO_LONG (the project's own endpoints say 413). Error types: COMMENT_EMPTY,
COMMENT_TOO_LONG, NO_REQUESTED_ATTRIBUTES, LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE, and
INVALID_REQUEST for everything else (unknown or unserved attribute, unsupported score
type, HTML comments, a malformed body). Auth errors are 401 UNAUTHENTICATED / 403
PERMISSION_DENIED without an error type.

What is served (the mapping and its reasons are in `app.api.compat`): TOXICITY (the toxic
head), IDENTITY_ATTACK (the hate head), and threadguard's own THREADGUARD_TOXIC,
THREADGUARD_HATE and THREADGUARD_CONSPIRACY. SEVERE_TOXICITY, INSULT, THREAT and PROFANITY
are refused by name with what to request instead; with `dropUnsupportedAttributes` they
are left out of the answer instead, the way Perspective drops attributes a language lacks.

Request fields:
- `comment.type`: PLAIN_TEXT (or unset). HTML is refused, as Perspective refuses it.
- `languages`: English only ("en", "en-US", …). Unset means English: no language is
  detected, so the response has no `detectedLanguages` rather than a guess.
- `context`: checked (entries or articleAndParentComment, not both) and not used: the
  attributes served read the comment alone; the parent only informs reply stance, which
  Perspective has no attribute for.
- `doNotStore`: accepted; this endpoint stores nothing either way.
- `scoreThreshold`: an attribute whose summary score is below it is left out, and so are
  its span scores below it.
- `spanAnnotations`: each sentence is scored on its own, in the same batch as the comment,
  and returned as a PROBABILITY span with UTF-16 offsets, as Perspective counts them.
  Without it there is one span covering the whole comment. threadguard's evidence words are
  not spans here: a word's weight is its share of a logit, not a probability, and
  Perspective's score types have no honest place for it (POST /v1/score returns them).
- `clientToken` is echoed; `sessionId` and `communityId` are accepted and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.budget import request_cost
from app.api.compat import (
    PROBABILITY_TYPES,
    attribute_head,
    is_english,
    probability,
    sentence_spans,
    unserved_reason,
    utf16_offsets,
)
from app.api.deps import (
    Admit,
    BearerDep,
    KeyFirstRoute,
    MetricsDep,
    ModelDep,
    Services,
    ServicesDep,
    SettingsDep,
    admitted,
    bearer_of,
    require,
)
from app.api.errors import ApiError, ErrorBody, shown
from app.api.perspective_schemas import (
    TEXT_TYPES,
    TOKEN_CAP,
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    AttributeParameters,
    CommentContext,
    GoogleError,
)
from app.api.schemas import is_blank
from app.auth import Principal, Role
from app.errors import AppError
from app.scoring import score_frame

_ERROR_TYPE_URL = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
_BAD_REQUEST_URL = "type.googleapis.com/google.rpc.BadRequest"
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


class PerspectiveError(AppError):
    """A request Perspective would refuse, with Perspective's error type."""

    code = "perspective_error"

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = "INVALID_REQUEST",
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.error_type = error_type
        self.extra = extra or {}


def perspective_error(
    status_code: int,
    message: str,
    *,
    error_type: str | None = None,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A response in Google's error shape (what Perspective clients parse)."""
    if status_code == 422:
        status_code = 400
    details: list[dict[str, Any]] = []
    if error_type is not None:
        details.append({"@type": _ERROR_TYPE_URL, "errorType": error_type, **(extra or {})})
    if field is not None:
        details.append(
            {
                "@type": _BAD_REQUEST_URL,
                "fieldViolations": [{"field": field, "description": message}],
            }
        )
    error: dict[str, Any] = {
        "code": status_code,
        "message": message,
        "status": _GOOGLE_STATUS.get(status_code, "INTERNAL" if status_code >= 500 else "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


class PerspectiveRoute(KeyFirstRoute):
    """Answers every error of its endpoint in Perspective's shape, whoever raised it.

    Key checks (dependencies), body validation and the route itself all raise into the
    handler this wraps, so none of them reaches the app's project-shaped handlers.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except PerspectiveError as exc:
                return perspective_error(
                    exc.status_code,
                    exc.message,
                    error_type=exc.error_type,
                    field=exc.field,
                    extra=exc.extra,
                )
            except AppError as exc:
                headers = exc.headers if isinstance(exc, ApiError) else None
                error_type = "INVALID_REQUEST" if exc.status_code in (400, 422) else None
                return perspective_error(
                    exc.status_code,
                    shown(exc),
                    error_type=error_type,
                    field=exc.field,
                    headers=headers,
                )
            except RequestValidationError as exc:
                message, field = _validation_message(exc)
                return perspective_error(400, message, error_type="INVALID_REQUEST", field=field)
            except StarletteHTTPException as exc:
                message = str(exc.detail)
                if exc.status_code == 400:
                    message = await _unreadable_body(request)
                return perspective_error(
                    exc.status_code,
                    message,
                    error_type="INVALID_REQUEST" if exc.status_code == 400 else None,
                    headers=exc.headers,
                )

        return guarded


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Invalid JSON payload received.", None
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    # FastAPI puts where the value came from first; a field may itself be named "body".
    if loc and loc[0] in ("body", "query", "header"):
        loc = loc[1:]
    field = ".".join(loc) or None
    kind = first.get("type", "")
    if kind == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return f"Invalid JSON payload received. {detail}".strip(), None
    if kind == "extra_forbidden":
        return f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.', field
    if kind == "missing" and field is None:
        return (
            "Invalid JSON payload received: the body is empty; send an AnalyzeCommentRequest "
            "as JSON with Content-Type: application/json",
            None,
        )
    if kind == "model_attributes_type" and field is None:
        return (
            "Invalid JSON payload received: send the request as a JSON object with "
            "Content-Type: application/json",
            None,
        )
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"Invalid value at '{field}': {first.get('msg', 'invalid')}{suffix}", field


async def _unreadable_body(request: Request) -> str:
    body = await request.body()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"Invalid JSON payload received: the body is not UTF-8 (byte {exc.start} is "
            f"0x{body[exc.start]:02x}); send UTF-8 JSON"
        )
    return "Invalid JSON payload received: the body could not be read as JSON."


# --------------------------------------------------------------------------- route

router = APIRouter(tags=["compatibility"], route_class=PerspectiveRoute)

_admit_scorer: Admit = require(Role.scorer).admit  # type: ignore[attr-defined]


def _admit_perspective(request: Request) -> Principal:
    """The caller, by `?key=`, `X-Goog-Api-Key` or `Authorization: Bearer` (in that order).

    Raises:
        ApiError: 401 for a missing, unknown or revoked key, 403 for a key without the
            scorer role.
    """
    secret = request.query_params.get("key") or request.headers.get("x-goog-api-key")
    if not secret:
        try:
            return _admit_scorer(request)
        except ApiError as exc:
            if exc.status_code != 401 or bearer_of(request) is not None:
                raise
            raise ApiError(
                401,
                "this endpoint needs an API key: add ?key=<key> to the URL as Perspective "
                "clients do, or send 'Authorization: Bearer <key>' (make one with "
                "`threadguard keys create --role scorer`)",
                headers={"WWW-Authenticate": "Bearer"},
            ) from exc
    services: Services = request.app.state.services
    found = services.keys.verify(secret)
    if found is None:
        raise ApiError(
            401,
            "API key not valid: unknown or revoked threadguard key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not found.role.allows(Role.scorer):
        raise ApiError(403, f"key {found.key_id!r} may not score (role {found.role})")
    return Principal(key=found)


# The parameters are for OpenAPI and their length limits; `_admit_perspective` reads them
# from the request before the body, as `KeyFirstRoute` does for every keyed route.
def perspective_caller(
    request: Request,
    credentials: BearerDep,
    key: Annotated[
        str | None,
        Query(
            max_length=TOKEN_CAP,
            description="A threadguard key, where Perspective clients send theirs. Prefer "
            "the Authorization header: a URL ends up in access logs.",
        ),
    ] = None,
    x_goog_api_key: Annotated[
        str | None, Header(max_length=TOKEN_CAP, include_in_schema=False)
    ] = None,
) -> Principal:
    return admitted(request, _admit_perspective) or _admit_perspective(request)


perspective_caller.admit = _admit_perspective  # type: ignore[attr-defined]

PerspectiveCallerDep = Annotated[Principal, Depends(perspective_caller)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": GoogleError, "description": "Perspective's errors (errorType in details)"},
    401: {"model": GoogleError, "description": "No key, or an unknown or revoked one"},
    403: {"model": GoogleError, "description": "The key may not score"},
    503: {"model": GoogleError, "description": "The key store (the database) is unavailable"},
    # The service refuses an oversized body before any route runs, in its own shape.
    413: {"model": ErrorBody, "description": "The body is over THREADGUARD_MAX_BODY_BYTES"},
    # Declaring the range keeps FastAPI from documenting a 422 this endpoint never sends.
    "4XX": {"model": GoogleError, "description": "Any other client error"},
}


@router.post(
    "/v1alpha1/comments:analyze",
    response_model=AnalyzeCommentResponse,
    responses=_ERRORS,
    summary="Perspective-compatible AnalyzeComment",
)
async def analyze_comment(
    body: AnalyzeCommentRequest,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    services: ServicesDep,
    caller: PerspectiveCallerDep,
) -> Response:
    """Score a comment for the requested Perspective attributes (TOXICITY, IDENTITY_ATTACK, …)."""
    text = _comment_text(body, settings.max_text_bytes)
    requested = _requested(body)
    _check_context(body.context)
    languages = [language.strip() for language in body.languages or [] if language.strip()]
    heads = _servable(requested, languages, drop=bool(body.drop_unsupported_attributes))

    spans = sentence_spans(text) if body.span_annotations else []
    pieces = [text[begin:end] for begin, end in spans] if len(spans) > 1 else []
    # The sentences are scored as well: the comment's text counts twice toward the budget.
    cost = request_cost([text, *pieces], [])
    if cost > settings.max_request_text_bytes:
        raise PerspectiveError(
            f"Comment text too long: {cost:,} bytes to score with its span annotations, over "
            f"the budget of {settings.max_request_text_bytes:,} UTF-8 bytes a request "
            "(THREADGUARD_MAX_REQUEST_TEXT_BYTES).",
            error_type="COMMENT_TOO_LONG",
            field="comment.text",
        )
    # Perspective's shape has no place for evidence words, so none are computed.
    frame = pd.DataFrame({"text": [text, *pieces]})
    scored = await services.scoring.run(score_frame, model, frame, evidence_top=0)
    metrics.observe_scores(scored.iloc[:1], endpoint="perspective")

    to_utf16 = utf16_offsets(text)
    bounds = [(0, len(text))] if len(spans) <= 1 else spans
    attribute_scores: dict[str, Any] = {}
    for name, (head, threshold) in heads.items():
        values = scored[head].tolist()
        summary = probability(values[0])
        if threshold is not None and summary < threshold:
            continue
        span_values = values[1:] if pieces else [values[0]]
        attribute_scores[name] = {
            "summaryScore": {"value": summary, "type": "PROBABILITY"},
            "spanScores": [
                {
                    "begin": to_utf16(begin),
                    "end": to_utf16(end),
                    "score": {"value": probability(value), "type": "PROBABILITY"},
                }
                for (begin, end), value in zip(bounds, span_values, strict=True)
                if threshold is None or probability(value) >= threshold
            ],
        }
    response: dict[str, Any] = {
        "attributeScores": attribute_scores,
        "languages": languages or ["en"],
    }
    if body.client_token:
        response["clientToken"] = body.client_token
    return JSONResponse(response)


def _comment_text(body: AnalyzeCommentRequest, max_bytes: int) -> str:
    """The comment's text, checked the way Perspective checks it.

    Raises:
        PerspectiveError: HTML or an unknown type, an empty comment, a comment too long.
    """
    comment = body.comment
    # Unset is PLAIN_TEXT; an empty string is no type name (a proto parser refuses it too).
    kind = comment.type if comment is not None and comment.type is not None else "PLAIN_TEXT"
    if kind == "HTML":
        raise PerspectiveError(
            "Currently, only 'PLAIN_TEXT' comments are supported: send the text without markup",
            field="comment.type",
        )
    if kind not in TEXT_TYPES:
        raise PerspectiveError(f"Unknown text type: {kind}", field="comment.type")
    text = (comment.text if comment else None) or ""
    if is_blank(text):
        raise PerspectiveError(
            "Comment must be non-empty.", error_type="COMMENT_EMPTY", field="comment.text"
        )
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise PerspectiveError(
            f"Comment text too long: {size:,} bytes, over the limit of {max_bytes:,} UTF-8 bytes.",
            error_type="COMMENT_TOO_LONG",
            field="comment.text",
        )
    return text


def _requested(body: AnalyzeCommentRequest) -> dict[str, AttributeParameters]:
    """The requested attributes, each with a probability score type and a sane threshold.

    Raises:
        PerspectiveError: no attributes, a score type other than probability, a threshold
            outside 0-1.
    """
    requested = body.requested_attributes or {}
    if not requested:
        raise PerspectiveError(
            "Missing requested_attributes: ask for at least one, e.g. "
            '{"requestedAttributes": {"TOXICITY": {}}}',
            error_type="NO_REQUESTED_ATTRIBUTES",
            field="requestedAttributes",
        )
    for name, parameters in requested.items():
        score_type = parameters.score_type
        if score_type is not None and score_type not in PROBABILITY_TYPES:
            raise PerspectiveError(
                f"Requested score type {score_type} is not supported by attribute {name}: "
                "only PROBABILITY is served",
                field=f"requestedAttributes.{name}.scoreType",
            )
        threshold = parameters.score_threshold
        if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
            raise PerspectiveError(
                f"scoreThreshold of {name} must be between 0 and 1, not {threshold}",
                field=f"requestedAttributes.{name}.scoreThreshold",
            )
    return requested


def _check_context(context: CommentContext | None) -> None:
    """Refuse a context with both of its kinds, as Perspective does.

    Raises:
        PerspectiveError: both `entries` and `articleAndParentComment` are set.
    """
    if context is not None and context.entries and context.article_and_parent_comment:
        raise PerspectiveError(
            "Context can have either entries or article_and_parent_comment, but both "
            "fields were populated.",
            field="context",
        )


def _servable(
    requested: dict[str, AttributeParameters], languages: list[str], *, drop: bool
) -> dict[str, tuple[str, float | None]]:
    """Requested name -> (head, threshold) for what can be served; the rest refused or dropped.

    Raises:
        PerspectiveError: an attribute is not served (every such name is listed), or a
            language is not English; neither when `drop` is set.
    """
    unserved = [name for name in requested if attribute_head(name) is None]
    if unserved and not drop:
        reasons = "; ".join(unserved_reason(name) for name in unserved)
        raise PerspectiveError(
            reasons + " (or set dropUnsupportedAttributes to leave them out)",
            field=f"requestedAttributes.{unserved[0]}",
        )
    served = {
        name: (str(attribute_head(name)), parameters.score_threshold)
        for name, parameters in requested.items()
        if name not in unserved
    }
    foreign = [language for language in languages if not is_english(language)]
    if foreign and served:
        if drop:
            return {}
        first = next(iter(served))
        raise PerspectiveError(
            f"Attribute {first} does not support request languages: {', '.join(languages)} "
            "(threadguard scores English only)",
            error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            field="languages",
            extra={
                "languageNotSupportedByAttributeError": {
                    "requestedLanguages": languages,
                    "attribute": first,
                }
            },
        )
    return served

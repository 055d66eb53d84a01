"""POST /v1/integrations/coral: a Coral Talk external moderation phase.

Coral posts every new or edited comment that its own phases left undecided, signed with
the phase's signing secret, and waits for the answer (200 ms by default, then it carries
on without one). The signature (`X-Coral-Signature: sha256=<hex>[,sha256=<hex>]`, one
entry per active secret while a rotated one is kept alive) is checked against
THREADGUARD_CORAL_SECRET over the raw body before anything is parsed; no API key is
involved. Errors are in the project's shape; Coral treats any of them as "no opinion".

The answer:
- 204, no body: no opinion (nothing raised, or only heads the policy ignores).
- 200 with `{"actions": [{"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC",
  "additionalDetails": "threadguard <version>: hate 0.93 (target jewish; words: …)"}]}` and,
  when a raised head's policy is "withhold", `"status": "SYSTEM_WITHHELD"`: the comment is
  held in Coral's Pending queue until a moderator approves it, as Coral's own toxicity
  filter does. Without a status Coral keeps the comment's status from its own settings
  and lists it in the Reported queue.

Coral accepts two system flag reasons, COMMENT_DETECTED_TOXIC and COMMENT_DETECTED_SPAM;
every raised head maps to the first, once. `additionalDetails` carries the labels,
probabilities and evidence words; older Coral versions keep it with the flag, current ones
drop it without complaint. The default policy (`app.api.compat.DEFAULT_CORAL_POLICY`):
hate -> withhold, toxic -> flag, conspiracy -> ignore; a `coral_policy` setting overrides
it per head.

The body is scored as the comment alone. Coral sends the parent's id, not its text, so
there is no reply stance; the flags do not depend on it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.budget import check_text
from app.api.compat import (
    coral_decision,
    coral_policy,
    coral_signature_valid,
    looks_like_html,
)
from app.api.deps import MetricsDep, ModelDep, ServicesDep, SettingsDep
from app.api.errors import ApiError, error_responses
from app.heads import BINARY_HEADS
from app.scoring import score_frame
from app.threads.xmlutil import html_to_text

_ID_CAP = 1_000
_BODY_CAP = 1_000_000


class _Payload(BaseModel):
    # Coral adds fields between versions; what is not read here is ignored.
    model_config = ConfigDict(extra="ignore")


class CoralComment(_Payload):
    body: Annotated[str, Field(max_length=_BODY_CAP)] = Field(
        description="The comment, HTML (Coral's default) or plain text."
    )
    parentID: Annotated[str | None, Field(max_length=_ID_CAP)] = Field(  # noqa: N815
        default=None, description="The comment replied to, if any (its text is not sent)."
    )


class CoralAuthor(_Payload):
    id: Annotated[str, Field(max_length=_ID_CAP)]
    role: Annotated[str | None, Field(max_length=_ID_CAP)] = None


class CoralStory(_Payload):
    id: Annotated[str, Field(max_length=_ID_CAP)]
    url: Annotated[str | None, Field(max_length=10_000)] = None


class CoralSite(_Payload):
    id: Annotated[str, Field(max_length=_ID_CAP)]


class CoralTenant(_Payload):
    id: Annotated[str, Field(max_length=_ID_CAP)]
    domain: Annotated[str | None, Field(max_length=_ID_CAP)] = None


class CoralModerationRequest(_Payload):
    """Coral's ExternalModerationRequest."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action": "NEW",
                    "comment": {"body": "Here's a comment!", "parentID": None},
                    "author": {"id": "baf4e943", "role": "COMMENTER"},
                    "story": {"id": "245b3856", "url": "https://example.com/a-story/"},
                    "site": {"id": "a4bede88"},
                    "tenantID": "19ba5794",
                    "tenantDomain": "example.com",
                }
            ]
        }
    )

    action: Literal["NEW", "EDIT"] = Field(description="A new comment, or an edited one.")
    comment: CoralComment
    author: CoralAuthor | None = None
    story: CoralStory | None = None
    site: CoralSite | None = None
    tenantID: Annotated[str | None, Field(max_length=_ID_CAP)] = None  # noqa: N815
    tenantDomain: Annotated[str | None, Field(max_length=_ID_CAP)] = None  # noqa: N815
    tenant: CoralTenant | None = Field(
        default=None, description="How Coral versions before tenantID sent the tenant."
    )


class CoralAction(BaseModel):
    actionType: Literal["FLAG"]  # noqa: N815
    reason: Literal["COMMENT_DETECTED_TOXIC"]
    additionalDetails: str = Field(  # noqa: N815
        description="Labels, probabilities, hate target and evidence words."
    )


class CoralModerationResponse(BaseModel):
    """Coral's ExternalModerationResponse."""

    actions: list[CoralAction]
    status: Literal["SYSTEM_WITHHELD"] | None = Field(
        default=None, description="Only when a raised head's policy is 'withhold'."
    )


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its `$defs` references replaced by the definitions themselves.

    The request body is documented by hand (it is verified before it is parsed), and a
    hand-written OpenAPI entry cannot point into a model's private `$defs`.
    """
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


async def signed_payload(request: Request, settings: SettingsDep) -> CoralModerationRequest:
    """The request's payload, once its signature is known to be Coral's.

    Raises:
        ApiError: 503 when no secret is configured, 401 for a missing or wrong signature,
            400 for a body that is not UTF-8 JSON, 422 for one that is not Coral's payload.
    """
    secret = settings.coral_secret
    if secret is None:
        raise ApiError(
            503,
            "the Coral integration is off: set THREADGUARD_CORAL_SECRET to the signing "
            "secret Coral shows for the external moderation phase",
            code="coral_not_configured",
        )
    body = await request.body()
    header = request.headers.get("x-coral-signature")
    if not header:
        raise ApiError(
            401,
            "no X-Coral-Signature header: this endpoint only answers Coral's signed "
            "external moderation requests",
            code="signature_missing",
        )
    if not coral_signature_valid(secret.get_secret_value().encode("utf-8"), body, header):
        raise ApiError(
            401,
            "X-Coral-Signature does not match the body: is THREADGUARD_CORAL_SECRET the "
            "phase's current signing secret?",
            code="signature_invalid",
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400,
            f"the body is not UTF-8 (byte {exc.start} is 0x{body[exc.start]:02x})",
            code="invalid_encoding",
        ) from exc
    try:
        return CoralModerationRequest.model_validate_json(body)
    except ValidationError as exc:
        raise _payload_error(exc) from exc


def _payload_error(exc: ValidationError) -> ApiError:
    """The first problem of a payload, in the project's error shape (400 or 422)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return ApiError(400, f"the body is not valid JSON: {detail}", code="invalid_json")
    field = ".".join(str(part) for part in first["loc"]) or None
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    where = f"{field}: " if field else ""
    return ApiError(422, f"{where}{first['msg']}{suffix}", code="invalid_input", field=field)


CoralPayloadDep = Annotated[CoralModerationRequest, Depends(signed_payload)]

router = APIRouter(tags=["integrations"])


@router.post(
    "/v1/integrations/coral",
    response_model=CoralModerationResponse,
    responses={
        204: {"description": "No opinion: Coral carries on with its own settings."},
        **error_responses(400, 401, 413, 422, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "X-Coral-Signature",
                "in": "header",
                "required": True,
                "description": "sha256=<hex HMAC-SHA256 of the body>, one per active "
                "signing secret, comma-separated.",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _inline(CoralModerationRequest.model_json_schema())}
            },
        },
    },
    summary="Coral Talk external moderation phase",
)
async def coral(
    payload: CoralPayloadDep,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    services: ServicesDep,
) -> Response:
    """Flag (and for hate, withhold) a comment Coral sends, or answer 204 for no opinion."""
    raw = payload.comment.body
    text = html_to_text(raw) if looks_like_html(raw) else raw
    if not text.strip():
        return Response(status_code=204)
    # One comment, so the per-comment limit is its budget (never above the request budget).
    check_text(text, settings, "comment.body")
    frame = pd.DataFrame({"text": [text]})
    scored = await services.scoring.run(
        score_frame, model, frame, evidence_top=settings.evidence_top
    )
    metrics.observe_scores(scored, endpoint="coral")
    record = {str(key): value for key, value in scored.iloc[0].items()}
    policy = coral_policy(settings.coral_policy)
    decision = coral_decision(record, policy, BINARY_HEADS)
    if decision is None:
        return Response(status_code=204)
    return JSONResponse(decision)

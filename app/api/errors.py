"""One JSON error shape for every error the service returns: {"error": {code, message, field}}.

Perspective's compatible endpoint is the one exception: it answers in Perspective's own
error shape, because clients written for Perspective parse that.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError

log = logging.getLogger("threadguard.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    current: dict[str, Any] | None = Field(
        default=None,
        description="Only on 409 stale_item_version: the queue item as it is now "
        "(item_id, status, version), so the client can show it and decide again.",
    )


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx response."""

    error: ErrorDetail


# Status -> (code, the message used when the framework gave none worth showing).
_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    current: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A response in the one error shape."""
    detail: dict[str, Any] = {"code": code, "message": message, "field": field}
    if current is not None:
        detail["current"] = dict(current)
    body = {"error": detail}
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


class ApiError(AppError):
    """An error raised by a route with an explicit status (auth, conflicts, limits)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.status_code = status_code
        self.code = code or _HTTP_CODES.get(status_code, "error")
        self.headers = headers


def shown(exc: AppError) -> str:
    """What a caller may read of `exc`: its `public` text, with the message logged."""
    if exc.public is None:
        return exc.message
    log.warning("%s: %s", exc.code, exc.message)
    return exc.public


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error shape for these statuses."""
    return {status: {"model": ErrorBody, "description": _describe(status)} for status in statuses}


def _describe(status: int) -> str:
    return {
        400: "Malformed request (for example a body that is not UTF-8 JSON)",
        401: "No API key, or an unknown or revoked one",
        403: "The key's role may not do this",
        404: "Not found",
        405: "The path does not serve this method; `Allow` lists those it does",
        409: "Conflict with the current state",
        413: "Body, text or batch over its limit",
        422: "A field is missing or has a value that cannot be used",
        503: "The model or the database is not available",
    }.get(status, "Error")


def _field(loc: Sequence[Any]) -> str | None:
    # The first part says where the value was (body, query, …); a field may itself be
    # called "body" (Coral's comment.body), so only that first part is dropped.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path, for a 405's `Allow` header.

    Starlette's own header names only the first route that matched the path, so a path
    served by two routes (GET and POST of /v1/queue/items) would advertise one method.
    The routes are those `create_app` keeps in `app.state.routes`: the app's router holds
    the included routers only as wrappers that do not say which methods they serve.
    """
    methods: set[str] = set()
    path = request.scope.get("path", "")
    for route in getattr(request.app.state, "routes", ()):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise into the one shape."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        current = getattr(exc, "current", None)
        return error_response(
            exc.status_code, exc.code, shown(exc), exc.field, headers, current=current
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            return error_response(
                400, "invalid_json", f"the body is not valid JSON: {first.get('ctx', {})}"
            )
        field = _field(first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        where = f"{field}: " if field else ""
        return error_response(422, "invalid_input", f"{where}{message}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = str(exc.detail)
        cause = exc.__cause__
        if isinstance(cause, UnicodeDecodeError):
            # FastAPI reports a body it cannot decode only as "error parsing the body".
            bad = cause.object[cause.start : cause.start + 1].hex()
            code = "invalid_json"
            message = (
                f"the body is not valid JSON: it is not UTF-8 (byte 0x{bad} at offset "
                f"{cause.start}); send UTF-8"
            )
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return error_response(exc.status_code, code, message, None, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log; the caller learns only that it failed.
        request.app.state.log_exception(exc)
        return error_response(500, "internal_error", "internal error; see the server log")

"""The app factory: `create_app(settings)` builds the whole service from explicit arguments.

Nothing happens at import time. The model is loaded and the database checked when the app
is built, so a bad bundle or an unmigrated database stops the service before it binds a
port, with a message saying what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote_plus

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__, registry
from app.api.deps import Services
from app.api.errors import error_response, install_error_handlers
from app.api.metrics import Metrics
from app.api.routes import coral, meta, perspective, queue, review, score, threads
from app.api.schemas import apply_limits
from app.auth import KeyStore
from app.config import Settings, load_settings
from app.policy import load_policy
from app.queue.keys import SqlKeyStore
from app.queue.store import make_engine, require_migrated
from app.registry import LoadedModel

log = logging.getLogger("threadguard.api")

DESCRIPTION = """\
Offline comment moderation: hate (with its target group), toxicity, conspiracy narratives,
stance toward the thread's topic and toward the parent comment, with the words that drove
each flag.

Authentication: `Authorization: Bearer <key>`, keys made with
`threadguard keys create --role scorer|moderator|admin`. While the service is bound to
loopback and no key was ever made, scoring needs no key (revoking keys does not reopen
it; `THREADGUARD_ANONYMOUS_SCORING=loopback-always` does).

Every error has the shape `{"error": {"code", "message", "field"}}`, except the
Perspective-compatible endpoint, which answers in Perspective's own error shape.
"""


def create_app(
    settings: Settings | None = None,
    *,
    model: LoadedModel | None = None,
    engine: Any = None,
    keys: KeyStore | None = None,
) -> FastAPI:
    """Build the service.

    `settings` default to the environment (THREADGUARD_*, `.env`); `model`, `engine` and
    `keys` default to what the settings name and exist so tests can share them.

    Raises:
        ModelArtifactError: the model bundle is missing or fails its checks.
        DatabaseError: the database is unreachable or not migrated (the message says to run
            `threadguard db upgrade`).
        PolicyError: the policy file of `settings.policy_file` is missing or invalid.
    """
    settings = settings or load_settings()
    if model is None:
        model = registry.load_current(settings.model_dir or registry.default_model_dir())
    owns_engine = engine is None
    if engine is None:
        engine = make_engine(settings.database_url)
    try:
        require_migrated(engine)
    except Exception:
        if owns_engine:
            engine.dispose()
        raise
    try:
        policy = load_policy(settings.policy_file, model.thresholds)
    except Exception:
        if owns_engine:
            engine.dispose()
        raise
    services = Services(
        settings=settings,
        model=model,
        keys=keys or SqlKeyStore(engine),
        metrics=Metrics(model.version),
        engine=engine,
        policy=policy,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        services.scoring.close()
        if owns_engine:
            engine.dispose()

    app = FastAPI(
        title="threadguard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.log_exception = lambda exc: log.error("unhandled error", exc_info=exc)
    install_error_handlers(app)
    _spec_states_limits(app, settings)
    _redact_access_log()
    routers = [
        module.router for module in (score, threads, queue, meta, perspective, coral, review)
    ]
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # The routers' own routes (no prefixes), to name the route of a request refused before
    # routing.
    routes = [route for router in routers for route in router.routes]
    app.add_middleware(RequestMetrics, metrics=services.metrics, routes=routes)
    # What a 405 lists in `Allow`: the app's own routes (the spec, the docs) and the routers'.
    app.state.routes = [*app.router.routes, *routes]
    return app


def _spec_states_limits(app: FastAPI, settings: Settings) -> None:
    """Make the OpenAPI spec give this service's configured limits (`schemas.limit` marks).

    The spec is built once, on the first request for it, as FastAPI does.
    """
    build = app.openapi
    values = {
        name: value
        for name, value in settings.model_dump().items()
        if isinstance(value, int) and not isinstance(value, bool)
    }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            apply_limits(build(), values)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class RedactKeys(logging.Filter):
    """Hide `?key=` values in uvicorn's access log: Perspective clients send keys there.

    A parameter is judged by its decoded name, as the routes read it, so `%6Bey=` and
    `k%45y=` (which Starlette decodes to `key`) are redacted too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            if isinstance(args[2], str):
                args[2] = redact_query(args[2])
                record.args = tuple(args)
        return True


def redact_query(target: str) -> str:
    """`target` (path and query) with the value of every parameter named `key` hidden."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).strip().lower() == "key":
            part = f"{name}=[redacted]"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}"


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeys) for f in access.filters):
        access.addFilter(RedactKeys())


def create_app_from_env() -> FastAPI:
    """The factory uvicorn workers call (`--factory`): settings from the environment."""
    from app.api import server

    settings = load_settings()
    server.configure(
        header_timeout_s=settings.header_timeout_s, body_timeout_s=settings.body_timeout_s
    )
    return create_app(settings)


class BodyTooLarge(HTTPException):
    """Raised while a body is read; an HTTPException so FastAPI passes it on unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit:,} bytes")


class BodyLimit:
    """Refuse bodies over `max_bytes`: by Content-Length up front, else while reading.

    A body that announces its size is refused before a byte of it is read; a chunked body
    is counted as it arrives, so no request makes the service buffer more than the limit.
    (Starlette's own limiter answers in plain text, outside the one error shape.)
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            too_large = BodyTooLarge(self.max_bytes)
            response = error_response(413, "payload_too_large", str(too_large.detail))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


class RequestMetrics:
    """Count every request by its route template (not its raw path) and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            template = self._template(scope)
            self.metrics.observe_request(
                template, scope["method"], status, time.perf_counter() - started
            )

    def _template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            # Refused before routing (a body over the limit): find the route it was for.
            route = next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)
        # Unmatched paths share one label so scanners cannot grow the metric set.
        return getattr(route, "path", None) or "unmatched"

"""What routes depend on: the app's services, and the caller's key checked against a role.

Use the `Annotated` aliases in route signatures:

    def route(model: ModelDep, caller: ScorerDep) -> ...
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from app.api.batcher import MicroBatcher
from app.api.errors import ApiError
from app.api.metrics import Metrics
from app.api.work import ScoringPool
from app.auth import KeyStore, Principal, Role
from app.config import Settings, is_loopback
from app.policy import Policy
from app.registry import LoadedModel
from app.text import article


@dataclass(frozen=True)
class Services:
    """Everything an app was built with; `create_app` puts it on `app.state.services`."""

    settings: Settings
    model: LoadedModel
    keys: KeyStore
    metrics: Metrics
    # The SQLAlchemy engine of the queue database (None only in tests of single routers).
    engine: Any = None
    # The review policy (None only in tests of single routers).
    policy: Policy | None = None
    # Made from the settings: where requests score, and single comments' micro-batches.
    scoring: ScoringPool = field(init=False)
    batcher: MicroBatcher = field(init=False)

    def __post_init__(self) -> None:
        # Imported here: the route module imports this one.
        from app.api.routes.score import score_comments

        settings = self.settings
        scoring = ScoringPool(settings.scoring_threads, self.metrics)
        model, top = self.model, settings.evidence_top
        batcher = MicroBatcher(
            scoring,
            lambda comments: score_comments(model, comments, top),
            self.metrics,
            max_comments=settings.batch_max_comments,
            max_bytes=settings.max_request_text_bytes,
            wait_s=settings.batch_wait_ms / 1000,
        )
        object.__setattr__(self, "scoring", scoring)
        object.__setattr__(self, "batcher", batcher)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_model(services: ServicesDep) -> LoadedModel:
    return services.model


async def get_metrics(services: ServicesDep) -> Metrics:
    return services.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelDep = Annotated[LoadedModel, Depends(get_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key made with `threadguard keys create --role ROLE`.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _anonymous_allowed(request: Request, services: Services) -> bool:
    settings = services.settings
    if settings.anonymous_scoring == "never" or not settings.bound_to_loopback:
        return False
    client = request.client
    if client is None or not (is_loopback(client.host) or client.host == "testclient"):
        return False
    return settings.anonymous_scoring == "loopback-always" or not services.keys.any_key_made()


def bearer_of(request: Request) -> HTTPAuthorizationCredentials | None:
    # What `_bearer` makes of the header, read before FastAPI runs dependencies.
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


Admit = Callable[[Request], Principal]
_ADMITTED = "threadguard_admitted"


def admitted(request: Request, admit: Admit) -> Principal | None:
    """The caller `admit` already let in for this request (by `KeyFirstRoute`), or None."""
    done: tuple[Admit, Principal] | None = getattr(request.state, _ADMITTED, None)
    return done[1] if done is not None and done[0] is admit else None


class KeyFirstRoute(APIRoute):
    """Checks the caller's key before the body is read, parsed or validated.

    FastAPI parses a JSON body before it runs any dependency, so without this a caller
    with no key learns from a 400 or 422 what the endpoint expects. A dependency that
    carries an `admit` attribute (made by `require`, or the Perspective caller) is run
    first, on the bare request; its answer is kept for the dependency itself.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        admit = _admit_of(self.dependant)
        if admit is None:
            return handler

        async def keyed(request: Request) -> Response:
            principal = await run_in_threadpool(admit, request)
            setattr(request.state, _ADMITTED, (admit, principal))
            return await handler(request)

        return keyed


def _admit_of(dependant: Dependant) -> Admit | None:
    for dependency in dependant.dependencies:
        admit: Admit | None = getattr(dependency.call, "admit", None)
        if admit is None:
            admit = _admit_of(dependency)
        if admit is not None:
            return admit
    return None


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits a caller whose key has at least `role`.

    Scoring (`Role.scorer`) may also be anonymous: see `Settings.anonymous_scoring`. On a
    `KeyFirstRoute` the check runs before the body is read.
    """

    def admit(request: Request) -> Principal:
        services: Services = request.app.state.services
        credentials = bearer_of(request)
        if credentials is None:
            if role is Role.scorer and _anonymous_allowed(request, services):
                return Principal(key=None)
            raise ApiError(
                401,
                "this endpoint needs an API key: send 'Authorization: Bearer <key>' "
                "(make one with `threadguard keys create --role "
                f"{role.value}`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = services.keys.verify(credentials.credentials)
        if key is None:
            raise ApiError(
                401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not key.role.allows(role):
            raise ApiError(
                403,
                f"this endpoint needs {article(role.value)} key; "
                f"key {key.key_id!r} is {article(key.role.value)}",
            )
        return Principal(key=key)

    # `credentials` stays in the signature: it is what puts the Bearer scheme in OpenAPI.
    def check(request: Request, credentials: BearerDep) -> Principal:
        return admitted(request, admit) or admit(request)

    check.admit = admit  # type: ignore[attr-defined]
    return check


ScorerDep = Annotated[Principal, Depends(require(Role.scorer))]
ModeratorDep = Annotated[Principal, Depends(require(Role.moderator))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]

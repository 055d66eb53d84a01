"""What routes depend on: the app's services, and the caller's key checked against a role.

Use the `Annotated` aliases in route signatures:

    def route(model: ModelDep, caller: ScorerDep) -> ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.batcher import MicroBatcher
from app.api.errors import ApiError
from app.api.metrics import Metrics
from app.api.work import ScoringPool
from app.auth import KeyStore, Principal, Role
from app.config import Settings, is_loopback
from app.policy import Policy
from app.registry import LoadedModel


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


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits a caller whose key has at least `role`.

    Scoring (`Role.scorer`) may also be anonymous: see `Settings.anonymous_scoring`.
    """

    def check(request: Request, services: ServicesDep, credentials: BearerDep) -> Principal:
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
                403, f"this endpoint needs a {role.value} key; key {key.key_id!r} is a {key.role}"
            )
        return Principal(key=key)

    return check


ScorerDep = Annotated[Principal, Depends(require(Role.scorer))]
ModeratorDep = Annotated[Principal, Depends(require(Role.moderator))]
AdminDep = Annotated[Principal, Depends(require(Role.admin))]

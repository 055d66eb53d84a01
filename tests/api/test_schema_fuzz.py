"""Requests generated from the service's own OpenAPI spec (schemathesis), in process.

Every operation gets schema-valid and schema-violating requests (fixed seed, bounded
count); every answer must not be a 5xx, must use a status code the spec declares, and
must match the schema and content type the spec declares for that status. The Coral
endpoint is also fuzzed past its signature check, with each generated body signed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

    from app.registry import LoadedModel

CORAL_SECRET = "fuzzing-coral-signing-secret-0123456789"
CORAL_PATH = "/v1/integrations/coral"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and derandomised so the suite is stable and fast: every run sends the same cases.
FUZZ = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzzed(
    tiny_model: LoadedModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    """The app with the tiny model, a Coral secret, and an admin key (its secret)."""
    from app.api.app import create_app
    from app.auth import Role
    from app.config import Settings
    from app.queue.keys import SqlKeyStore
    from app.queue.store import make_engine, upgrade

    folder: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'threadguard.db'}"
    upgrade(url)
    engine = make_engine(url)
    secret = SqlKeyStore(engine).create(Role.admin, "fuzzing").secret
    app = create_app(
        Settings(database_url=url, coral_secret=CORAL_SECRET),  # type: ignore[arg-type]
        model=tiny_model,
        engine=engine,
    )
    yield app, secret
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed: tuple[FastAPI, str]) -> BaseSchema:
    app, _ = fuzzed
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Listed here (not taken from the spec at collection time, which needs a model) so each
# operation is its own test; `test_every_operation_is_fuzzed` keeps the list complete.
OPERATIONS = (
    ("POST", "/v1/score"),
    ("POST", "/v1/threads"),
    ("GET", "/v1/model"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/v1alpha1/comments:analyze"),
    ("POST", CORAL_PATH),
    ("POST", "/v1/queue/items"),
    ("GET", "/v1/queue/items"),
    ("GET", "/v1/queue/items/{item_id}"),
    ("GET", "/v1/queue/items/{item_id}/decisions"),
    ("POST", "/v1/queue/items/{item_id}/decisions"),
    ("POST", "/v1/queue/decisions"),
    ("GET", "/v1/queue/stats"),
    ("GET", "/v1/queue/export"),
)


def test_every_operation_is_fuzzed(api_schema: BaseSchema) -> None:
    spec = api_schema.raw_schema["paths"]
    declared = {(method.upper(), path) for path, item in spec.items() for method in item}
    assert declared == set(OPERATIONS)


# Schema-violating requests need an input to violate: the GET operations take none.
CASES = [
    pytest.param(method, path, mode, id=f"{mode.value}-{method} {path}")
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    for method, path in OPERATIONS
    if mode is GenerationMode.POSITIVE or method == "POST"
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_answers_as_documented(
    method: str,
    path: str,
    mode: GenerationMode,
    api_schema: BaseSchema,
    fuzzed: tuple[FastAPI, str],
) -> None:
    _, secret = fuzzed
    operation = api_schema[path][method]
    auth = {"Authorization": f"Bearer {secret}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @FUZZ
    def answers(case: Case[Any]) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS)

    answers()


def _signed(body: Any) -> tuple[bytes, dict[str, str]]:
    from app.api.compat import coral_signature

    raw = json.dumps(body).encode("utf-8")
    signature = coral_signature(CORAL_SECRET.encode("utf-8"), raw)
    return raw, {"content-type": "application/json", "x-coral-signature": signature}


def test_signed_coral_payloads_answer_as_documented(
    api_schema: BaseSchema, fuzzed: tuple[FastAPI, str]
) -> None:
    app, _ = fuzzed
    operation = api_schema[CORAL_PATH]["POST"]
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)

    @given(case=strategy)
    @FUZZ
    def signed(case: Case[Any]) -> None:
        raw, headers = _signed(case.body)
        response = client.post(CORAL_PATH, content=raw, headers=headers)
        # Schema-valid payloads: an opinion, no opinion, or a comment over the text limit.
        assert response.status_code in (200, 204, 413), response.text
        case.validate_response(response, checks=CHECKS)

    with TestClient(app) as client:
        signed()

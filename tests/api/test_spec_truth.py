"""The OpenAPI spec tells the truth: a request the spec calls valid is served, one it calls
invalid is refused, and the refusal has the documented status.

Each case is judged twice, by the spec (a JSON Schema validator with formats on) and by
the service, and the two must agree. The cases are the rules schemathesis found the spec
silent or wrong about; `test_schemathesis.py` runs the generator itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client

if TYPE_CHECKING:
    from app.registry import LoadedModel

TEXT_LIMIT = 20_480  # THREADGUARD_MAX_TEXT_BYTES by default
TOXICITY = {"TOXICITY": {}}


@pytest.fixture(scope="module")
def served(
    tiny_model: LoadedModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str], dict[str, Any]]]:
    from app.auth import Role
    from app.queue.keys import SqlKeyStore
    from app.queue.store import make_engine, upgrade

    folder: Path = tmp_path_factory.mktemp("spec")
    url = f"sqlite:///{folder / 'threadguard.db'}"
    upgrade(url)
    engine = make_engine(url)
    secret = SqlKeyStore(engine).create(Role.admin, "spec").secret
    engine.dispose()
    with make_client(url, tiny_model) as client:
        spec = client.get("/openapi.json").json()
        yield client, {"Authorization": f"Bearer {secret}"}, spec


def _valid(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    # The spec's references point into its components: validate with them at the root.
    document = {**schema, "components": spec["components"]}
    validator = jsonschema_rs.validator_for(document, validate_formats=True)
    return bool(validator.is_valid(value))


def _body_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    return schema


def _query_schema(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    for parameter in spec["paths"][path]["get"]["parameters"]:
        if parameter["name"] == name and parameter["in"] == "query":
            schema: dict[str, Any] = parameter["schema"]
            return schema
    raise AssertionError(f"{path} has no query parameter {name}")


BODIES = [
    pytest.param("/v1/score", {"comments": [{"text": ""}]}, 422, id="empty text in a batch"),
    pytest.param("/v1/score", {"text": "   "}, 422, id="blank text"),
    pytest.param("/v1/score", {"text": "\u3000\u2028"}, 422, id="unicode blank text"),
    pytest.param("/v1/score", {"text": "\ufeffhi"}, 200, id="BOM is not whitespace"),
    pytest.param("/v1/score", {"text": "a" * TEXT_LIMIT}, 200, id="text at the limit"),
    pytest.param("/v1/score", {"text": "a" * 10_000_000}, 413, id="10 MB text"),
    pytest.param("/v1/score", {"comments": []}, 422, id="empty batch"),
    pytest.param("/v1/score", {"comments": [{"text": "a"}] * 1_001}, 413, id="batch over limit"),
    pytest.param(
        "/v1/score",
        {"text": "hi", "parent_text": "a" * (TEXT_LIMIT + 1)},
        413,
        id="parent text over limit",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "hi"}, "requestedAttributes": TOXICITY},
        200,
        id="perspective",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "hi"}, "requestedAttributes": {}},
        400,
        id="perspective no attributes",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "hi"}, "requestedAttributes": {"INSULT": {}}},
        400,
        id="perspective unserved attribute",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {
            "comment": {"text": "hi"},
            "requestedAttributes": {"INSULT": {}, "toxicity": {}},
            "dropUnsupportedAttributes": True,
        },
        200,
        id="perspective unserved attribute dropped",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "hi", "type": "HTML"}, "requestedAttributes": TOXICITY},
        400,
        id="perspective html",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": " "}, "requestedAttributes": TOXICITY},
        400,
        id="perspective blank",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {"comment": {"text": "hi"}, "requestedAttributes": TOXICITY, "languages": ["de"]},
        400,
        id="perspective german",
    ),
    pytest.param(
        "/v1alpha1/comments:analyze",
        {
            "comment": {"text": "hi"},
            "requestedAttributes": {"TOXICITY": {"scoreThreshold": 1.5}},
        },
        400,
        id="perspective threshold over 1",
    ),
    pytest.param(
        "/v1/queue/items",
        {"source": "s", "comments": [{"comment_id": "c", "text": "hi", "posted_at": "now"}]},
        422,
        id="queue time not rfc 3339",
    ),
    pytest.param(
        "/v1/queue/items",
        {
            "source": "s",
            "comments": [{"comment_id": "c", "text": "hi", "posted_at": "2026-12-04T10:00:00"}],
        },
        422,
        id="queue time without zone",
    ),
    pytest.param(
        "/v1/queue/items",
        {"source": " ", "comments": [{"comment_id": "c", "text": "hi"}]},
        422,
        id="queue blank source",
    ),
    pytest.param(
        "/v1/queue/items",
        {
            "source": "s",
            "comments": [{"comment_id": "c", "text": "hi", "posted_at": "2026-12-04T10:00:00Z"}],
        },
        200,
        id="queue",
    ),
]


@pytest.mark.parametrize(("path", "body", "status"), BODIES)
def test_the_spec_and_the_service_agree_on_a_body(
    served: tuple[TestClient, dict[str, str], dict[str, Any]],
    path: str,
    body: Any,
    status: int,
) -> None:
    client, auth, spec = served
    answer = client.post(path, json=body, headers=auth)
    assert answer.status_code == status, answer.text[:500]
    assert _valid(spec, _body_schema(spec, path), body) is (status == 200)


QUERIES = [
    pytest.param("since", "0.5", 422, id="since a number"),
    pytest.param("since", "2026-12-04", 422, id="since a date"),
    pytest.param("since", "2026-12-04T10:00:00", 422, id="since without zone"),
    pytest.param("since", "2026-12-04T10:00:00+01:00", 200, id="since"),
    pytest.param("until", "9999-12-31T23:59:59-14:00", 200, id="until past the calendar"),
    pytest.param("limit", "0.5", 422, id="limit a fraction"),
    # JSON Schema counts 1.0 as an integer (its value is), and so does the service.
    pytest.param("thread_id", "1.0", 200, id="thread id integral float"),
    pytest.param("thread_id", "1.5", 422, id="thread id a fraction"),
    pytest.param("cursor", "garbage!!", 422, id="cursor garbage"),
    pytest.param("cursor", "eyJ4IjoxfQ", 422, id="cursor another alphabet"),
    pytest.param("cursor", "n5", 200, id="cursor newest"),
    pytest.param("cursor", "p7_0.25", 200, id="cursor priority"),
]


@pytest.mark.parametrize(("name", "value", "status"), QUERIES)
def test_the_spec_and_the_service_agree_on_a_query_parameter(
    served: tuple[TestClient, dict[str, str], dict[str, Any]],
    name: str,
    value: str,
    status: int,
) -> None:
    client, auth, spec = served
    answer = client.get("/v1/queue/items", params={name: value}, headers=auth)
    assert answer.status_code == status, answer.text[:500]
    schema = _query_schema(spec, "/v1/queue/items", name)
    # A query value is a string on the wire; the spec's integers are read from it.
    typed: Any = value
    if name in ("limit", "thread_id"):
        typed = float(value) if "." in value else int(value)
    assert _valid(spec, schema, typed) is (status == 200)


def test_an_unsupported_method_is_405_and_allow_lists_every_method_of_the_path(
    served: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    client, auth, spec = served
    for path, operations in spec["paths"].items():
        concrete = path.replace("{item_id}", "1")
        served_methods = {method.upper() for method in operations}
        for method in ("OPTIONS", "PATCH", "PUT", "DELETE"):
            if method in served_methods:
                continue
            answer = client.request(method, concrete, headers=auth)
            assert answer.status_code == 405, (method, path, answer.text)
            allowed = {name.strip() for name in answer.headers["allow"].split(",")}
            assert allowed == served_methods, (method, path)
            assert answer.json()["error"]["code"] == "method_not_allowed"

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.config import Settings
from app.queue.store import DatabaseNotMigrated, make_engine
from app.registry import LoadedModel
from tests.api.conftest import assert_error


def test_model_info_comes_from_the_manifest(client: TestClient, tiny_model: LoadedModel) -> None:
    body = client.get("/v1/model").json()
    assert body["version"] == tiny_model.version
    assert set(body["thresholds"]) == {"hate", "toxic", "conspiracy"}
    for head, entry in body["thresholds"].items():
        assert entry["threshold"] == tiny_model.thresholds[head]
        assert entry["rule"] == tiny_model.manifest["thresholds"][head]["rule"]
    assert body["label_schema"]["stance"]["labels"] == ["favor", "against", "none"]
    assert body["libraries"]["sklearn"]


def test_health_and_readiness(client: TestClient, tiny_model: LoadedModel) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ready",
        "model_version": tiny_model.version,
        "database": "ok",
    }


def test_readiness_fails_when_the_database_is_gone(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    unreachable = make_engine("postgresql://nobody@127.0.0.1:1/none")
    object.__setattr__(services, "engine", unreachable)
    try:
        response = client.get("/readyz")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


WELL_FORMED = f"tg_{'0' * 12}_{'A' * 43}"  # a key's shape, so it is looked up


def test_database_errors_name_no_host_to_callers_but_to_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    unreachable = make_engine("postgresql://nobody@db-secret-host.internal:1/queue_prod")
    object.__setattr__(services, "engine", unreachable)
    object.__setattr__(services.keys, "engine", unreachable)
    try:
        with caplog.at_level("WARNING", logger="threadguard.api"):
            answers = [
                client.get("/readyz"),
                client.post("/v1/score", json={"text": "hello"}),
                client.get("/v1/queue/items", headers={"Authorization": f"Bearer {WELL_FORMED}"}),
            ]
        # The review page's sign-in looks the key up too, and answers with an HTML page.
        form = client.get("/review/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        with caplog.at_level("WARNING", logger="threadguard.api"):
            page = client.post(
                "/review/login",
                data={"csrf": csrf.group(1), "next": "/review", "key": WELL_FORMED},
            )
    finally:
        unreachable.dispose()
    for response in answers:
        assert response.status_code == 503, response.text
        assert "db-secret-host" not in response.text and "queue_prod" not in response.text
        assert "server log" in response.json()["error"]["message"]
    assert page.status_code == 503, page.text
    assert "db-secret-host" not in page.text and "queue_prod" not in page.text
    assert "server log" in page.text
    assert "db-secret-host" in caplog.text


def test_metrics_count_routes_and_flags(client: TestClient) -> None:
    client.post("/v1/score", json={"text": "jews are vermin and should be driven out"})
    client.get("/no/such/path/123")
    text = client.get("/metrics").text
    assert 'threadguard_requests_total{method="POST",route="/v1/score",status="200"} 1.0' in text
    assert 'route="unmatched"' in text
    assert "/no/such/path" not in text
    assert 'threadguard_flags_total{label="hate"} 1.0' in text
    assert 'threadguard_flags_total{label="hate_target:jewish"} 1.0' in text
    assert 'threadguard_request_seconds_bucket{le="0.02",route="/v1/score"}' in text


def test_unknown_path_is_404_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v2/nothing"), 404, "not_found")
    assert_error(client.get("/v1/score"), 405, "method_not_allowed")


def test_an_unmigrated_database_stops_the_service(tmp_path: Path, tiny_model: LoadedModel) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotMigrated, match="threadguard db upgrade"):
        create_app(settings, model=tiny_model)


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/score",
        "/v1/threads",
        "/v1/model",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1alpha1/comments:analyze",
        "/v1/integrations/coral",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert operation.get("summary") and operation.get("description"), path
    assert client.get("/docs").status_code == 200


def test_keys_in_query_strings_are_redacted_from_the_access_log() -> None:
    import logging

    from app.api.app import RedactKeys

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/v1alpha1/comments:analyze?key=tg_abc_secret&x=1", "1.1", 200),
        None,
    )
    assert RedactKeys().filter(record)
    message = record.getMessage()
    assert "secret" not in message
    assert "?key=[redacted]&x=1" in message


def test_percent_encoded_key_names_are_redacted_too() -> None:
    from app.api.app import redact_query

    for target in (
        "/v1alpha1/comments:analyze?%6Bey=tg_abc_secret",
        "/v1alpha1/comments:analyze?x=1&k%45Y=tg_abc_secret&y=2",
        "/v1alpha1/comments:analyze?KEY=tg_abc_secret",
    ):
        redacted = redact_query(target)
        assert "secret" not in redacted
        assert "=[redacted]" in redacted
    assert redact_query("/v1/score?keys=1&monkey=2") == "/v1/score?keys=1&monkey=2"
    assert redact_query("/healthz") == "/healthz"


def test_bodies_refused_before_routing_count_under_their_route(
    sqlite_url: str, tiny_model: LoadedModel
) -> None:
    from tests.api.conftest import make_client

    with make_client(sqlite_url, tiny_model, max_body_bytes=2_048, max_text_bytes=1_024) as client:
        announced = client.post(
            "/v1/score", content=b"x" * 5_000, headers={"content-type": "application/json"}
        )
        assert_error(announced, 413, "payload_too_large")
        text = client.get("/metrics").text
    assert 'threadguard_requests_total{method="POST",route="/v1/score",status="413"} 1.0' in text
    assert 'route="unmatched"' not in text

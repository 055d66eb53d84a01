from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.deps import AdminDep, ModeratorDep
from app.auth import Principal, Role
from app.queue.keys import SqlKeyStore
from app.registry import LoadedModel
from tests.api.conftest import assert_error, make_client

COMMENT = {"text": "a pleasant comment"}


@pytest.fixture
def client(migrated_url: str, tiny_model: LoadedModel) -> Iterator[TestClient]:
    """The service on SQLite and, when THREADGUARD_TEST_DATABASE_URL is set, PostgreSQL."""
    with make_client(migrated_url, tiny_model) as test_client:
        yield test_client


def _store(client: TestClient) -> SqlKeyStore:
    app: Any = client.app
    store: SqlKeyStore = app.state.services.keys
    return store


def _with_guarded_routes(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/test/moderator")
    def moderator(caller: ModeratorDep) -> dict[str, str]:
        return {"name": caller.name}

    @app.get("/test/admin")
    def admin(caller: AdminDep) -> dict[str, str]:
        return {"name": caller.name}


def test_scoring_is_open_on_loopback_until_a_key_exists(client: TestClient) -> None:
    assert client.post("/v1/score", json=COMMENT).status_code == 200
    key = _store(client).create(Role.scorer, "site A")
    message = assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")
    assert "Authorization: Bearer" in message
    ok = client.post("/v1/score", json=COMMENT, headers={"Authorization": f"Bearer {key.secret}"})
    assert ok.status_code == 200


def test_revoking_every_key_does_not_reopen_anonymous_scoring(client: TestClient) -> None:
    service_store = _store(client)
    service_store.active_ttl = 0.0  # as if the kept answer had expired
    # Made and revoked elsewhere, as `threadguard keys` does from another process.
    cli_store = SqlKeyStore(service_store.engine)
    key = cli_store.create(Role.scorer, "short-lived")
    assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")
    cli_store.revoke(key.key.key_id)
    assert cli_store.list_keys() == []
    assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")
    # Through the service's own store, too (its answer is reset there).
    service_store.revoke(service_store.create(Role.admin, "ops").key.key_id)
    assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")


def test_an_admin_may_reopen_loopback_scoring_explicitly(
    migrated_url: str, tiny_model: LoadedModel
) -> None:
    with make_client(migrated_url, tiny_model, anonymous_scoring="loopback-always") as client:
        _store(client).create(Role.scorer, "site A")
        assert client.post("/v1/score", json=COMMENT).status_code == 200
        # Never beyond loopback, whatever the setting says.
    with make_client(
        migrated_url, tiny_model, anonymous_scoring="loopback-always", host="0.0.0.0"
    ) as client:
        assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")


def test_never_anonymous_when_configured(sqlite_url: str, tiny_model: LoadedModel) -> None:
    with make_client(sqlite_url, tiny_model, anonymous_scoring="never") as client:
        assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")


def test_never_anonymous_when_bound_beyond_loopback(
    sqlite_url: str, tiny_model: LoadedModel
) -> None:
    with make_client(sqlite_url, tiny_model, host="0.0.0.0") as client:
        assert_error(client.post("/v1/score", json=COMMENT), 401, "unauthorized")


def test_wrong_and_revoked_keys_are_401(client: TestClient) -> None:
    store = _store(client)
    key = store.create(Role.admin, "ops")
    for secret in ("nonsense", key.secret + "x", f"tg_{key.key.key_id}_guess"):
        response = client.post(
            "/v1/score", json=COMMENT, headers={"Authorization": f"Bearer {secret}"}
        )
        assert_error(response, 401, "unauthorized")
    store.revoke(key.key.key_id)
    response = client.post(
        "/v1/score", json=COMMENT, headers={"Authorization": f"Bearer {key.secret}"}
    )
    assert "revoked" in assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.scorer, "/test/moderator", 403),
        (Role.moderator, "/test/moderator", 200),
        (Role.moderator, "/test/admin", 403),
        (Role.admin, "/test/admin", 200),
        (Role.admin, "/test/moderator", 200),
    ],
)
def test_roles_are_ranked(client: TestClient, role: Role, path: str, status: int) -> None:
    _with_guarded_routes(client)
    key = _store(client).create(role, f"{role} key")
    response = client.get(path, headers={"Authorization": f"Bearer {key.secret}"})
    if status == 403:
        needed = "an admin" if path.endswith("/admin") else "a moderator"
        assert f"needs {needed} key" in assert_error(response, 403, "forbidden")
    else:
        assert response.json() == {"name": f"{role} key"}


def test_moderator_routes_are_never_anonymous(client: TestClient) -> None:
    _with_guarded_routes(client)
    assert_error(client.get("/test/moderator"), 401, "unauthorized")


def test_principal_names() -> None:
    assert Principal(key=None).name == "anonymous"
    assert Principal(key=None).role is None


def _keyed_operations_with_bodies(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation and operation.get("security")
    ]


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xff\xfe", b'{"comments": "not a list", "text": 5}'],
    ids=["json", "utf8", "shape"],
)
def test_the_key_is_checked_before_the_body_is_read(
    sqlite_url: str, tiny_model: LoadedModel, body: bytes
) -> None:
    with make_client(sqlite_url, tiny_model, anonymous_scoring="never") as client:
        operations = _keyed_operations_with_bodies(client)
        paths = {path for _, path in operations}
        assert {"/v1/score", "/v1/threads", "/v1/queue/items"} <= paths
        assert "/v1alpha1/comments:analyze" in paths
        for method, path in operations:
            url = path.replace("{item_id}", "1")
            for headers in ({}, {"Authorization": f"Bearer tg_{'0' * 12}_{'A' * 43}"}):
                response = client.request(
                    method,
                    url,
                    content=body,
                    headers={"content-type": "application/json", **headers},
                )
                assert response.status_code == 401, (method, path, response.text)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from app.registry import LoadedModel


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    from app.queue.store import upgrade

    url = f"sqlite:///{tmp_path / 'threadguard.db'}"
    upgrade(url)
    return url


def make_client(url: str, model: LoadedModel, **settings: Any) -> TestClient:
    from app.api.app import create_app
    from app.config import Settings

    return TestClient(create_app(Settings(database_url=url, **settings), model=model))


@pytest.fixture
def client(sqlite_url: str, tiny_model: LoadedModel) -> Iterator[TestClient]:
    with make_client(sqlite_url, tiny_model) as test_client:
        yield test_client


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> str:
    """Check the one error shape and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code
    if field is not None:
        assert body["error"]["field"] == field
    message: str = body["error"]["message"]
    assert message
    return message

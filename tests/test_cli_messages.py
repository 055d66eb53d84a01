"""Counts and articles in what the CLI and the service say: `app.text` and its callers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.api.deps import AdminDep
from app.cli import app
from app.text import article, noun_for, plural, plural_of

runner = CliRunner()


@pytest.mark.parametrize(
    ("count", "noun", "said"),
    [
        (0, "decision", "0 decisions"),
        (1, "decision", "1 decision"),
        (2, "decision", "2 decisions"),
        (1, "reply", "1 reply"),
        (3, "reply", "3 replies"),
        (2, "key", "2 keys"),
        (2, "match", "2 matches"),
        (2, "article paragraph", "2 article paragraphs"),
        (12_345, "row", "12,345 rows"),
        (-1, "row", "-1 rows"),
    ],
)
def test_plural(count: int, noun: str, said: str) -> None:
    assert plural(count, noun) == said


def test_irregular_plurals_are_given() -> None:
    assert plural(2, "person", "people") == "2 people"
    assert plural(1, "person", "people") == "1 person"
    assert noun_for(1, "comment") == "comment" and noun_for(0, "comment") == "comments"
    assert plural_of("day") == "days" and plural_of("y") == "ys"


@pytest.mark.parametrize(
    ("word", "said"),
    [("admin", "an admin"), ("moderator", "a moderator"), ("scorer", "a scorer")],
)
def test_article(word: str, said: str) -> None:
    assert article(word) == said


def test_every_role_gets_its_article() -> None:
    from app.auth import Role

    assert {role.value: article(role.value).split()[0] for role in Role} == {
        "scorer": "a",
        "moderator": "a",
        "admin": "an",
    }


@pytest.fixture
def one_decision(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`queue export` finds one decision (the export itself is tests/queue's subject)."""
    from app.commands import queue

    def export_feedback(engine: Any, since: Any = None) -> Iterator[dict[str, Any]]:
        yield {"schema": "threadguard.feedback/1", "decision_id": 1}

    monkeypatch.setattr(queue, "export_feedback", export_feedback, raising=False)
    yield


def test_export_of_one_decision_says_decision(one_decision: None, tmp_path: Path) -> None:
    from app.queue.store import upgrade

    url = f"sqlite:///{tmp_path / 'threadguard.db'}"
    upgrade(url)
    result = runner.invoke(app, ["queue", "export", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.stderr == "exported 1 decision\n"
    target = tmp_path / "feedback.jsonl"
    result = runner.invoke(app, ["queue", "export", "-o", str(target), "--database-url", url])
    assert result.stderr == f"exported 1 decision to {target}\n"


def test_a_moderator_key_on_an_admin_endpoint_is_told_an_admin_key(
    tmp_path: Path, tiny_model: Any
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.api.app import create_app
    from app.auth import Role
    from app.config import Settings
    from app.queue.store import upgrade

    url = f"sqlite:///{tmp_path / 'threadguard.db'}"
    upgrade(url)
    service: FastAPI = create_app(Settings(database_url=url), model=tiny_model)

    @service.get("/test/admin")
    def admin_only(caller: AdminDep) -> dict[str, str]:
        return {"name": caller.name}

    with TestClient(service) as client:
        key = service.state.services.keys.create(Role.moderator, "mod key")
        response = client.get("/test/admin", headers={"Authorization": f"Bearer {key.secret}"})
    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert message.startswith("this endpoint needs an admin key; ")
    assert message.endswith(f"key {key.key.key_id!r} is a moderator")

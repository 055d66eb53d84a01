from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import Role
from app.commands.db import db_app, keys_app
from app.queue import store
from app.queue.keys import SqlKeyStore
from app.queue.store import head_revision

runner = CliRunner()


def test_db_upgrade_then_current(database_url: str) -> None:
    result = runner.invoke(db_app, ["current", "--database-url", database_url])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["current: none", f"head: {head_revision()}"]
    assert "run `threadguard db upgrade --database-url" in result.stderr

    result = runner.invoke(db_app, ["upgrade", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert f"is at revision {head_revision()}" in result.stderr

    result = runner.invoke(db_app, ["current", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"current: {head_revision()}", f"head: {head_revision()}"]


def test_db_current_behind_exits_1(database_url: str) -> None:
    store.upgrade(database_url, "0001")
    result = runner.invoke(db_app, ["current", "--database-url", database_url])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["current: 0001", f"head: {head_revision()}"]
    assert "is at revision 0001" in result.stderr


def test_db_upgrade_to_a_revision_that_does_not_exist(database_url: str) -> None:
    result = runner.invoke(
        db_app, ["upgrade", "--revision", "0999", "--database-url", database_url]
    )
    assert result.exit_code == 2
    assert "error: cannot migrate" in result.stderr and "0999" in result.stderr


def test_the_url_defaults_to_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/from-env.db"
    monkeypatch.setenv("THREADGUARD_DATABASE_URL", url)
    result = runner.invoke(db_app, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert url in result.stderr


def test_a_bad_database_url_is_an_error_not_a_traceback() -> None:
    result = runner.invoke(db_app, ["current", "--database-url", "mysql://db/x"])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: unsupported database 'mysql'")


def test_keys_create_prints_only_the_secret_on_stdout(migrated_url: str, engine: Engine) -> None:
    result = runner.invoke(
        keys_app,
        ["create", "--role", "moderator", "--name", "desk", "--database-url", migrated_url],
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    key = SqlKeyStore(engine).verify(secret)
    assert key is not None and key.role == "moderator" and key.name == "desk"
    assert key.key_id in result.stderr and "shown once" in result.stderr
    assert secret not in result.stderr


def test_keys_create_refuses_an_unknown_role(migrated_url: str) -> None:
    result = runner.invoke(keys_app, ["create", "--role", "root", "--database-url", migrated_url])
    assert result.exit_code == 2
    assert "'root' is not one of" in result.stderr


def test_keys_create_refuses_a_bad_name(migrated_url: str) -> None:
    result = runner.invoke(
        keys_app, ["create", "--role", "scorer", "--name", " ", "--database-url", migrated_url]
    )
    assert result.exit_code == 2
    assert result.stderr == "error: a key name cannot be empty\n"


def test_keys_commands_on_an_unmigrated_database_say_what_to_run(database_url: str) -> None:
    result = runner.invoke(keys_app, ["create", "--role", "scorer", "--database-url", database_url])
    assert result.exit_code == 3
    assert "is empty (never migrated)" in result.stderr
    assert "run `threadguard db upgrade --database-url" in result.stderr


def test_keys_list_and_revoke(migrated_url: str, engine: Engine) -> None:
    key_store = SqlKeyStore(engine)
    result = runner.invoke(keys_app, ["list", "--database-url", migrated_url])
    assert result.exit_code == 0 and result.stdout == ""
    assert "no API keys yet" in result.stderr

    kept = key_store.create(Role.scorer, "kept")
    gone = key_store.create(Role.scorer, "gone for good")
    result = runner.invoke(keys_app, ["revoke", gone.key.key_id, "--database-url", migrated_url])
    assert result.exit_code == 0, result.output
    assert f"revoked scorer key {gone.key.key_id} (gone for good)" in result.stderr

    result = runner.invoke(keys_app, ["list", "--database-url", migrated_url])
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["key_id", "role", "created_at", "revoked_at", "name"]
    assert len(lines) == 2 and lines[1].startswith(kept.key.key_id)
    assert lines[1].split()[3] == "active" and lines[1].endswith("kept")

    result = runner.invoke(keys_app, ["list", "--all", "--database-url", migrated_url])
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [kept.key.key_id, gone.key.key_id]
    assert lines[2].endswith("gone for good") and "active" not in lines[2]
    for line in lines:
        assert kept.secret not in line and gone.secret not in line


def test_keys_revoke_of_an_unknown_id_exits_2(migrated_url: str) -> None:
    result = runner.invoke(keys_app, ["revoke", "0123456789ab", "--database-url", migrated_url])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no API key has the id '0123456789ab'")


PAGE = '{"comments": [{"id": "1", "author": "A", "text": "a comment"}]}'


def _tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize(
    "arguments",
    [
        ["serve", "--port", "1"],
        ["db", "current"],
        ["db", "upgrade", "--revision", "0999"],
        ["keys", "list"],
        ["keys", "create", "--role", "scorer"],
        ["queue", "stats"],
        ["queue", "list"],
        ["queue", "ingest", "-"],
    ],
    ids=lambda arguments: " ".join(arguments[:2]),
)
def test_a_refusal_leaves_nothing_on_disk(tmp_path: Path, arguments: list[str]) -> None:
    from app.cli import app

    # A mistyped folder and file: nothing of either may appear.
    url = f"sqlite:///{tmp_path}/vra/threadgaurd.db"
    before = _tree(tmp_path)
    result = runner.invoke(
        app, [*arguments, "--database-url", url], input=PAGE, catch_exceptions=False
    )
    assert result.exit_code != 0, result.output
    assert "threadgaurd.db" in result.stderr.splitlines()[-1], result.stderr
    assert _tree(tmp_path) == before


def test_upgrade_is_what_creates_a_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/folder/threadguard.db"
    missing = runner.invoke(db_app, ["current", "--database-url", url])
    assert missing.exit_code == 1 and "there is no SQLite database" in missing.stderr
    assert "run `threadguard db upgrade --database-url" in missing.stderr
    assert not (tmp_path / "new").exists()
    assert runner.invoke(db_app, ["upgrade", "--database-url", url]).exit_code == 0
    assert (tmp_path / "new" / "folder" / "threadguard.db").is_file()

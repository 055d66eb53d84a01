"""`threadguard db …` (migrations) and `threadguard keys …` (API keys).

Secrets and listings go to stdout, everything said to the person at the terminal goes to
stderr, so `SECRET=$(threadguard keys create --role scorer)` captures the secret alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from app.auth import ApiKey, Role
from app.commands import reports_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# SQLAlchemy and Alembic (app.queue.store, app.queue.keys) and pydantic-settings
# (app.config) are imported inside the commands: the CLI imports this module to build
# `threadguard --help`, which must not pay for them.

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        # The default is named as a file, not as its URL (sqlite:///…): a 28-character word
        # does not fit the help column at 80 columns and would be cut short.
        help="SQLAlchemy URL of the database (default: THREADGUARD_DATABASE_URL, .env, "
        "or the SQLite file var/threadguard.db).",
        show_default=False,
    ),
]


def _database_url(option: str | None) -> str:
    from app.config import load_settings

    return option if option is not None else load_settings().database_url


@contextmanager
def migrated_engine(url: str | None) -> Iterator[Engine]:
    """An engine on a database at the head revision, disposed of afterwards.

    Raises:
        DatabaseNotMigrated: the database is not at the head revision.
        DatabaseError: it cannot be reached.
    """
    from app.queue import store

    engine = store.make_engine(_database_url(url))
    try:
        store.require_migrated(engine)
        yield engine
    finally:
        engine.dispose()


db_app = typer.Typer(
    help="The database the keys and the review queue live in.",
    no_args_is_help=True,
    add_completion=False,
)


@db_app.command("upgrade")
@reports_errors
def upgrade_command(
    revision: Annotated[str, typer.Option("--revision", help="The migration to stop at.")] = "head",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create or migrate the database's tables (safe to run again, and from two places)."""
    from app.queue import store

    url = _database_url(database_url)
    store.upgrade(url, revision)
    engine = store.make_engine(url)
    try:
        current = store.current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {store.mask_url(engine.url)} is at revision {current}", err=True)


@db_app.command("current")
@reports_errors
def current_command(database_url: DatabaseUrlOption = None) -> None:
    """Print the database's revision and the one this threadguard needs; exit 1 if they differ."""
    from app.queue import store

    engine = store.make_engine(_database_url(database_url))
    try:
        missing: store.NoSuchDatabase | None = None
        try:
            current = store.current_revision(engine)
        except store.NoSuchDatabase as error:
            current, missing = None, error
        head = store.head_revision()
        typer.echo(f"current: {current or 'none'}")
        typer.echo(f"head: {head}")
        if current != head:
            try:
                if missing is not None:
                    raise missing
                store.require_migrated(engine)
            except store.DatabaseNotMigrated as error:
                typer.echo(error.message, err=True)
            raise typer.Exit(1)
    finally:
        engine.dispose()


keys_app = typer.Typer(
    help="API keys: `Authorization: Bearer <secret>` on every request.",
    no_args_is_help=True,
    add_completion=False,
)


@keys_app.command("create")
@reports_errors
def create_command(
    role: Annotated[Role, typer.Option("--role", help="What the key may do.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Who or what the key is for (default: the role)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a key and print its secret, once, alone on stdout."""
    from app.queue.keys import SqlKeyStore

    with migrated_engine(database_url) as engine:
        new = SqlKeyStore(engine).create(role, name if name is not None else f"{role.value} key")
    typer.echo(new.secret)
    typer.echo(
        f"created {new.key.role.value} key {new.key.key_id} ({new.key.name}); the secret "
        "above is shown once: only its hash is kept",
        err=True,
    )


def _describe(key: ApiKey) -> str:
    created = key.created_at.isoformat(timespec="seconds")
    state = "active" if key.revoked_at is None else key.revoked_at.isoformat(timespec="seconds")
    return f"{key.key_id}  {key.role.value:<9}  {created}  {state:<25}  {key.name}"


@keys_app.command("list")
@reports_errors
def list_command(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List keys (never their secrets): id, role, created, revoked or active, name."""
    from app.queue.keys import SqlKeyStore

    with migrated_engine(database_url) as engine:
        keys = SqlKeyStore(engine).list_keys(include_revoked=all_keys)
    if not keys:
        typer.echo("no API keys yet: `threadguard keys create --role scorer`", err=True)
        return
    typer.echo(f"{'key_id':<12}  {'role':<9}  {'created_at':<25}  {'revoked_at':<25}  name")
    for key in keys:
        typer.echo(_describe(key))


@keys_app.command("revoke")
@reports_errors
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key's id, from `threadguard keys list`.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a key: requests with its secret are refused from now on."""
    from app.queue.keys import SqlKeyStore

    with migrated_engine(database_url) as engine:
        key = SqlKeyStore(engine).revoke(key_id)
    typer.echo(f"revoked {key.role.value} key {key.key_id} ({key.name})", err=True)

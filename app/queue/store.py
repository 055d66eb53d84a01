"""The database: tables, engines and migrations, on SQLite (default) or PostgreSQL.

Tables are SQLAlchemy Core on one `metadata` whose naming convention gives every
constraint and index a stable name, so Alembic migrations can alter them on both databases.
Schema changes go only through the numbered migrations in `migrations/versions/`; the
service refuses a database that is not at `head_revision()` (`require_migrated`).
"""

from __future__ import annotations

import shlex
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Dialect, Engine, make_url

from app.auth import Role
from app.config import DEFAULT_DATABASE_URL
from app.errors import AppError

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"

# Several uvicorn workers (and the CLI) may share one SQLite file; a writer waits this long
# for another's lock before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS: Final = 15_000
# How long a PostgreSQL connection attempt may take, so /readyz answers instead of hanging.
POSTGRES_CONNECT_TIMEOUT_S: Final = 5
# Any fixed 64-bit number, the same in every process: two `db upgrade` at once take turns.
MIGRATION_LOCK_ID: Final = 0x7467_6D69_6772_6174
# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock at
# BEGIN, so a read-then-write transaction cannot fail half-way on a concurrent writer.
SQLITE_BEGIN: Final = "threadguard_sqlite_begin"
SQLITE_LOCKED_ATTEMPTS: Final = 5


class DatabaseError(AppError):
    """The database cannot be reached or used."""

    status_code = 503
    exit_code = 3
    code = "database_unavailable"
    public = "the database is not available; the server log says why"


class DatabaseNotMigrated(DatabaseError):
    """The database schema is not the one this version of threadguard needs."""

    code = "database_not_migrated"
    public = (
        "the database is not migrated for this version of threadguard; the server log says "
        "what to run"
    )


class NoSuchDatabase(DatabaseNotMigrated):
    """The SQLite file is not there: only `threadguard db upgrade` creates one."""

    public = "the database does not exist; the server log says what to run"


class UnknownRevision(AppError):
    """A migration target that does not exist or cannot be reached from here."""

    code = "unknown_revision"


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases.

    SQLite has no time zones: values are stored as naive UTC and given back aware, so
    callers always see the same thing PostgreSQL's `timestamptz` gives.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC (what every `*_at` column stores)."""
    return datetime.now(UTC)


NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: Final = sa.MetaData(naming_convention=NAMING_CONVENTION)
# The width of the model_version columns (a caller's score record may name its own).
MODEL_VERSION_CHARS: Final = 64

api_keys: Final = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(12), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    # sha256 of the whole secret, hex; the secret itself is never stored.
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(f"role IN ({', '.join(repr(r.value) for r in Role)})", name="role"),
    # `verify` and `list_keys` filter on `revoked_at IS NULL`.
    sa.Index(None, "revoked_at"),
)


# The JSON type: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")

QUEUE_NAMES: Final = ("hate", "conspiracy", "toxic", "reported", "uncertain")
ITEM_STATUSES: Final = ("open", "approved", "rejected", "escalated", "superseded")
DECISION_ACTIONS: Final = ("approve", "reject", "escalate", "label", "reopen")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# One page (or one named source of comments): ingest finds it again by `source`.
threads: Final = sa.Table(
    "threads",
    metadata,
    sa.Column("thread_id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(500), nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("article_text", sa.Text, nullable=True),
    sa.Column("source_format", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per version of a comment's text, never changed except `superseded_at`: an edit
# adds a row (version + 1, `previous_id` pointing back), so every queue item keeps the exact
# text and scores the moderator decided on.
comments: Final = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("thread_id", sa.Integer, sa.ForeignKey("threads.thread_id"), nullable=False),
    sa.Column("comment_id", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("parent_comment_id", sa.String(200), nullable=True),
    sa.Column("author", sa.String(200), nullable=True),
    sa.Column("posted_at", UtcDateTime(), nullable=True),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False),
    # The score record the model (or the caller, for pre-scored rows) gave this text.
    sa.Column("scores", Json, nullable=False),
    sa.Column("model_version", sa.String(MODEL_VERSION_CHARS), nullable=False),
    sa.Column("previous_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("superseded_at", UtcDateTime(), nullable=True),
    # The comment's own address (permalink, or the page's with its anchor), when known.
    sa.Column("url", sa.Text, nullable=True),
    sa.UniqueConstraint("thread_id", "comment_id", "version"),
    sa.CheckConstraint("version >= 1", name="version"),
    # The thread context reads a thread's current comments in one indexed range.
    sa.Index(None, "thread_id", "superseded_at", "position"),
    # An author's history on the site, across threads.
    sa.Index(None, "author"),
)

# A case: one comment version under review, whatever sent it there. Its reasons (hate,
# toxic, reported, …) are rows of `item_reasons`, and it appears in every queue it has a
# reason for; one decision resolves it in all of them. `queue`, `head`, `priority` and
# `probability` are those of its most urgent reason. `status` and `version` are the only
# mutable columns: every decision bumps `version`, so a moderator deciding on what they saw
# fails (409) when someone else decided first. Items from before migration 0004 could be
# one per queue; the migration folded each comment version's items into one case and left
# the others `superseded`, with their decisions, pointed to by `item_reasons.from_item_id`.
items: Final = sa.Table(
    "items",
    metadata,
    sa.Column("item_id", sa.Integer, primary_key=True),
    sa.Column("comment_row_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=False),
    sa.Column("thread_id", sa.Integer, sa.ForeignKey("threads.thread_id"), nullable=False),
    sa.Column("queue", sa.String(16), nullable=False),
    sa.Column("head", sa.String(16), nullable=True),
    sa.Column("priority", sa.Float, nullable=False),
    # The probability that put the item here (its head's; the highest one for reports).
    sa.Column("probability", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    # The comment's flags when it was queued, as ",hate,toxic," so one LIKE filters by label.
    sa.Column("flags", sa.String(64), nullable=False),
    sa.Column("hate_target", sa.String(16), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("model_version", sa.String(MODEL_VERSION_CHARS), nullable=False),
    # The item of the previous version of the same comment in the same queue (an edit).
    sa.Column("replaces_item_id", sa.Integer, sa.ForeignKey("items.item_id"), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("comment_row_id", "queue"),
    sa.CheckConstraint(_one_of("queue", QUEUE_NAMES), name="queue"),
    sa.CheckConstraint(_one_of("status", ITEM_STATUSES), name="status"),
    sa.CheckConstraint("version >= 1", name="version"),
    # The moderator's list: one queue's open items, most urgent first, ties by id.
    sa.Index(None, "queue", "status", "priority", "item_id"),
    sa.Index(None, "status", "priority", "item_id"),
    sa.Index(None, "thread_id"),
    sa.Index(None, "created_at"),
    # At most one live case per comment version; superseded ones are history.
    sa.Index(
        "uq_items_live_comment_row_id",
        "comment_row_id",
        unique=True,
        sqlite_where=sa.text("status <> 'superseded'"),
        postgresql_where=sa.text("status <> 'superseded'"),
    ),
)

# Why a case is under review: one row per queue it appears in. `status` repeats the case's
# (kept equal in the transaction that changes it), so each queue's list is one index range.
item_reasons: Final = sa.Table(
    "item_reasons",
    metadata,
    # A case's reasons go with it (an undecided one may be deleted; a decided one may not).
    sa.Column(
        "item_id",
        sa.Integer,
        sa.ForeignKey("items.item_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("queue", sa.String(16), primary_key=True),
    sa.Column("head", sa.String(16), nullable=True),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("probability", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # The pre-0004 item this reason was folded in from (None for reasons given since).
    sa.Column("from_item_id", sa.Integer, sa.ForeignKey("items.item_id"), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(_one_of("queue", QUEUE_NAMES), name="queue"),
    sa.CheckConstraint(_one_of("status", ITEM_STATUSES), name="status"),
    sa.Index(None, "queue", "status", "priority", "item_id"),
    sa.Index(None, "from_item_id"),
)

# The audit log: appended, never updated or deleted. (item_id, item_version) is unique, so
# even a bug in the version check could not let two decisions on one version both stand.
# Triggers (migration 0003) make the database refuse UPDATE, DELETE, TRUNCATE and REPLACE
# of its rows, and deleting an item that has decisions; a migration that rebuilds this table
# or `items` on SQLite (batch mode) loses them and must create them again.
decisions: Final = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.item_id"), nullable=False),
    sa.Column("item_version", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("status_after", sa.String(16), nullable=False),
    sa.Column("labels", Json, nullable=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("key_id", sa.String(12), sa.ForeignKey("api_keys.key_id"), nullable=True),
    sa.Column("moderator", sa.String(100), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    # The queue the decision was made from: which head approve/reject judged (None before
    # migration 0004, when an item's own queue said it).
    sa.Column("queue", sa.String(16), nullable=True),
    sa.UniqueConstraint("item_id", "item_version"),
    sa.CheckConstraint(_one_of("action", DECISION_ACTIONS), name="action"),
    sa.CheckConstraint(_one_of("status_after", ITEM_STATUSES), name="status_after"),
    sa.Index(None, "decided_at"),
    sa.Index(None, "moderator"),
)

# Readers' reports, appended; the first one on a comment version opens a `reported` item.
reports: Final = sa.Table(
    "reports",
    metadata,
    sa.Column("report_id", sa.Integer, primary_key=True),
    sa.Column("comment_row_id", sa.Integer, sa.ForeignKey("comments.id"), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("reporter", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "comment_row_id"),
)

# Review-page sign-ins: the cookie holds a random token, the table its sha256, so a stolen
# database cannot be replayed as cookies; revoking the key ends its sessions.
review_sessions: Final = sa.Table(
    "review_sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(12), sa.ForeignKey("api_keys.key_id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index(None, "expires_at"),
)


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError) as error:
        # An unparseable URL cannot be masked: show only what follows a possible password.
        shown = url if "@" not in url else "…@" + url.rsplit("@", 1)[1]
        raise DatabaseError(
            f"invalid database URL {shown!r}: use sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/database"
        ) from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername=f"postgresql+{driver or 'psycopg'}")
    if backend != "sqlite":
        raise DatabaseError(
            f"unsupported database {backend!r} in {mask_url(parsed)}: threadguard runs on "
            "sqlite:///path or postgresql://user@host/database"
        )
    return parsed


def _sqlite_file(parsed: URL) -> Path | None:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, safe for messages and logs."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (exc.ArgumentError, ValueError):
            return "<unparseable database URL>"
    return url.render_as_string(hide_password=True)


def normalise_url(url: str) -> str:
    """The URL threadguard connects to: psycopg 3 for PostgreSQL.

    `sqlite:///relative/path` stays relative to the working directory.

    Raises:
        DatabaseError: the URL cannot be parsed or names another database.
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return parsed.render_as_string(hide_password=False)
    # As given: rendering would percent-encode the path (":memory:", spaces).
    return url


def make_engine(url: str) -> Engine:
    """One engine per process, safe to share between the service's threads.

    An SQLite file must exist already: only `upgrade` creates one, so a mistyped path in
    `serve` or `keys` is refused without leaving a folder or an empty database behind.

    Raises:
        DatabaseError: the URL is invalid or its driver is not installed.
    """
    return _create_engine(url, foreign_keys=True, create=False)


def _create_engine(url: str, *, foreign_keys: bool, create: bool) -> Engine:
    parsed = make_url(normalise_url(url))
    try:
        if parsed.get_backend_name() == "sqlite":
            sqlite_file = _sqlite_file(parsed)
            # Connections move between the threadpool's threads, one at a time (the pool
            # hands each to one thread), which is what SQLite needs.
            options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
            if sqlite_file is not None:
                if create:
                    _create_folder(sqlite_file, parsed)
                else:
                    options["creator"] = _existing_sqlite(sqlite_file, parsed)
            engine = sa.create_engine(parsed, **options)
            _configure_sqlite(engine, foreign_keys=foreign_keys)
            return engine
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise DatabaseError(f"cannot use the database URL {mask_url(parsed)}: {error}") from error


def _create_folder(sqlite_file: Path, parsed: URL) -> None:
    try:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(
            f"cannot create the folder {str(sqlite_file.parent)!r} for the SQLite "
            f"database {mask_url(parsed)}: {error.strerror or error}"
        ) from error


def _existing_sqlite(sqlite_file: Path, parsed: URL) -> Callable[[], sqlite3.Connection]:
    # mode=rw: SQLite opens the file or fails, and never creates it (nor does a file that
    # vanishes between the check and the open come back empty).
    uri = f"file:{quote(str(sqlite_file))}?mode=rw"

    def connect() -> sqlite3.Connection:
        if not sqlite_file.is_file():
            raise NoSuchDatabase(
                f"there is no SQLite database at {str(sqlite_file)!r}: check the path, or "
                f"run `{_upgrade_command(parsed)}` to create it"
            )
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    return connect


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling begins only before INSERT/UPDATE/DELETE, so a
        # SELECT followed by an UPDATE would not be one transaction, and DDL would not be
        # transactional at all. Turn it off and let the "begin" hook below issue BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL needs a lock another process may hold.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL survives process crashes; only an OS crash may lose the last commit.
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"{SQLITE_BEGIN} must be DEFERRED, IMMEDIATE or EXCLUSIVE")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def database_errors(engine: Engine | URL) -> Iterator[None]:
    """Turn "cannot connect / cannot run" driver errors into a `DatabaseError` (503, exit 3).

    Integrity and data errors pass through: the caller knows what they mean.

    Raises:
        DatabaseError: the database is unreachable, locked, or lacks a table.
    """
    try:
        yield
    except (
        exc.OperationalError,
        exc.InterfaceError,
        exc.ProgrammingError,
        exc.InternalError,
    ) as error:
        url = engine.url if isinstance(engine, Engine) else engine
        # `orig` is the driver's message without the SQL and its parameters.
        detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise DatabaseError(f"database {mask_url(url)} failed: {detail}") from error
    except exc.TimeoutError as error:
        url = engine.url if isinstance(engine, Engine) else engine
        raise DatabaseError(
            f"database {mask_url(url)}: no free connection in the pool ({error})"
        ) from error


@contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A transaction for read-then-write work: on SQLite it holds the write lock from BEGIN.

    Raises:
        DatabaseError: the database is unreachable or stayed locked past the busy timeout.
    """
    with database_errors(engine), engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection


def ping(engine: Engine) -> None:
    """Check that the database answers (one round trip).

    Raises:
        DatabaseError: it does not.
    """
    with database_errors(engine), engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built here so no alembic.ini is needed at run time.

    `migrations/env.py` runs the migrations on `connection` (inside its transaction).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this version of threadguard's code needs."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise DatabaseError(f"no migrations found under {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated.

    Raises:
        DatabaseError: the database cannot be reached.
    """
    with database_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _upgrade_command(url: URL) -> str:
    if url == _parse_url(DEFAULT_DATABASE_URL):
        return "threadguard db upgrade"
    return f"threadguard db upgrade --database-url {shlex.quote(mask_url(url))}"


def require_migrated(engine: Engine) -> None:
    """Refuse a database whose schema is not exactly the one this code needs.

    Raises:
        DatabaseNotMigrated: the database is empty, behind, or at a revision this
            version of threadguard does not know (a newer one migrated it).
        DatabaseError: the database cannot be reached.
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = f"the database {mask_url(engine.url)}"
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and _unknown_revision(script, current):
        raise DatabaseNotMigrated(
            f"{where} is at revision {current}, which this version of threadguard does not "
            f"know (it needs {head}); a newer threadguard migrated it: run that version"
        )
    state = "empty (never migrated)" if current is None else f"at revision {current}"
    raise DatabaseNotMigrated(
        f"{where} is {state}, this version of threadguard needs revision {head}: "
        f"run `{_upgrade_command(engine.url)}`"
    )


def _unknown_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is None
    except CommandError:
        return True


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`; safe to run from several processes.

    Raises:
        UnknownRevision: `revision` does not exist or is behind the database.
        DatabaseError: the database cannot be reached or a migration failed.
    """
    # A revision that does not exist is refused before a new SQLite file is created.
    if revision != "head":
        script = ScriptDirectory.from_config(alembic_config())
        if _unknown_revision(script, revision):
            raise UnknownRevision(
                f"cannot migrate {mask_url(url)} to {revision!r}: no such revision (the "
                f"newest is {head_revision()})",
                field="revision",
            )
    _migrate(url, lambda config: command.upgrade(config, revision), revision, create=True)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" for an empty schema).

    Raises:
        UnknownRevision: `revision` does not exist or is ahead of the database.
        DatabaseError: the database cannot be reached or a migration failed.
    """
    _migrate(url, lambda config: command.downgrade(config, revision), revision, create=False)


def _migrate(url: str, run: Callable[[Config], None], revision: str, *, create: bool) -> None:
    # Foreign keys off on SQLite: batch migrations copy and drop tables, and a DROP TABLE
    # with enforcement on deletes (or cascades into) the rows that point at it. The
    # constraints are checked once at the end instead, before the commit.
    engine = _create_engine(url, foreign_keys=False, create=create)
    try:
        for attempt in range(1, SQLITE_LOCKED_ATTEMPTS + 1):
            try:
                _migrate_once(engine, run, revision)
                return
            except DatabaseError as error:
                # Several processes opening a brand-new SQLite file at once may be told
                # "locked" without the busy timeout applying (while one of them switches
                # it to WAL); the migration itself is all-or-nothing, so it is tried again.
                locked = "database is locked" in str(error)
                if not locked or engine.dialect.name != "sqlite":
                    raise
                if attempt == SQLITE_LOCKED_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
    finally:
        engine.dispose()


def _migrate_once(engine: Engine, run: Callable[[Config], None], revision: str) -> None:
    with database_errors(engine), engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with connection.begin():
            _lock_migrations(connection)
            try:
                run(alembic_config(connection))
            except CommandError as error:
                raise UnknownRevision(
                    f"cannot migrate {mask_url(engine.url)} to {revision!r}: {error}",
                    field="revision",
                ) from error
            _check_foreign_keys(connection)


def _lock_migrations(connection: sa.Connection) -> None:
    # SQLite serialises through BEGIN IMMEDIATE; PostgreSQL through an advisory lock held to
    # the end of the transaction, so the second `db upgrade` sees the first one's result.
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))


def _check_foreign_keys(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise DatabaseError(
            f"migration left {len(broken)} rows with dangling foreign keys in "
            f"{', '.join(tables)}; nothing was changed"
        )

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine, make_url

from app.queue import store
from app.queue.store import (
    DatabaseError,
    DatabaseNotMigrated,
    UnknownRevision,
    api_keys,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    metadata,
    normalise_url,
    ping,
    require_migrated,
    upgrade,
    utcnow,
)
from tests.queue.test_audit_log import GUARDS, guards


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/tg", "postgresql+psycopg://u:pw@db:5432/tg"),
        ("postgres://u@db/tg", "postgresql+psycopg://u@db/tg"),
        ("postgresql+psycopg://u@db/tg", "postgresql+psycopg://u@db/tg"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_normalise_url_picks_psycopg_3(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_relative_sqlite_path_stays_relative_and_upgrade_makes_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalise_url("sqlite:///var/deep/threadguard.db") == "sqlite:///var/deep/threadguard.db"
    assert not (tmp_path / "var").exists()
    upgrade("sqlite:///var/deep/threadguard.db")
    assert (tmp_path / "var" / "deep" / "threadguard.db").is_file()


def test_only_upgrade_makes_an_absolute_sqlite_path_and_its_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/q.db"
    engine = make_engine(url)
    try:
        with pytest.raises(DatabaseError, match="there is no SQLite database at"):
            ping(engine)
    finally:
        engine.dispose()
    assert list(tmp_path.iterdir()) == []
    upgrade(url)
    assert (tmp_path / "a" / "b" / "q.db").is_file()


def test_sqlite_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    with pytest.raises(DatabaseError, match=r"cannot create the folder .*file/sub"):
        upgrade(f"sqlite:///{tmp_path}/file/sub/q.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@db/tg", r"unsupported database 'mysql' in mysql://root:\*\*\*@db"),
        ("not a url", r"invalid database URL 'not a url'"),
        ("postgresql://u:hunter2@db:notaport/tg", r"invalid database URL '…@db:notaport/tg'"),
        ("postgresql+nosuchdriver://u@db/tg", r"cannot use the database URL"),
    ],
)
def test_bad_urls_are_refused_without_showing_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message) as caught:
        make_engine(url)
    assert "hunter2" not in caught.value.message


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path}/q.db")
    engine = make_engine(f"sqlite:///{tmp_path}/q.db")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == store.SQLITE_BUSY_TIMEOUT_MS
        # Shared with the service's thread pool: a connection made in one thread is used
        # in another.
        errors: list[BaseException] = []

        def use() -> None:
            try:
                ping(engine)
            except BaseException as error:  # noqa: BLE001 - reported by the assert below
                errors.append(error)

        worker = threading.Thread(target=use)
        worker.start()
        worker.join()
        assert errors == []
    finally:
        engine.dispose()


def test_sqlite_transactions_are_real_transactions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    upgrade(url)
    engine = make_engine(url)
    try:
        row = {
            "key_id": "0" * 12,
            "name": "n",
            "role": "admin",
            "secret_sha256": "0" * 64,
            "created_at": utcnow(),
        }
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(api_keys.insert().values(row))
            connection.execute(api_keys.insert().values(row))  # same primary key
        with engine.connect() as connection:
            assert (
                connection.execute(sa.select(sa.func.count()).select_from(api_keys)).scalar() == 0
            )
    finally:
        engine.dispose()


def test_ping_on_an_unreachable_server_masks_the_password() -> None:
    engine = make_engine("postgresql://tg:hunter2@127.0.0.1:1/tg?connect_timeout=2")
    try:
        with pytest.raises(DatabaseError, match=r"database postgresql\+psycopg://tg:\*\*\*@") as e:
            ping(engine)
        assert "hunter2" not in e.value.message
        assert e.value.status_code == 503 and e.value.exit_code == 3
        assert e.value.code == "database_unavailable"
    finally:
        engine.dispose()


def test_ping_answers_on_a_migrated_database(engine: Engine) -> None:
    ping(engine)


def test_upgrade_downgrade_round_trip(database_url: str, database_kind: str) -> None:
    assert _tables(database_url) == set()
    upgrade(database_url)
    assert {"api_keys", "alembic_version"} <= _tables(database_url)
    engine = make_engine(database_url)
    try:
        assert guards(engine) == GUARDS[database_kind]
        downgrade(database_url, "base")
        assert _tables(database_url) <= {"alembic_version"}
        # Dropping the tables drops their triggers; PostgreSQL's functions must go explicitly.
        assert guards(engine) == (set(), set())
        upgrade(database_url)
        assert current_revision(engine) == head_revision()
        assert guards(engine) == GUARDS[database_kind]
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(migrated_url: str) -> None:
    upgrade(migrated_url)
    engine = make_engine(migrated_url)
    try:
        require_migrated(engine)
    finally:
        engine.dispose()


def test_the_tables_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _names(table: sa.Table, kind: type[sa.Constraint] | type[sa.Index]) -> set[str]:
    items = table.indexes if kind is sa.Index else table.constraints
    return {str(item.name) for item in items if isinstance(item, kind)}


def test_the_database_has_the_constraint_names_of_the_metadata(engine: Engine) -> None:
    # Migrations alter constraints by name: a name that differs between the code, SQLite and
    # PostgreSQL would make the next migration fail on one of them.
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        assert inspector.get_pk_constraint(table.name)["name"] in (f"pk_{table.name}", None)
        found = {
            # PostgreSQL lists the index behind a unique constraint as an index too.
            sa.Index: {
                str(i["name"])
                for i in inspector.get_indexes(table.name)
                if not i.get("duplicates_constraint")
            },
            sa.CheckConstraint: {
                str(c["name"]) for c in inspector.get_check_constraints(table.name)
            },
            sa.UniqueConstraint: {
                str(c["name"]) for c in inspector.get_unique_constraints(table.name)
            },
            sa.ForeignKeyConstraint: {
                str(c["name"]) for c in inspector.get_foreign_keys(table.name)
            },
        }
        for kind, names in found.items():
            assert names == _names(table, kind), (table.name, kind.__name__)
    assert _names(api_keys, sa.CheckConstraint) == {"ck_api_keys_role"}
    assert _names(api_keys, sa.Index) == {"ix_api_keys_revoked_at"}


def test_timestamps_come_back_aware_in_utc(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    created = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as connection:
        connection.execute(
            api_keys.insert().values(
                key_id="a" * 12, name="n", role="scorer", secret_sha256="0" * 64, created_at=created
            )
        )
    with engine.connect() as connection:
        stored = connection.execute(sa.select(api_keys.c.created_at)).scalar_one()
    assert stored == created and stored.tzinfo == UTC
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as c:
        c.execute(api_keys.update().values(created_at=datetime(2026, 3, 1)))


def test_the_role_check_constraint_holds(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            api_keys.insert().values(
                key_id="b" * 12, name="n", role="root", secret_sha256="0" * 64, created_at=utcnow()
            )
        )


def test_require_migrated_explains_what_to_run(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        shown = make_url(normalise_url(database_url)).render_as_string(hide_password=True)
        with pytest.raises(DatabaseNotMigrated, match="is empty") as caught:
            require_migrated(engine)
        message = caught.value.message
        assert shown in message
        assert f"needs revision {head_revision()}" in message
        assert "run `threadguard db upgrade --database-url " in message
        assert caught.value.code == "database_not_migrated"
        assert caught.value.status_code == 503
        upgrade(database_url)
        require_migrated(engine)
    finally:
        engine.dispose()


def test_require_migrated_names_the_current_revision_when_behind(database_url: str) -> None:
    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    try:
        with pytest.raises(
            DatabaseNotMigrated, match=f"is at revision 0001, .* needs revision {head_revision()}"
        ):
            require_migrated(engine)
    finally:
        engine.dispose()


def test_require_migrated_refuses_a_database_from_a_newer_version(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseNotMigrated, match="revision 9999, which this version .* not know"):
        require_migrated(engine)


def test_the_default_database_needs_no_url_in_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///var/threadguard.db")
    try:
        with pytest.raises(DatabaseNotMigrated, match=r"run `threadguard db upgrade` to create"):
            require_migrated(engine)
        (tmp_path / "var").mkdir()
        (tmp_path / "var" / "threadguard.db").touch()
        with pytest.raises(DatabaseNotMigrated, match=r"run `threadguard db upgrade`$"):
            require_migrated(engine)
    finally:
        engine.dispose()


def test_the_password_is_masked_in_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "current_revision", lambda engine: None)
    engine = make_engine("postgresql://tg:hunter2@db.invalid/tg")  # never connects
    with pytest.raises(DatabaseNotMigrated) as caught:
        require_migrated(engine)
    assert "hunter2" not in caught.value.message
    assert "--database-url 'postgresql+psycopg://tg:***@db.invalid/tg'" in caught.value.message


def test_upgrade_to_an_unknown_revision_is_refused(database_url: str) -> None:
    with pytest.raises(UnknownRevision, match="to 'nope'"):
        upgrade(database_url, "nope")


def test_concurrent_upgrades_take_turns(database_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait()
            upgrade(database_url)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    engine = make_engine(database_url)
    try:
        require_migrated(engine)
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert [row[0] for row in versions] == [head_revision()]
    finally:
        engine.dispose()


def test_write_transactions_read_then_write_without_conflicts(engine: Engine) -> None:
    # Each worker reads the row count and writes a row numbered after it: interleaved
    # read-then-write transactions would collide on the primary key or, on SQLite, fail
    # with "database is locked" instead of waiting.
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                with store.write_transaction(engine) as connection:
                    count = connection.execute(
                        sa.select(sa.func.count()).select_from(api_keys)
                    ).scalar_one()
                    connection.execute(
                        api_keys.insert().values(
                            key_id=f"{count:012x}",
                            name="n",
                            role="scorer",
                            secret_sha256="0" * 64,
                            created_at=utcnow(),
                        )
                    )
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if engine.dialect.name == "sqlite":
        assert errors == []
        with engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(api_keys))
            assert count.scalar_one() == 20
    else:
        # PostgreSQL's READ COMMITTED lets two readers see the same count; the primary key
        # refuses the second insert, which is what optimistic writers rely on.
        assert all(isinstance(error, sa.exc.IntegrityError) for error in errors)


def test_an_unmigrated_database_is_a_database_error_not_a_crash(database_url: str) -> None:
    from app.queue.keys import SqlKeyStore

    engine = make_engine(database_url)
    try:
        with pytest.raises(DatabaseError, match="api_keys") as caught:
            SqlKeyStore(engine).any_key_made()
        assert caught.value.status_code == 503
    finally:
        engine.dispose()

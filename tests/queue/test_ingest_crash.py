"""kill -9 during a large ingest, then rerun: every comment queued once, no decision lost.

`threadguard queue ingest` runs as a real process on a page of 3,000 comments and is killed
(SIGKILL) as soon as its first chunk is committed. A moderator then decides an item of that
chunk; a second run is killed the same way, and a third one completes. The database must
then hold what one uninterrupted ingest of the page into a fresh database holds, plus the
untouched decision.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import Role
from app.cli import app
from app.queue.ingest import CHUNK_COMMENTS
from app.queue.keys import SqlKeyStore
from app.queue.review import decide
from app.queue.store import comments, decisions, items, make_engine, upgrade
from tests.conftest import ROOT
from tests.dbfixtures import PostgresServer

pytestmark = pytest.mark.slow

COMMENTS = 3_000
# A guard against a hung child, not a measurement: the run takes well under a minute.
DEADLINE_S = 600
_WORDS = (
    "the council bridge vote budget tax road school park river money plan city people mayor "
    "week report idea good bad fine thanks agree wrong"
).split()
# Words the tiny model has learnt to flag, so a good share of comments opens items.
_FLAGGED = ("vermin", "parasites", "idiot", "liar", "filth", "they control the banks")


def write_page(path: Path, n: int = COMMENTS, seed: int = 7) -> None:
    """A JSON export of `n` comments with parent ids: replies to recent comments, some nasty."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        top = i < 5 or rng.random() < 0.3
        parent = None if top else f"c{rng.randrange(max(0, i - 50), i)}"
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 25)))
        if rng.random() < 0.15:
            text += " " + rng.choice(_FLAGGED)
        rows.append({"id": f"c{i}", "parent_id": parent, "author": f"user{i % 97}", "body": text})
    page = {"title": "A long thread", "url": "https://news.example/long", "comments": rows}
    path.write_text(json.dumps(page), encoding="utf-8")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Evidence words are not stored in what is compared; leaving them out keeps scoring fast.
    env["THREADGUARD_EVIDENCE_TOP"] = "0"
    return env


def _ingest_args(page: Path, url: str, model_dir: Path) -> list[str]:
    return [
        "queue",
        "ingest",
        str(page),
        "--database-url",
        url,
        "--model-dir",
        str(model_dir),
        "--quiet",
    ]


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(comments)).scalar_one()
        )


def kill_mid_ingest(page: Path, url: str, model_dir: Path, engine: Engine) -> int:
    """Start an ingest, SIGKILL it once it has committed a chunk; the comments stored then."""
    before = _count(engine)
    child = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *_ingest_args(page, url, model_dir)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = time.monotonic()
        while _count(engine) == before:
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"ingest ended before a chunk was stored: {child.returncode}\n{err!r}")
            assert time.monotonic() - started < DEADLINE_S, "the ingest never stored a chunk"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGKILL, "the ingest finished before it was killed"
    stored = _count(engine)
    assert before < stored < COMMENTS, f"not killed mid-way: {before} -> {stored}"
    # Each chunk is one transaction: a kill leaves whole chunks, never part of one.
    assert stored % CHUNK_COMMENTS == 0
    return stored


def run_ingest(page: Path, url: str, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An ingest run to completion (in process); its summary."""
    for name, value in _env().items():
        if name.startswith("THREADGUARD_"):
            monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, _ingest_args(page, url, model_dir))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def queued(engine: Engine) -> list[tuple[str, str, float]]:
    """(comment id, queue, priority) of every item, sorted."""
    query = sa.select(comments.c.comment_id, items.c.queue, items.c.priority).join(
        comments, comments.c.id == items.c.comment_row_id
    )
    with engine.connect() as connection:
        return sorted(
            (r.comment_id, r.queue, round(r.priority, 9)) for r in connection.execute(query)
        )


@pytest.fixture
def fresh_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second migrated database of the same kind, for the uninterrupted ingest."""
    if database_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        upgrade(url)
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    try:
        upgrade(url)
        yield url
    finally:
        server.drop(url)


def test_kill_9_then_rerun_queues_each_comment_once_and_keeps_decisions(
    migrated_url: str,
    engine: Engine,
    fresh_url: str,
    tiny_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_dir = tiny_model_dir.parent
    page = tmp_path / "long.json"
    write_page(page)

    first = kill_mid_ingest(page, migrated_url, model_dir, engine)

    # A moderator decides an item of the first chunk while the page is half stored.
    with engine.connect() as connection:
        target = connection.execute(
            sa.select(items.c.item_id)
            .join(comments, comments.c.id == items.c.comment_row_id)
            .where(comments.c.position < CHUNK_COMMENTS)
            .order_by(items.c.item_id)
            .limit(1)
        ).scalar_one()
    moderator = SqlKeyStore(engine).create(Role.moderator, "ann").key
    decide(engine, target, action="reject", item_version=1, key=moderator, reason="slur")
    with engine.connect() as connection:
        decided = [dict(r._mapping) for r in connection.execute(sa.select(decisions))]
        decided_item = dict(
            connection.execute(sa.select(items).where(items.c.item_id == target)).one()._mapping
        )
    assert decided_item["status"] == "rejected" and decided_item["version"] == 2

    second = kill_mid_ingest(page, migrated_url, model_dir, engine)
    assert second > first
    last = run_ingest(page, migrated_url, model_dir, monkeypatch)
    assert last["comments"] == {"new": COMMENTS - second, "edited": 0, "unchanged": second}

    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(comments.c.comment_id, comments.c.version, comments.c.superseded_at)
        ).all()
        duplicates = connection.execute(
            sa.select(items.c.comment_row_id, items.c.queue)
            .group_by(items.c.comment_row_id, items.c.queue)
            .having(sa.func.count() > 1)
        ).all()
        after = [dict(r._mapping) for r in connection.execute(sa.select(decisions))]
        item_after = dict(
            connection.execute(sa.select(items).where(items.c.item_id == target)).one()._mapping
        )
    ids = [row.comment_id for row in stored]
    assert len(ids) == COMMENTS and set(ids) == {f"c{i}" for i in range(COMMENTS)}
    assert {(row.version, row.superseded_at) for row in stored} == {(1, None)}
    assert duplicates == []
    assert after == decided, "a decision changed or another one appeared"
    assert item_after == decided_item

    # The same items as one uninterrupted ingest of the page (the decided one included).
    fresh_engine = make_engine(fresh_url)
    try:
        whole = run_ingest(page, fresh_url, model_dir, monkeypatch)
        assert whole["comments"]["new"] == COMMENTS
        expected = queued(fresh_engine)
    finally:
        fresh_engine.dispose()
    got = queued(engine)
    assert len(got) == len(expected) > 0
    assert got == expected

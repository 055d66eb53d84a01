"""`threadguard queue ingest|list|stats|export` through the Typer app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.auth import Role
from app.cli import app
from app.queue.keys import SqlKeyStore
from app.queue.review import FEEDBACK_SCHEMA, Filters, decide, export_feedback, list_items
from app.queue.store import DatabaseError, comments, make_engine

runner = CliRunner()

POLICY = """\
[queues.hate]
threshold = 0.5
[queues.toxic]
threshold = 0.5
[queues.conspiracy]
threshold = 0.5
[queues.uncertain]
enabled = false
"""

PAGE = {
    "title": "The council votes on the bridge",
    "url": "https://news.example/bridge",
    "comments": [
        {"id": 1, "parent_id": None, "author": "Ann", "body": "The bridge is a fine idea."},
        {
            "id": 2,
            "parent_id": 1,
            "author": "Bo",
            "body": "jews are vermin and should be driven out",
        },
        {"id": 3, "parent_id": 2, "author": "Cy", "body": "I agree with you"},
        {"id": 4, "parent_id": None, "author": "Dee", "body": "Thank you for the report."},
    ],
}


def _row(comment_id: str, text: str, hate: float = 0.02, toxic: float = 0.02) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "text": text,
        "hate": hate,
        "toxic": toxic,
        "conspiracy": 0.02,
        "model_version": "partner-1",
    }


@pytest.fixture
def model_dir(tiny_model_dir: Path) -> Path:
    """The folder with CURRENT naming the tiny model."""
    return tiny_model_dir.parent


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def queue(*args: str | Path) -> Any:
    """Run `threadguard queue …` in process."""
    return runner.invoke(app, ["queue", *map(str, args)])


def ingest(url: str, model_dir: Path, *args: str | Path) -> Any:
    return queue("ingest", *args, "--database-url", url, "--model-dir", model_dir, "--quiet")


def _listed(url: str, *args: str) -> list[dict[str, Any]]:
    result = queue("list", "--database-url", url, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_page_ingested_twice_queues_nothing_new(
    migrated_url: str, model_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "page.json"
    page.write_text(json.dumps(PAGE), encoding="utf-8")
    first = ingest(migrated_url, model_dir, page)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["source"] == PAGE["url"]
    assert summary["comments"] == {"new": 4, "edited": 0, "unchanged": 0}
    assert "item_ids" not in summary
    assert "4 new, 0 edited, 0 unchanged comments" in first.stderr
    queued = _listed(migrated_url, "--status", "any", "--limit", "200")
    assert len(queued) == summary["items_created"]

    second = ingest(migrated_url, model_dir, page)
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["comments"] == {"new": 0, "edited": 0, "unchanged": 4}
    assert again["items_created"] == 0 and again["thread_id"] == summary["thread_id"]
    assert f"{PAGE['url']}: 0 new" in second.stderr and "0 items queued" in second.stderr
    assert _listed(migrated_url, "--status", "any", "--limit", "200") == queued


def test_a_csv_export_with_its_own_column_names_is_ingested(
    migrated_url: str, model_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "export.csv"
    page.write_text(
        "cid,reply_to,who,body\nk1,,Ann,The bridge is fine.\nk2,k1,Bo,I agree with Ann.\n",
        encoding="utf-8",
    )
    refused = ingest(migrated_url, model_dir, page)
    assert refused.exit_code == 2 and "--id-column" in refused.output
    given = ("--id-column", "cid", "--parent-column", "reply_to", "--author-column", "who")
    result = ingest(migrated_url, model_dir, page, *given, "--text-column", "body")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["comments"]["new"] == 2
    with make_engine(migrated_url).connect() as connection:
        rows = connection.execute(
            sa.select(comments.c.comment_id, comments.c.parent_comment_id, comments.c.author)
        ).all()
    assert sorted(tuple(r) for r in rows) == [("k1", None, "Ann"), ("k2", "k1", "Bo")]


def test_pingbacks_are_ingested_only_when_asked(
    migrated_url: str, model_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "page.json"
    linked = {"id": 9, "author": "Other Blog", "body": "[…] linked […]", "type": "pingback"}
    page.write_text(json.dumps({**PAGE, "comments": [*PAGE["comments"], linked]}), "utf-8")
    default = ingest(migrated_url, model_dir, page)
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["comments"]["new"] == 4
    kept = ingest(migrated_url, model_dir, page, "--include-pingbacks")
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.stdout)["comments"] == {"new": 1, "edited": 0, "unchanged": 4}


def test_scored_rows_are_ingested_as_given(
    migrated_url: str, model_dir: Path, policy_file: Path, tmp_path: Path
) -> None:
    rows = tmp_path / "scored.jsonl"
    lines = [
        _row("r1", "first scored row", hate=0.93),
        _row("r2", "second scored row", toxic=0.8) | {"parent_id": "r1"},
        _row("r3", "a clean one"),
    ]
    rows.write_text("".join(json.dumps(r) + "\n" for r in lines) + "\n", encoding="utf-8")
    result = ingest(
        migrated_url, model_dir, rows, "--source", "partner:story-7", "--policy", policy_file
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["comments"] == {"new": 3, "edited": 0, "unchanged": 0}
    assert summary["items_created"] == 2

    hate = _listed(migrated_url, "--queue", "hate")
    assert [i["comment"]["comment_id"] for i in hate] == ["r1"]
    assert hate[0]["model_version"] == "partner-1" and hate[0]["probability"] == 0.93
    assert hate[0]["thread"]["source"] == "partner:story-7"
    toxic = _listed(migrated_url, "--queue", "toxic")
    assert [i["comment"]["comment_id"] for i in toxic] == ["r2"]

    again = ingest(
        migrated_url, model_dir, rows, "--source", "partner:story-7", "--policy", policy_file
    )
    assert json.loads(again.stdout)["comments"] == {"new": 0, "edited": 0, "unchanged": 3}


def test_scored_rows_need_a_source(migrated_url: str, model_dir: Path, tmp_path: Path) -> None:
    rows = tmp_path / "scored.jsonl"
    rows.write_text(json.dumps(_row("r1", "text")) + "\n", encoding="utf-8")
    result = ingest(migrated_url, model_dir, rows)
    assert result.exit_code == 2
    assert result.stderr == "error: scored rows need --source: the thread they belong to\n"
    assert result.stdout == ""
    assert _listed(migrated_url, "--status", "any") == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 3: not JSON"),
        ('["a", "list"]', "line 3: expected a JSON object"),
        (
            '{"text": "no id", "hate": 0.1, "toxic": 0.1, "conspiracy": 0.1}',
            "line 3: no comment_id",
        ),
        ('{"id": "x", "text": 7}', "line 3: text must be a string"),
        ('{"id": "x", "text": "t", "posted_at": "tuesday"}', "line 3: posted_at 'tuesday'"),
    ],
)
def test_a_bad_scored_line_is_named_by_its_number(
    migrated_url: str, model_dir: Path, tmp_path: Path, bad: str, message: str
) -> None:
    rows = tmp_path / "scored.jsonl"
    good = json.dumps(_row("r1", "text", hate=0.9))
    # A blank line counts: the number is the line an editor shows.
    rows.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
    result = ingest(migrated_url, model_dir, rows, "--source", "s")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {rows} {message}")
    assert _listed(migrated_url, "--status", "any") == []


def test_a_scored_row_with_a_bad_probability_is_refused(
    migrated_url: str, model_dir: Path, tmp_path: Path
) -> None:
    rows = tmp_path / "scored.jsonl"
    rows.write_text(json.dumps(_row("r1", "text", hate=1.7)) + "\n", encoding="utf-8")
    result = ingest(migrated_url, model_dir, rows, "--source", "s")
    assert result.exit_code == 2, result.output
    assert "hate must be a probability from 0 to 1" in result.stderr
    assert _listed(migrated_url, "--status", "any") == []


def test_ingest_into_an_unmigrated_database_says_what_to_run(
    database_url: str, model_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "page.json"
    page.write_text(json.dumps(PAGE), encoding="utf-8")
    result = ingest(database_url, model_dir, page)
    assert result.exit_code == 3
    assert "run `threadguard db upgrade --database-url" in result.stderr


@pytest.fixture
def decided(
    migrated_url: str, engine: Engine, model_dir: Path, policy_file: Path, tmp_path: Path
) -> list[dict[str, Any]]:
    """Three scored comments ingested and decided by two moderators."""
    rows = tmp_path / "scored.jsonl"
    lines = [_row("r1", "one", hate=0.9), _row("r2", "two", hate=0.8), _row("r3", "three")]
    rows.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    result = ingest(migrated_url, model_dir, rows, "--source", "s", "--policy", policy_file)
    assert result.exit_code == 0, result.output
    keys = SqlKeyStore(engine)
    ann, bob = keys.create(Role.moderator, "ann").key, keys.create(Role.moderator, "bob").key
    items = list_items(engine, Filters(queue="hate")).items
    assert [i["comment"]["comment_id"] for i in items] == ["r1", "r2"]
    r1, r2 = (i["item_id"] for i in items)
    return [
        decide(engine, r1, action="reject", item_version=1, key=ann),
        decide(engine, r1, action="reject", item_version=2, key=bob),
        decide(engine, r2, action="approve", item_version=1, key=ann),
    ]


def test_stats(migrated_url: str, decided: list[dict[str, Any]]) -> None:
    result = queue("stats", "--database-url", migrated_url)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["decisions_by_moderator"] == {"ann": 2, "bob": 1}
    assert found["precision"]["hate"] == {"judged": 2, "confirmed": 1, "precision": 0.5}
    assert found["agreement"]["items"] == 1 and found["agreement"]["rate"] == 1.0
    assert found["by_status"]["rejected"] == 1 and found["by_status"]["approved"] == 1


def test_export_writes_the_file_whole(
    migrated_url: str, decided: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "feedback.jsonl"
    result = queue("export", "-o", target, "--database-url", migrated_url)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"exported 3 decisions to {target}\n"
    assert sorted(p.name for p in out.iterdir()) == ["feedback.jsonl"]
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["decision_id"] for r in rows] == [d["decision_id"] for d in decided]
    assert {r["schema"] for r in rows} == {FEEDBACK_SCHEMA}
    assert [(r["doc_id"], r["hate"]) for r in rows] == [("s#r1@1", 1), ("s#r1@1", 1), ("s#r2@1", 0)]

    later = queue("export", "--since", decided[2]["decided_at"], "--database-url", migrated_url)
    assert later.exit_code == 0, later.output
    assert [json.loads(line)["decision_id"] for line in later.stdout.splitlines()] == [
        decided[2]["decision_id"]
    ]
    assert later.stderr == "exported 1 decision\n"


def test_a_failed_export_leaves_the_old_file_and_no_part(
    migrated_url: str,
    decided: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.commands import queue as queue_command

    real = export_feedback

    def failing(engine: Engine, **kwargs: Any) -> Generator[dict[str, Any], None, None]:
        rows = real(engine, **kwargs)
        assert isinstance(rows, Generator)
        try:
            yield next(rows)
        finally:
            rows.close()
        raise DatabaseError("the connection dropped")

    monkeypatch.setattr(queue_command, "export_feedback", failing)
    target = tmp_path / "feedback.jsonl"
    target.write_text("the previous export\n", encoding="utf-8")
    result = queue("export", "-o", target, "--database-url", migrated_url)
    assert result.exit_code == 3
    assert result.stderr == "error: the connection dropped\n"
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".part") == []


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", ""])
def test_export_with_a_bad_since_names_the_option(migrated_url: str, since: str) -> None:
    result = queue("export", "--since", since, "--database-url", migrated_url)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --since {since!r} is not a date")
    assert result.stdout == ""


def test_export_into_a_missing_folder_is_an_error(migrated_url: str, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "feedback.jsonl"
    result = queue("export", "-o", target, "--database-url", migrated_url)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert not target.parent.exists()

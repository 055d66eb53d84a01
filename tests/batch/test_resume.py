"""`--resume`: an interrupted run continues without rescoring or duplicating rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import app.batch.checkpoint
import app.batch.rows
from app.batch.checkpoint import checkpoint_path
from app.labels import BINARY_HEADS
from tests.batch.conftest import Invoke, make_comments, read_output, score_argv, write_input
from tests.conftest import ROOT


class Crash(Exception):
    """Stands in for the process dying."""


def _crash_on_call(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, call: int) -> None:
    real = getattr(target, name)
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise Crash(f"{name} call {call}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


def _with_bad_rows(n: int) -> list[dict[str, Any]]:
    rows = make_comments(n)
    for i in (5, 17, 30):
        rows[i]["body"] = ""
    return rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("where", ["scoring", "checkpoint"])
def test_resume_after_a_crash_gives_the_uninterrupted_output(
    fmt: str, where: str, invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_input(_with_bad_rows(40), tmp_path / f"in.{fmt}")
    args = ["--text-column", "body", "--id-column", "comment_id", "--chunk-size", "6"]
    args += ["--on-error", "skip", "-q"]
    reference = tmp_path / f"ref.{fmt}"
    assert invoke(str(source), "-o", str(reference), *args).exit_code == 0

    target = tmp_path / f"out.{fmt}"
    with monkeypatch.context() as patch:
        if where == "scoring":  # dies while scoring the 4th chunk
            _crash_on_call(patch, app.batch.rows, "score_frame", 4)
        else:  # dies after writing the 4th chunk, before its checkpoint
            _crash_on_call(patch, app.batch.checkpoint, "save", 5)
        crashed = invoke(str(source), "-o", str(target), *args)
    assert isinstance(crashed.exception, Crash)
    state = json.loads(checkpoint_path(str(target)).read_text())
    assert state["rows_done"] == 18
    assert state["skipped"] == 2

    resumed = invoke(str(source), "-o", str(target), *args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    rows = read_output(target, fmt)
    if fmt == "parquet":
        assert rows == read_output(reference, fmt)
    else:
        assert target.read_bytes() == reference.read_bytes()
    # The 16 rows written before the crash and the 21 after it all carry their flags.
    assert len(rows) == 37 and all("flags" in row for row in rows)
    raised = [",".join(h for h in BINARY_HEADS if row[f"{h}_flag"]) for row in rows]
    assert [row["flags"] or "" for row in rows] == raised
    assert any(raised[:16]) and any(raised[16:])
    errors = Path(f"{target}.errors.jsonl").read_text()
    assert errors == Path(f"{reference}.errors.jsonl").read_text().replace("ref.", "out.")
    assert [json.loads(line)["row"] for line in errors.splitlines()] == [5, 17, 30]
    assert not checkpoint_path(str(target)).exists()


def test_resume_finds_the_same_id_column_in_a_jsonl_input(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first object, which names the id column, lies in the rows a resumed run skips.
    lines = [
        "{not json",
        *(json.dumps({"id": f"j{i}", "body": r["body"]}) for i, r in enumerate(make_comments(20))),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["--text-column", "body", "--chunk-size", "4", "--on-error", "skip", "-q"]
    reference = tmp_path / "ref.csv"
    assert invoke(str(source), "-o", str(reference), *args).exit_code == 0
    target = tmp_path / "out.csv"
    with monkeypatch.context() as patch:
        _crash_on_call(patch, app.batch.rows, "score_frame", 3)
        assert isinstance(invoke(str(source), "-o", str(target), *args).exception, Crash)
    assert json.loads(checkpoint_path(str(target)).read_text())["rows_done"] == 8
    resumed = invoke(str(source), "-o", str(target), *args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert target.read_bytes() == reference.read_bytes()
    written = read_output(target, "csv")
    assert [r["id"] for r in written] == [f"j{i}" for i in range(20)]
    assert all(r["flags"] for r in written)


def test_resume_says_how_far_it_had_got(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_input(make_comments(20), tmp_path / "in.csv")
    args = [str(source), "-o", str(tmp_path / "out.csv"), "--text-column", "body"]
    with monkeypatch.context() as patch:
        _crash_on_call(patch, app.batch.rows, "score_frame", 3)
        invoke(*args, "--chunk-size", "5")
    result = invoke(*args, "--chunk-size", "5", "--resume")
    assert result.exit_code == 0, result.output
    assert "resuming after 10 rows" in result.stderr
    assert "scored 10 rows, resumed after 10" in result.stderr


def _interrupted(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    source = write_input(make_comments(20), tmp_path / "in.csv")
    args = [str(source), "-o", str(tmp_path / "out.csv"), "--text-column", "body"]
    with monkeypatch.context() as patch:
        _crash_on_call(patch, app.batch.rows, "score_frame", 2)
        assert isinstance(invoke(*args, "--chunk-size", "5").exception, Crash)
    return [*args, "--chunk-size", "5"]


def test_resume_refuses_changed_options(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _interrupted(invoke, tmp_path, monkeypatch)
    result = invoke(*args, "--no-evidence", "--resume")
    assert result.exit_code == 2
    assert "the options differ from the interrupted run's: evidence True -> False" in (
        result.stderr
    )
    other = invoke(*args[:-1], "7", "--resume")
    assert other.exit_code == 2 and "chunk_size 5 -> 7" in other.stderr
    finer = invoke(*args, "--precision", "6", "--resume")
    assert finer.exit_code == 2 and "precision 3 -> 6" in finer.stderr


def test_resume_refuses_a_checkpoint_of_the_output_without_flags(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _interrupted(invoke, tmp_path, monkeypatch)
    state = checkpoint_path(str(tmp_path / "out.csv"))
    state.write_text(json.dumps({**json.loads(state.read_text()), "version": 1}))
    result = invoke(*args, "--resume")
    assert result.exit_code == 2
    assert "has version 1, not 2" in result.stderr
    assert "run again without --resume" in result.stderr


def test_resume_refuses_a_changed_input(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _interrupted(invoke, tmp_path, monkeypatch)
    source = Path(args[0])
    source.write_bytes(source.read_bytes().replace(b"idiot", b"idiom"))
    result = invoke(*args, "--resume")
    assert result.exit_code == 2
    assert "changed since the interrupted run (mtime_ns, head_sha256 differ)" in result.stderr


def test_resume_refuses_a_shortened_output(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _interrupted(invoke, tmp_path, monkeypatch)
    (tmp_path / "out.csv").write_text("")
    result = invoke(*args, "--resume")
    assert result.exit_code == 2
    assert "has 0 bytes but the checkpoint says" in result.stderr


def test_resume_without_a_checkpoint(invoke: Invoke, tmp_path: Path) -> None:
    source = write_input(make_comments(3), tmp_path / "in.csv")
    result = invoke(str(source), "-o", str(tmp_path / "o.csv"), "--text-column", "body", "--resume")
    assert result.exit_code == 2
    assert "nothing to resume: there is no checkpoint" in result.stderr


def test_resume_needs_files(invoke: Invoke, tmp_path: Path) -> None:
    source = write_input(make_comments(3), tmp_path / "in.csv")
    to_stdout = invoke(str(source), "--text-column", "body", "--resume")
    assert to_stdout.exit_code == 2
    assert "--resume needs an input file and an output file" in to_stdout.stderr
    from_stdin = invoke(
        "-", "--format", "csv", "-o", str(tmp_path / "o.csv"), "--resume", input=source.read_text()
    )
    assert from_stdin.exit_code == 2
    assert "--resume needs an input file and an output file" in from_stdin.stderr


def test_a_new_run_replaces_an_old_checkpoint(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _interrupted(invoke, tmp_path, monkeypatch)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "warning: starting over" in result.stderr
    assert len(read_output(tmp_path / "out.csv", "csv")) == 20


@pytest.mark.slow
def test_kill_9_then_resume_gives_exactly_the_uninterrupted_rows(
    invoke: Invoke, tiny_model_dir: Path, tmp_path: Path
) -> None:
    source = write_input(make_comments(1_500), tmp_path / "in.csv")
    options = ["--text-column", "body", "--id-column", "comment_id", "--chunk-size", "25"]
    options += ["--no-evidence", "--model-dir", str(tiny_model_dir.parent)]
    target = tmp_path / "out.csv"
    state_file = checkpoint_path(str(target))
    process = subprocess.Popen(
        [*score_argv(), str(source), "-o", str(target), *options],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                done = json.loads(state_file.read_text())["rows_done"]
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                done = 0
            if done >= 150:
                break
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
    state = json.loads(state_file.read_text())
    assert 150 <= state["rows_done"] < 1_500
    assert target.stat().st_size >= state["output_position"]

    resumed = invoke(str(source), "-o", str(target), *options[:-2], "--resume")
    assert resumed.exit_code == 0, resumed.output
    reference = tmp_path / "ref.csv"
    assert invoke(str(source), "-o", str(reference), *options[:-2], "-q").exit_code == 0
    assert target.read_bytes() == reference.read_bytes()
    assert len(read_output(target, "csv")) == 1_500

"""Constant memory: readers yield bounded chunks lazily and the runner keeps no old chunk."""

from __future__ import annotations

import gc
import io
import weakref
from pathlib import Path
from typing import Any

import pytest

import app.batch.readers
from app.batch import Columns, resolve_job
from app.batch.readers import open_reader, read_line
from app.batch.rows import RawChunk, ScoredChunk, score_chunk
from tests.batch.conftest import Invoke, make_comments, write_input


@pytest.fixture(scope="module")
def many() -> list[dict[str, Any]]:
    return make_comments(20_000)


@pytest.fixture(scope="module")
def inputs(many: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    for fmt in ("csv", "jsonl", "parquet"):
        write_input(many, folder / f"in.{fmt}")
    return folder


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_readers_yield_bounded_chunks_and_read_lazily(
    fmt: str, many: list[dict[str, Any]], inputs: Path
) -> None:
    source = inputs / f"in.{fmt}"
    job = resolve_job(str(source), columns=Columns(text="body"), chunk_size=100)
    reader = open_reader(job, io.BytesIO())
    try:
        chunks = iter(reader)
        first = next(chunks)
        # After one chunk only a small part of the input has been read.
        position = reader.position()
        assert reader.total is not None and position is not None
        assert position < reader.total / 4
        sizes = [first.size, *(chunk.size for chunk in chunks)]
    finally:
        reader.close()
    assert max(sizes) == 100
    assert sum(sizes) == len(many)


@pytest.mark.parametrize("skip", [0, 250, 300, 19_999, 20_000])
def test_readers_skip_rows_when_resuming(
    skip: int, many: list[dict[str, Any]], inputs: Path
) -> None:
    for fmt in ("csv", "jsonl", "parquet"):
        source = inputs / f"in.{fmt}"
        job = resolve_job(str(source), columns=Columns(text="body"), chunk_size=100)
        reader = open_reader(job, io.BytesIO(), skip_rows=skip)
        try:
            chunks = list(reader)
        finally:
            reader.close()
        texts = [text for chunk in chunks for text in chunk.text]
        assert texts == [row["body"] for row in many[skip:]], fmt
        assert [c.start for c in chunks[:1]] == ([skip] if skip < len(many) else [])


def test_the_runner_holds_at_most_one_chunk_and_one_result(
    many: list[dict[str, Any]],
    invoke: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_input(many[:300], tmp_path / "in.jsonl")
    real = score_chunk
    raw_refs: list[weakref.ref[RawChunk]] = []
    scored_refs: list[weakref.ref[ScoredChunk]] = []
    alive: list[tuple[int, int]] = []

    def spy(model: Any, chunk: RawChunk, *args: Any, **kwargs: Any) -> ScoredChunk:
        gc.collect()
        alive.append(
            (sum(r() is not None for r in raw_refs), sum(r() is not None for r in scored_refs))
        )
        raw_refs.append(weakref.ref(chunk))
        scored = real(model, chunk, *args, **kwargs)
        scored_refs.append(weakref.ref(scored))
        return scored

    monkeypatch.setattr("app.batch.local.score_chunk", spy)
    target = tmp_path / "out.csv"
    args = ["--text-column", "body", "--chunk-size", "25", "--no-evidence"]
    result = invoke(str(source), "-o", str(target), *args)
    assert result.exit_code == 0, result.output
    assert len(alive) == 12
    # While chunk k is scored, no earlier input chunk and at most chunk k-1's result live.
    assert all(raw == 0 and scored <= 1 for raw, scored in alive), alive


def test_an_over_long_jsonl_line_is_dropped_in_bounded_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.batch.readers, "MAX_LINE_BYTES", 64)
    handle = io.BytesIO(b'{"text": "' + b"x" * 1_000 + b'"}\n{"text": "short"}\n')
    line, cut = read_line(handle)
    assert (line, cut) == (b"", True)
    assert read_line(handle) == (b'{"text": "short"}\n', False)


def test_a_long_jsonl_line_is_a_row_error(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.batch.readers, "MAX_LINE_BYTES", 64)
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "ok"}\n{"text": "' + "y" * 500 + '"}\n{"text": "fine"}\n')
    result = invoke(str(source), "-o", str(tmp_path / "o.jsonl"), "--on-error", "skip", "-q")
    assert result.exit_code == 0, result.output
    errors = (tmp_path / "o.jsonl.errors.jsonl").read_text()
    assert '"row": 1' in errors and "the line is longer than 64 bytes" in errors

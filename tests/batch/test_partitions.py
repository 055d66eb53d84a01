"""Dask partitions: cut on row boundaries, read by the local engine's parsers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.batch import Columns, resolve_job
from app.batch.partitions import csv_row_boundaries, plan, read_part
from tests.batch.conftest import make_comments, write_input


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return make_comments(300)


def test_csv_boundaries_are_newlines_outside_quotes(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b'text,id\n"a\nb",1\n"say ""hi""\n",2\nplain,3\n')
    starts = csv_row_boundaries(source, blocksize=1)
    data = source.read_bytes()
    assert [data[: starts[0]], *(data[a:b] for a, b in zip(starts, starts[1:], strict=False))] == [
        b"text,id\n",
        b'"a\nb",1\n',
        b'"say ""hi""\n",2\n',
        b"plain,3\n",
    ]
    assert starts[-1] == len(data)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("blocksize", [1, 1_000, 7_777, 10**9])
def test_partitions_read_back_every_row_once_in_order(
    fmt: str, blocksize: int, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    source = write_input(rows, tmp_path / f"in.{fmt}")
    columns = Columns(text="body", id="comment_id", parent="parent")
    layout = plan(resolve_job(str(source), columns=columns), blocksize)
    if blocksize == 10**9:
        assert len(layout.parts) == 1
    elif blocksize == 1_000:
        assert len(layout.parts) > 10
    chunks = [read_part(part) for part in layout.parts]
    assert [i for c in chunks for i in (c.ids or [])] == [r["comment_id"] for r in rows]
    assert [t for c in chunks for t in c.text] == [r["body"] for r in rows]
    assert [p for c in chunks for p in (c.parents or [])] == [r["parent"] for r in rows]
    assert sum(part.units for part in layout.parts) == layout.total


def test_csv_partitions_match_pandas_on_the_whole_file(
    rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    source = write_input(rows, tmp_path / "in.csv")
    whole = pd.read_csv(source, dtype=str, keep_default_na=False)
    layout = plan(resolve_job(str(source), columns=Columns(text="body")), 2_048)
    assert [t for part in layout.parts for t in read_part(part).text] == whole["body"].tolist()


def test_planning_checks_columns(rows: list[dict[str, Any]], tmp_path: Path) -> None:
    from app.batch import MissingColumnError

    for fmt in ("csv", "jsonl", "parquet"):
        source = write_input(rows[:3], tmp_path / f"in.{fmt}")
        with pytest.raises(MissingColumnError, match=r"has no 'text' column .*'comment_id'"):
            plan(resolve_job(str(source)), 1_000)

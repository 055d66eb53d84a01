"""Splitting an input file into partitions for the Dask engine, and reading one partition.

A partition is a byte range of a CSV or JSONL file that starts and ends on a row boundary,
or a row range of a Parquet file. Reading a partition goes through the same parsing code
as the local engine's readers (`app.batch.readers`), so both engines see the same rows,
values and bad rows.

Why not `dd.read_csv` / `dd.read_json` with a blocksize: they cut the file at any newline,
and a comment is often several lines inside one quoted CSV field, so a partition could
start in the middle of a comment and every row after it would be garbage. CSV boundaries
here are newlines outside quotes: in CSV as pandas and Python's csv module write it (RFC
4180: quote character `"`, a quote inside a field doubled), a newline ends a row exactly
when the number of `"` before it is even, and counting quotes is a fast scan of the file.
JSON lines never hold a raw newline, so any newline is a boundary; `dd.read_json` would
still fail a whole partition on one malformed line, where this reader reports the row.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from app.batch.readers import (
    CSV_OPTIONS,
    JsonlRows,
    check_columns,
    check_first_record,
    chunk_from_columns,
    csv_frame_chunk,
    is_blank,
    is_integer_type,
    parquet_columns,
    parse_jsonl_line,
    read_line,
    with_found_id,
)
from app.batch.rows import RawChunk
from app.batch.spec import BatchError, BatchJob, Columns, Format

SCAN_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One partition: bytes [start, stop) of a CSV/JSONL file, or rows of a Parquet file."""

    format: Format
    path: str
    start: int
    stop: int
    columns: Columns
    header: bytes = b""

    @property
    def units(self) -> int:
        """Its share of the progress total (bytes, or rows for Parquet)."""
        return self.stop - self.start


@dataclass(frozen=True)
class Plan:
    """The partitions, and the columns every one of them reads (the id column found in the
    input when the run named none, as the local readers find it)."""

    parts: list[Part]
    total: int
    id_integer: bool
    columns: Columns


def plan(job: BatchJob, blocksize: int) -> Plan:
    """The partitions of the job's input, about `blocksize` bytes each, columns checked.

    Raises:
        MissingColumnError: a configured column is not in the input.
        BatchError: the input cannot be read in its format.
    """
    path = Path(job.source)
    if job.input_format is Format.csv:
        return _plan_csv(path, job.columns, blocksize)
    if job.input_format is Format.jsonl:
        return _plan_jsonl(path, job.columns, blocksize)
    return _plan_parquet(path, job.columns, blocksize)


def read_part(part: Part) -> RawChunk:
    """A partition's rows, numbered from 0."""
    if part.format is Format.csv:
        with open(part.path, "rb") as handle:
            handle.seek(part.start)
            data = handle.read(part.stop - part.start)
        frame = pd.read_csv(io.BytesIO(part.header + data), **CSV_OPTIONS)
        return csv_frame_chunk(0, frame, part.columns)
    if part.format is Format.jsonl:
        rows = JsonlRows(part.columns, part.path, checked=True)
        with open(part.path, "rb") as handle:
            handle.seek(part.start)
            while handle.tell() < part.stop:
                line, cut = read_line(handle)
                if not line and not cut:
                    break
                if cut or not is_blank(line):
                    rows.add(line, cut)
        return rows.take(0)
    return _read_parquet_rows(part)


def _plan_csv(path: Path, columns: Columns, blocksize: int) -> Plan:
    try:
        header = pd.read_csv(path, nrows=0, **CSV_OPTIONS)
    except pd.errors.EmptyDataError as exc:
        raise BatchError(f"{path} is empty: a CSV input needs a header row") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BatchError(f"{path} is not valid CSV: {exc}") from exc
    names = [str(c) for c in header.columns]
    check_columns(names, columns, str(path))
    columns = with_found_id(columns, names)
    size = path.stat().st_size
    boundaries = csv_row_boundaries(path, blocksize)
    header_end = boundaries[0] if boundaries else size
    with path.open("rb") as handle:
        header_bytes = handle.read(header_end)
    edges = [*boundaries, size] if boundaries else [size]
    parts = [
        Part(Format.csv, str(path), a, b, columns, header_bytes)
        for a, b in zip(edges, edges[1:], strict=False)
        if b > a
    ]
    return Plan(parts, size - header_end, id_integer=False, columns=columns)


def csv_row_boundaries(path: Path, blocksize: int) -> list[int]:
    """The end of the header row, then row starts about `blocksize` bytes apart.

    A newline ends a row when an even number of quote characters precede it (see the
    module docstring). The file is read once in fixed-size blocks.
    """
    found: list[int] = []
    target = 0  # the header ends at the first row-ending newline
    quotes = 0  # quote characters in the file before `offset`
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(SCAN_BLOCK):
            position = max(0, target - offset)
            counted_to, counted = 0, quotes
            while position < len(block):
                newline = block.find(b"\n", position)
                if newline < 0:
                    break
                counted += block.count(b'"', counted_to, newline)
                counted_to = newline
                if counted % 2 == 0:
                    found.append(offset + newline + 1)
                    target = offset + newline + 1 + blocksize
                    position = target - offset
                else:
                    position = newline + 1
            quotes += block.count(b'"')
            offset += len(block)
    return found


def _plan_jsonl(path: Path, columns: Columns, blocksize: int) -> Plan:
    size = path.stat().st_size
    with path.open("rb") as handle:
        columns = _check_jsonl(handle, columns, str(path))
        edges = [0]
        while edges[-1] + blocksize < size:
            handle.seek(edges[-1] + blocksize)
            read_line(handle)  # to the start of the next line
            position = handle.tell()
            if position >= size:
                break
            edges.append(position)
    edges.append(size)
    parts = [
        Part(Format.jsonl, str(path), a, b, columns)
        for a, b in zip(edges, edges[1:], strict=False)
        if b > a
    ]
    return Plan(parts, size, id_integer=False, columns=columns)


def _check_jsonl(handle: Any, columns: Columns, where: str) -> Columns:
    """The local reader's checks: an empty file, and the first record's columns; the
    columns with the id column that record has."""
    seen_line = False
    while True:
        line, cut = read_line(handle)
        if not line and not cut:
            break
        if cut or is_blank(line):
            seen_line = seen_line or cut
            continue
        seen_line = True
        record, _ = parse_jsonl_line(line)
        if record is not None:
            check_first_record(record, columns, where)
            return with_found_id(columns, list(record))
    if not seen_line:
        raise BatchError(f"{where} is empty: it has no JSON lines")
    return columns


def _plan_parquet(path: Path, columns: Columns, blocksize: int) -> Plan:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BatchError(f"{path} is not a Parquet file ({exc})") from exc
    names = parquet_columns(parquet)
    check_columns(names, columns, str(path))
    columns = with_found_id(columns, names)
    rows = parquet.metadata.num_rows
    size = max(1, path.stat().st_size)
    per_part = max(1, math.ceil(rows * blocksize / size))
    parts = [
        Part(Format.parquet, str(path), a, min(a + per_part, rows), columns)
        for a in range(0, rows, per_part)
    ]
    id_integer = columns.id is not None and is_integer_type(
        parquet.schema_arrow.field(columns.id).type
    )
    return Plan(parts, rows, id_integer=id_integer, columns=columns)


def _read_parquet_rows(part: Part) -> RawChunk:
    """Rows [start, stop): only the row groups that hold them, only the needed columns."""
    parquet = pq.ParquetFile(part.path)
    groups: list[int] = []
    first_row = 0
    position = 0
    for index in range(parquet.metadata.num_row_groups):
        count = parquet.metadata.row_group(index).num_rows
        if position + count > part.start and position < part.stop:
            if not groups:
                first_row = position
            groups.append(index)
        position += count
    table = parquet.read_row_groups(groups, columns=part.columns.wanted)
    table = table.slice(part.start - first_row, part.stop - part.start)
    values = {name: table.column(name).to_pylist() for name in part.columns.wanted}
    return chunk_from_columns(0, values, part.columns)

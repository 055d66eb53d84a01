"""Streaming readers: an input file as a sequence of bounded `RawChunk`s.

Memory stays flat whatever the input size: CSV goes through pandas' chunked parser, Parquet
through `ParquetFile.iter_batches` (only the configured columns are decoded), JSONL line
by line with a cap on the length of one line. A reader holds one chunk at a time.

The parsing functions here are shared with the Dask engine (`app.batch.partitions`), so a
row reads the same, and is numbered the same, whichever engine scores it.

Row numbers are 0-based over data rows: a CSV's header is not a row, and neither is a
blank line of a JSONL file.

Without `--id-column`, the id column is the input's first column of one of the names the
thread parsers also find by themselves (`id`, `comment_id`, ...; see `with_found_id`): from
the CSV header, the Parquet schema, or the keys of a JSONL file's first JSON object. A
reader's `columns` are the run's columns with that id filled in.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Protocol

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from app.batch.rows import RawChunk
from app.batch.spec import BatchError, BatchJob, Columns, Format, MissingColumnError
from app.threads.options import CANDIDATES, normalise_name

# Every CSV value is read as text exactly as written: "NA", "null" or "" are comments too,
# and an id like "007" keeps its zeros.
CSV_OPTIONS: dict[str, Any] = {
    "dtype": str,
    "keep_default_na": False,
    "na_filter": False,
    "encoding": "utf-8",
}
# A JSON line holding a text, a parent text and a topic at the scorer's limit, escaped.
MAX_LINE_BYTES = 8 * 1024 * 1024
SPOOL_BLOCK = 1024 * 1024


class ChunkReader(Protocol):
    """What the local engine needs from a reader."""

    columns: Columns
    """The run's columns, with the id column found in the input if none was given."""
    total: int | None
    """Progress units in the whole input (bytes, or rows for Parquet); None if unknown."""
    id_integer: bool
    """Whether the id column is declared as integers (Parquet); otherwise ids are text."""

    def position(self) -> int | None:
        """Progress units consumed so far."""

    def __iter__(self) -> Iterator[RawChunk]: ...

    def close(self) -> None: ...


def open_reader(job: BatchJob, stdin: IO[bytes], *, skip_rows: int = 0) -> ChunkReader:
    """A reader over the job's input that starts after `skip_rows` rows.

    The input's columns are checked before this returns, so a missing column is reported
    before any output file is touched. Closing the reader leaves `stdin` open.

    Raises:
        MissingColumnError: a configured column is not in the input.
        BatchError: the input cannot be read in its format.
    """
    if job.input_format is Format.parquet:
        return ParquetReader(stdin if job.reads_stdin else Path(job.source), job, skip_rows)
    handle: IO[bytes] = stdin if job.reads_stdin else open(job.source, "rb")
    try:
        if job.input_format is Format.csv:
            return CsvReader(handle, job, skip_rows, owned=handle is not stdin)
        return JsonlReader(handle, job, skip_rows, owned=handle is not stdin)
    except BaseException:
        if handle is not stdin:
            handle.close()
        raise


def check_columns(available: list[str], columns: Columns, where: str) -> None:
    """Refuse an input without every configured column, listing the columns it has.

    Raises:
        MissingColumnError: the first configured column that is missing.
    """
    options = {
        columns.text: "--text-column",
        **({columns.id: "--id-column"} if columns.id else {}),
        **({columns.parent: "--parent-column"} if columns.parent else {}),
        **({columns.topic: "--topic-column"} if columns.topic else {}),
    }
    for name in columns.wanted:
        if name not in available:
            shown = ", ".join(repr(c) for c in available[:50]) or "none"
            more = f" and {len(available) - 50} more" if len(available) > 50 else ""
            raise MissingColumnError(
                f"{where} has no {name!r} column ({options[name]}); its columns are: {shown}{more}",
                field=name,
            )


def with_found_id(columns: Columns, available: Iterable[str]) -> Columns:
    """`columns` with an id column, when none was given and the input has a usual one.

    The names and the matching are the thread parsers' (`app.threads.options.CANDIDATES`,
    regardless of case, `_`, `-` and spaces), so a file that `threadguard parse` reads with
    its ids keeps them here too, in the output and in the errors file. A column already
    read as the text, parent or topic is not taken.
    """
    if columns.id is not None:
        return columns
    taken = {columns.text, columns.parent, columns.topic}
    by_norm: dict[str, str] = {}
    for name in available:
        if name not in taken:
            by_norm.setdefault(normalise_name(name), name)
    for candidate in CANDIDATES["id"]:
        found = by_norm.get(normalise_name(candidate))
        if found is not None:
            return replace(columns, id=found)
    return columns


def chunk_from_columns(
    start: int,
    values: dict[str, list[Any]],
    columns: Columns,
    broken: dict[int, str] | None = None,
) -> RawChunk:
    """A chunk from column name -> values (the configured columns must all be there)."""
    return RawChunk(
        start=start,
        text=values[columns.text],
        ids=values[columns.id] if columns.id else None,
        parents=values[columns.parent] if columns.parent else None,
        topics=values[columns.topic] if columns.topic else None,
        broken=broken or {},
    )


def csv_frame_chunk(start: int, frame: pd.DataFrame, columns: Columns) -> RawChunk:
    """A chunk from a frame pandas parsed with CSV_OPTIONS."""
    return chunk_from_columns(
        start, {name: frame[name].tolist() for name in columns.wanted}, columns
    )


def _describe(job: BatchJob) -> str:
    return "stdin" if job.reads_stdin else job.source


def _position(handle: IO[bytes]) -> int | None:
    try:
        return handle.tell() if handle.seekable() else None
    except (OSError, ValueError):
        return None


def _size(handle: IO[bytes]) -> int | None:
    try:
        if not handle.seekable():
            return None
        current = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        handle.seek(current)
        return end
    except (OSError, ValueError):
        return None


class CsvReader:
    """pandas' chunked CSV parser; the header row names the columns."""

    id_integer = False

    def __init__(self, handle: IO[bytes], job: BatchJob, skip_rows: int, *, owned: bool) -> None:
        self._handle = handle
        self._owned = owned
        self.columns = job.columns
        self._skip = skip_rows
        self._where = _describe(job)
        self.total = _size(handle)
        try:
            self._parser = pd.read_csv(handle, chunksize=job.chunk_size, **CSV_OPTIONS)
            first = next(iter(self._parser), None)
        except pd.errors.EmptyDataError as exc:
            raise BatchError(f"{self._where} is empty: a CSV input needs a header row") from exc
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise self._malformed(exc) from exc
        if first is not None:
            names = [str(c) for c in first.columns]
            check_columns(names, job.columns, self._where)
            self.columns = with_found_id(job.columns, names)
        self._first: pd.DataFrame | None = first

    def position(self) -> int | None:
        return _position(self._handle)

    def __iter__(self) -> Iterator[RawChunk]:
        start = 0
        while True:
            frame = self._next_frame()
            if frame is None:
                return
            size = len(frame)
            if start + size > self._skip:
                chunk = csv_frame_chunk(start, frame, self.columns)
                yield chunk if start >= self._skip else chunk.window(self._skip - start)
            start += size

    def _next_frame(self) -> pd.DataFrame | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        try:
            return next(self._parser)
        except StopIteration:
            return None
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise self._malformed(exc) from exc

    def _malformed(self, exc: Exception) -> BatchError:
        if isinstance(exc, UnicodeDecodeError):
            return BatchError(f"{self._where} is not UTF-8 text ({exc.reason})")
        detail = str(exc).strip().removeprefix("Error tokenizing data. ").removeprefix("C error: ")
        return BatchError(f"{self._where} is not valid CSV: {detail}")

    def close(self) -> None:
        self._parser.close()
        if self._owned:
            self._handle.close()


def parse_jsonl_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One JSONL line as a record, or None and why it is not one."""
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return None, "the line is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"the line is not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"the line holds a JSON {type(value).__name__}, not an object"
    return value, None


def read_line(handle: IO[bytes]) -> tuple[bytes, bool]:
    """The next line (b"" at the end) and whether it was cut at MAX_LINE_BYTES.

    An over-long line is read to its end in bounded pieces and dropped, so one huge line
    cannot take the memory of the whole file.
    """
    line = handle.readline(MAX_LINE_BYTES + 1)
    if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
        return line, False
    while True:
        rest = handle.readline(MAX_LINE_BYTES)
        if not rest or rest.endswith(b"\n"):
            return b"", True


class JsonlRows:
    """Turns JSONL lines into chunk columns; remembers whether the text column was checked.

    The columns of a JSONL file are the keys of its records, which may differ from line to
    line. The first JSON object decides whether the text (and id) column exists at all,
    and which id column is read when none was given; later records without them are bad
    rows (or rows without an id). `columns` are final once `checked`.
    """

    def __init__(self, columns: Columns, where: str, *, checked: bool = False) -> None:
        self.columns = columns
        self._where = where
        self.checked = checked
        self._reset()

    def _reset(self) -> None:
        self._values: dict[str, list[Any]] = {name: [] for name in self.columns.wanted}
        self._broken: dict[int, str] = {}
        self._size = 0

    def check(self, record: dict[str, Any]) -> None:
        """Take `record` as the file's first JSON object: check it, find the id column."""
        check_first_record(record, self.columns, self._where)
        found = with_found_id(self.columns, list(record))
        if found.id is not None and found.id not in self._values:
            # The rows already added are lines that held no JSON object: no id either.
            self._values[found.id] = [None] * self._size
        self.columns = found
        self.checked = True

    def add(self, line: bytes, cut: bool) -> None:
        """Add the row of one non-blank line (or of a line cut for length)."""
        record: dict[str, Any] | None = None
        problem: str | None = f"the line is longer than {MAX_LINE_BYTES:,} bytes"
        if not cut:
            record, problem = parse_jsonl_line(line)
        if record is not None and not self.checked:
            self.check(record)
        for name, values in self._values.items():
            values.append(record.get(name) if record is not None else None)
        if problem is not None:
            self._broken[self._size] = problem
        self._size += 1

    @property
    def size(self) -> int:
        return self._size

    def take(self, start: int) -> RawChunk:
        """The rows added since the last take, as a chunk starting at row `start`."""
        chunk = chunk_from_columns(start, self._values, self.columns, self._broken)
        self._reset()
        return chunk


def check_first_record(record: dict[str, Any], columns: Columns, where: str) -> None:
    """Refuse a JSONL input whose first record has no text (or id) field.

    Raises:
        MissingColumnError: naming the field and the keys the record has.
    """
    check_columns(
        list(record), Columns(text=columns.text, id=columns.id), f"{where} (first record)"
    )


def is_blank(line: bytes) -> bool:
    return not line.strip()


class JsonlReader:
    """One JSON object per line; blank lines are not rows."""

    id_integer = False

    def __init__(self, handle: IO[bytes], job: BatchJob, skip_rows: int, *, owned: bool) -> None:
        self._handle = handle
        self._owned = owned
        self._chunk_size = job.chunk_size
        self._skip = skip_rows
        self.total = _size(handle)
        self._rows = JsonlRows(job.columns, _describe(job))
        self._start = self._skip_rows()
        self._first = self._read_chunk()
        if self._first is None and not self._rows.checked and self._start == 0:
            raise BatchError(f"{_describe(job)} is empty: it has no JSON lines")
        # The writer is opened with these: they must not change after the first chunk.
        self.columns = self._rows.columns

    def _skip_rows(self) -> int:
        done = 0
        while done < self._skip:
            line, cut = read_line(self._handle)
            if not line and not cut:
                break
            if cut or not is_blank(line):
                if not cut and not self._rows.checked:
                    # A resumed run reads its id column from the same first record as the
                    # interrupted run did; lines after it are only counted.
                    record, _ = parse_jsonl_line(line)
                    if record is not None:
                        self._rows.check(record)
                done += 1
        return done

    def _finding_id(self) -> bool:
        """Whether the first chunk must grow to reach the first JSON object, which decides
        the id column (every row before it is a line that holds none, a bad row)."""
        return not self._rows.checked and self._rows.columns.id is None

    def _read_chunk(self) -> RawChunk | None:
        while self._rows.size < self._chunk_size or self._finding_id():
            line, cut = read_line(self._handle)
            if not line and not cut:
                break
            if cut or not is_blank(line):
                self._rows.add(line, cut)
        if self._rows.size == 0:
            return None
        chunk = self._rows.take(self._start)
        self._start += chunk.size
        return chunk

    def position(self) -> int | None:
        return _position(self._handle)

    def __iter__(self) -> Iterator[RawChunk]:
        chunk, self._first = self._first, None
        while chunk is not None:
            yield chunk
            chunk = self._read_chunk()

    def close(self) -> None:
        if self._owned:
            self._handle.close()


def parquet_columns(parquet: pq.ParquetFile) -> list[str]:
    return [str(name) for name in parquet.schema_arrow.names]


def is_integer_type(kind: pa.DataType) -> bool:
    """Whether ids of this Arrow type stay integers in a Parquet output (int64)."""
    return bool(pa.types.is_integer(kind)) and not pa.types.is_uint64(kind)


class ParquetReader:
    """Record batches of the configured columns only; progress counts rows."""

    def __init__(self, source: Path | IO[bytes], job: BatchJob, skip_rows: int) -> None:
        self.columns = job.columns
        self._chunk_size = job.chunk_size
        self._skip = skip_rows
        where = _describe(job)
        # Parquet's footer is at the end of the file: stdin is spooled to a temporary file
        # in fixed-size blocks (disk, not memory).
        self._spool: IO[bytes] | None = None
        if not isinstance(source, Path):
            self._spool = tempfile.TemporaryFile()
            shutil.copyfileobj(source, self._spool, SPOOL_BLOCK)
            self._spool.seek(0)
        try:
            self._file = pq.ParquetFile(self._spool or source)
        except (pa.ArrowException, OSError) as exc:
            self.close()
            raise BatchError(f"{where} is not a Parquet file ({exc})") from exc
        names = parquet_columns(self._file)
        check_columns(names, job.columns, where)
        self.columns = with_found_id(job.columns, names)
        schema = self._file.schema_arrow
        self.id_integer = self.columns.id is not None and is_integer_type(
            schema.field(self.columns.id).type
        )
        self.total: int | None = self._file.metadata.num_rows
        self._done = skip_rows

    def position(self) -> int | None:
        return self._done

    def __iter__(self) -> Iterator[RawChunk]:
        start = 0
        for batch in self._file.iter_batches(
            batch_size=self._chunk_size, columns=self.columns.wanted
        ):
            size = batch.num_rows
            if start + size > self._skip:
                values = {name: batch.column(name).to_pylist() for name in self.columns.wanted}
                chunk = chunk_from_columns(start, values, self.columns)
                yield chunk if start >= self._skip else chunk.window(self._skip - start)
            start += size
            self._done = max(start, self._skip)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()

"""Writing scored chunks: CSV, JSONL and Parquet writers, the errors side file, and the
`BatchOutput` both engines feed in input order.

Every writer appends one chunk at a time and can `commit`: flush and fsync, then report a
position the checkpoint records. A resumed run reopens the writer at that position and
everything after it (a chunk written but not checkpointed when the process died) is cut.

CSV and JSONL: the position is the output's length in bytes; resuming truncates the file
to it.

Parquet: a Parquet file is only readable once its footer is written at the very end, so a
single file being appended to does not survive `kill -9`. Each chunk is written instead as
a complete small Parquet file, `OUTPUT.parts/part-00000000.parquet`, … (written to a
temporary name, fsynced, then renamed, so a part either exists whole or not at all); the
position is the number of parts. At the end the parts are merged, in order and a few at a
time, into `OUTPUT` (again through a temporary name and a rename), then deleted. A run that
dies during the merge resumes with nothing left to score and merges again. A run stopped
by a bad row (`--on-error fail`) also merges what it has, so the rows before the bad one
are readable, and keeps the parts for `--resume`. Parquet to stdout is written as one
stream, row group by row group (no resume there).

Columns: the id column, the scorer's `OUTPUT_COLUMNS`, then `flags`, the raised heads
joined by "," ("hate,toxic"; "" when none), which `BatchOutput` adds to every chunk along
with the rounding of `--precision`, so both engines and resumed runs write the same bytes.

Values: evidence is a JSON string in CSV and Parquet and a nested object in JSONL; a NaN
is an empty field in CSV and null elsewhere. Probabilities and evidence weights are rounded
to `--precision` decimals (evidence weights come with 4 from `app.evidence`, so more leaves
them as they are); flags are decided on the unrounded probabilities, so a rounded value
equal to its threshold need not be flagged.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]

from app.batch.rows import RowProblem, ScoredChunk, plain
from app.batch.spec import (
    EXACT_PRECISION,
    FLAGS_COLUMN,
    BatchError,
    Format,
    OnError,
    ResumeError,
    RowError,
)
from app.labels import BINARY_HEADS, OUTPUT_COLUMNS

# The score columns of the output, after the id column.
SCORE_COLUMNS = (*OUTPUT_COLUMNS, FLAGS_COLUMN)
# Score columns that are not probabilities; `*_flag` columns are booleans.
TEXT_COLUMNS = frozenset(
    {"hate_target", "severity", "stance", "reply_stance", "evidence", "model_version", FLAGS_COLUMN}
)
# Rows per row group of a merged Parquet output: a reader-friendly size, bounded memory.
MERGE_ROWS = 65_536


def column_kind(name: str) -> str:
    """The value kind of a score column: "bool", "text" or "float"."""
    if name.endswith("_flag"):
        return "bool"
    return "text" if name in TEXT_COLUMNS else "float"


def output_schema(id_name: str, *, id_integer: bool) -> pa.Schema:
    """The Arrow schema of a Parquet output: the id column, then SCORE_COLUMNS."""
    kinds = {"bool": pa.bool_(), "text": pa.string(), "float": pa.float64()}
    fields = [pa.field(id_name, pa.int64() if id_integer else pa.string())]
    fields += [pa.field(name, kinds[column_kind(name)]) for name in SCORE_COLUMNS]
    return pa.schema(fields)


def output_frame(
    id_name: str, ids: list[Any], scored: pd.DataFrame, *, precision: int
) -> pd.DataFrame:
    """The id column followed by SCORE_COLUMNS, positionally indexed: `scored` (score_frame's
    columns) rounded to `precision` decimals, and the flags."""
    frame = scored.reset_index(drop=True)
    flags = [
        ",".join(head for head, raised in zip(BINARY_HEADS, row, strict=True) if raised)
        for row in zip(*(frame[f"{head}_flag"] for head in BINARY_HEADS), strict=True)
    ]
    if precision < EXACT_PRECISION:
        for name in OUTPUT_COLUMNS:
            if column_kind(name) == "float":
                values = [round(float(v), precision) for v in frame[name].tolist()]
                frame[name] = pd.Series(values, dtype=np.float64)
        frame["evidence"] = [rounded_evidence(v, precision) for v in frame["evidence"]]
    frame[FLAGS_COLUMN] = pd.Series(flags, dtype=object)
    frame.insert(0, id_name, pd.Series(ids, dtype=object))
    return frame


def rounded_evidence(value: Any, precision: int) -> Any:
    """A row's evidence (head -> items) with each item's weight rounded."""
    if not isinstance(value, dict):
        return value
    return {
        head: [
            {**item, "weight": round(item["weight"], precision)}
            if isinstance(item.get("weight"), float)
            else item
            for item in items
        ]
        for head, items in value.items()
    }


def evidence_json(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def _json_value(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, float) and math.isinf(value):  # JSON has no infinity
        return None
    return value


class Writer(Protocol):
    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of an output frame (`output_frame`)."""

    def commit(self) -> int:
        """Make what was written durable; the position a resume restarts from."""

    def finish(self, *, resumable: bool) -> None:
        """Close; `resumable` when the run stopped early and may be resumed from its parts."""

    def abort(self) -> None:
        """Close without finishing: what was committed stays for a resume."""


class ByteWriter:
    """An output file (or stdout) appended to as bytes; its position is its length."""

    def __init__(self, target: str | IO[bytes], *, resume_at: int | None) -> None:
        if isinstance(target, str):
            self._handle: IO[bytes] = _open_at(Path(target), resume_at, what="output")
            self._durable = True
        else:
            self._handle = target
            self._durable = False
        self.fresh = resume_at is None

    def write_bytes(self, data: bytes) -> None:
        self._handle.write(data)

    def commit(self) -> int:
        self._handle.flush()
        if self._durable:
            os.fsync(self._handle.fileno())
            return self._handle.tell()
        return 0

    def finish(self, *, resumable: bool) -> None:
        self.commit()
        if self._durable:
            self._handle.close()

    def abort(self) -> None:
        if self._durable:
            self._handle.close()


class CsvWriter(ByteWriter):
    """CSV with a header row; evidence as a JSON string, NaN and None as empty fields."""

    def __init__(self, target: str | IO[bytes], names: list[str], *, resume_at: int | None) -> None:
        super().__init__(target, resume_at=resume_at)
        if self.fresh:
            header = pd.DataFrame(columns=names).to_csv(index=False, lineterminator="\n")
            self.write_bytes(header.encode("utf-8"))

    def write(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        frame["evidence"] = [evidence_json(v) for v in frame["evidence"]]
        text = frame.to_csv(index=False, header=False, lineterminator="\n")
        self.write_bytes(text.encode("utf-8"))


class JsonlWriter(ByteWriter):
    """One JSON object per line; evidence nested, NaN as null."""

    def write(self, frame: pd.DataFrame) -> None:
        lines = [
            json.dumps(
                {k: _json_value(v) for k, v in record.items()},
                ensure_ascii=False,
                allow_nan=False,
            )
            for record in frame.to_dict(orient="records")
        ]
        if lines:
            self.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def arrow_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """An output frame as a table of `schema` (evidence as JSON text, ids cast)."""
    frame = frame.copy()
    frame["evidence"] = [evidence_json(v) for v in frame["evidence"]]
    id_name = schema.names[0]
    if pa.types.is_string(schema.field(id_name).type):
        frame[id_name] = [None if v is None else str(v) for v in map(plain, frame[id_name])]
    try:
        return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise BatchError(f"cannot write these rows as Parquet: {exc}") from exc


class ParquetStreamWriter:
    """Parquet to a stream (stdout): one row group per chunk, the footer at the end."""

    def __init__(self, target: IO[bytes], schema: pa.Schema) -> None:
        self._target = target
        self._schema = schema
        self._writer = pq.ParquetWriter(target, schema)

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._writer.write_table(arrow_table(frame, self._schema))

    def commit(self) -> int:
        return 0

    def finish(self, *, resumable: bool) -> None:
        self._writer.close()
        self._target.flush()

    def abort(self) -> None:
        self.finish(resumable=False)


class ParquetPartsWriter:
    """Parquet to a file through durable per-chunk part files (see the module docstring)."""

    def __init__(self, path: Path, schema: pa.Schema, *, resume_at: int | None) -> None:
        self._path = path
        self._schema = schema
        self.parts_dir = parts_dir(path)
        if resume_at is None:
            shutil.rmtree(self.parts_dir, ignore_errors=True)
            self.parts_dir.mkdir()
            self._count = 0
        else:
            have = sorted(self.parts_dir.glob("part-*.parquet")) if self.parts_dir.is_dir() else []
            if len(have) < resume_at:
                raise ResumeError(
                    f"{self.parts_dir} holds {len(have)} finished parts but the checkpoint "
                    f"counts {resume_at}; run again without --resume"
                )
            for extra in have[resume_at:]:
                extra.unlink()
            self.parts_dir.mkdir(exist_ok=True)
            self._count = resume_at

    def _part(self, index: int) -> Path:
        return self.parts_dir / f"part-{index:08d}.parquet"

    def write(self, frame: pd.DataFrame) -> None:
        final = self._part(self._count)
        temporary = final.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pq.write_table(arrow_table(frame, self._schema), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        self._count += 1

    def commit(self) -> int:
        _fsync_dir(self.parts_dir)
        return self._count

    def finish(self, *, resumable: bool) -> None:
        self._merge()
        if not resumable:
            shutil.rmtree(self.parts_dir)

    def abort(self) -> None:
        pass  # every part on disk is complete; the checkpoint counts the durable ones

    def _merge(self) -> None:
        temporary = self._path.with_name(self._path.name + ".tmp")
        with pq.ParquetWriter(temporary, self._schema) as writer:
            pending: list[pa.Table] = []
            rows = 0
            for index in range(self._count):
                table = pq.read_table(self._part(index), schema=self._schema)
                pending.append(table)
                rows += table.num_rows
                if rows >= MERGE_ROWS:
                    writer.write_table(pa.concat_tables(pending))
                    pending, rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending))
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self._path)
        _fsync_dir(self._path.parent)


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def open_writer(
    output_format: Format,
    target: str | IO[bytes],
    id_name: str,
    *,
    id_integer: bool,
    resume_at: int | None = None,
) -> Writer:
    """The writer for a format, to a path (durable, resumable) or a stream."""
    names = [id_name, *SCORE_COLUMNS]
    if output_format is Format.csv:
        return CsvWriter(target, names, resume_at=resume_at)
    if output_format is Format.jsonl:
        return JsonlWriter(target, resume_at=resume_at)
    schema = output_schema(id_name, id_integer=id_integer)
    if isinstance(target, str):
        return ParquetPartsWriter(Path(target), schema, resume_at=resume_at)
    return ParquetStreamWriter(target, schema)


class ErrorLog:
    """The errors side file, one `{row, id, error}` object a line (or warnings on stderr).

    Opened on the first skipped row, so a clean run leaves no file behind.
    """

    def __init__(
        self,
        path: str | None,
        *,
        resume_at: int | None,
        warn: Callable[[str], None],
    ) -> None:
        self.path = path
        self._warn = warn
        self._handle: IO[bytes] | None = None
        self._position = 0
        if path is None:
            return
        if resume_at is None:
            Path(path).unlink(missing_ok=True)
        elif resume_at > 0 or Path(path).exists():
            self._handle = _open_at(Path(path), resume_at, what="errors file")
            self._position = resume_at

    def write(self, problems: list[RowProblem]) -> None:
        if not problems:
            return
        if self.path is None:
            for problem in problems:
                self._warn(f"skipped {problem.describe()}")
            return
        if self._handle is None:
            self._handle = _open_at(Path(self.path), None, what="errors file")
        data = "".join(json.dumps(p.record(), ensure_ascii=False) + "\n" for p in problems)
        self._handle.write(data.encode("utf-8"))

    def commit(self) -> int:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._position = self._handle.tell()
        return self._position

    def close(self) -> None:
        if self._handle is not None:
            self.commit()
            self._handle.close()
            self._handle = None


class BatchOutput:
    """Takes scored chunks in input order: applies `--on-error`, writes rows and problems."""

    def __init__(
        self,
        writer: Writer,
        errors: ErrorLog,
        *,
        id_name: str,
        on_error: OnError,
        precision: int,
    ) -> None:
        self.writer = writer
        self.errors = errors
        self._id_name = id_name
        self._on_error = on_error
        self._precision = precision
        self.scored = 0
        self.skipped = 0

    def accept(self, chunk: ScoredChunk) -> None:
        """Write a chunk's rows and list its problems.

        Raises:
            RowError: the chunk has a bad row and the run stops at the first one.
        """
        if chunk.problems and self._on_error is OnError.fail:
            first = chunk.problems[0]
            raise RowError(first.describe(), field=f"row {first.row}")
        frame = output_frame(self._id_name, chunk.ids, chunk.scored, precision=self._precision)
        self.writer.write(frame)
        self.errors.write(chunk.problems)
        self.scored += len(chunk.ids)
        self.skipped += len(chunk.problems)

    def commit(self) -> tuple[int, int]:
        """Flush and fsync the output, then the errors file; their positions."""
        return self.writer.commit(), self.errors.commit()

    def finish(self, *, resumable: bool) -> None:
        try:
            self.writer.finish(resumable=resumable)
        finally:
            self.errors.close()

    def abort(self) -> None:
        """Close files after an unexpected error, leaving them as the last commit left them."""
        try:
            self.writer.abort()
        finally:
            self.errors.close()


def _open_at(path: Path, position: int | None, *, what: str) -> IO[bytes]:
    """`path` opened for appending: created empty, or cut back to `position` bytes.

    Raises:
        ResumeError: the file is missing or shorter than the checkpoint says.
    """
    if position is None:
        try:
            return path.open("wb")
        except OSError as exc:
            raise BatchError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        handle = path.open("r+b")
    except FileNotFoundError as exc:
        raise ResumeError(
            f"the {what} {path} is gone; run again without --resume to start over"
        ) from exc
    size = handle.seek(0, os.SEEK_END)
    if size < position:
        handle.close()
        raise ResumeError(
            f"the {what} {path} has {size:,} bytes but the checkpoint says {position:,} were "
            "written; run again without --resume to start over"
        )
    handle.truncate(position)
    handle.seek(position)
    return handle


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def restore_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """score_frame's columns back to the types it gives (after a trip through object)."""
    out = frame.copy()
    for name in OUTPUT_COLUMNS:
        kind = column_kind(name)
        if kind == "bool":
            out[name] = out[name].astype(bool)
        elif kind == "float":
            out[name] = out[name].astype(np.float64)
        else:
            out[name] = out[name].astype(object)
    return out

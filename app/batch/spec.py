"""What a batch run is asked to do: formats, columns, options, and the errors it can report.

`resolve_job` turns command-line values into a checked `BatchJob`, so both engines and the
checkpoint see one description of the run and refuse bad combinations before any file is
opened for writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.errors import AppError

STDIO = "-"
DEFAULT_CHUNK_SIZE = 2_000
# Input bytes per Dask partition: ~20,000 comments of ~200 bytes, a few seconds of scoring.
DEFAULT_BLOCKSIZE = 4 * 1024 * 1024
ROW_COLUMN = "row"
# The output column that names the raised heads, e.g. "hate,toxic".
FLAGS_COLUMN = "flags"
DEFAULT_PRECISION = 3
# A double needs up to 17 significant digits to come back unchanged; 17 decimals would still
# cut a probability under 0.1, so this value means "as scored" rather than 17 decimals.
EXACT_PRECISION = 17
EXTENSIONS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class OnError(StrEnum):
    fail = "fail"
    skip = "skip"


class BatchError(AppError):
    """A batch run cannot go on: bad options, an unreadable input, a refused resume."""

    code = "batch_error"


class MissingColumnError(BatchError):
    """The input has no column of the name the run was told to read."""

    code = "missing_column"


class RowError(BatchError):
    """A row cannot be scored and the run was told to stop at the first such row."""

    code = "invalid_row"


class ResumeError(BatchError):
    """`--resume` cannot continue this run; the message says why and what to do."""

    code = "cannot_resume"


@dataclass(frozen=True)
class Columns:
    """The input columns a run reads; only `text` is required.

    A run given no id column reads one of the usual names when the input has it (see
    `app.batch.readers.with_found_id`); the readers hand on the columns with it filled in.
    """

    text: str = "text"
    id: str | None = None
    parent: str | None = None
    topic: str | None = None

    @property
    def wanted(self) -> list[str]:
        """The distinct configured columns, text first."""
        names = [self.text, self.id, self.parent, self.topic]
        return list(dict.fromkeys(n for n in names if n is not None))

    @property
    def id_output(self) -> str:
        """The name of the output's first column: the id column, or `row`."""
        return self.id or ROW_COLUMN


@dataclass(frozen=True)
class BatchJob:
    """A checked batch run: where to read and write, how, and what to do with bad rows."""

    source: str
    output: str
    input_format: Format
    output_format: Format
    columns: Columns
    chunk_size: int = DEFAULT_CHUNK_SIZE
    evidence: bool = True
    on_error: OnError = OnError.fail
    # None sends skipped rows to stderr (output to stdout and no --errors-file).
    errors_file: str | None = None
    # Decimals of the probabilities and evidence weights; EXACT_PRECISION keeps them as scored.
    precision: int = DEFAULT_PRECISION

    @property
    def reads_stdin(self) -> bool:
        return self.source == STDIO

    @property
    def writes_stdout(self) -> bool:
        return self.output == STDIO


def resolve_job(
    source: str,
    output: str = STDIO,
    *,
    input_format: Format | None = None,
    output_format: Format | None = None,
    columns: Columns | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    evidence: bool = True,
    on_error: OnError = OnError.fail,
    errors_file: str | None = None,
    precision: int = DEFAULT_PRECISION,
) -> BatchJob:
    """A `BatchJob` with formats filled in from extensions and every option checked.

    Raises:
        BatchError: a format cannot be told, the output would overwrite the input, an id
            column name clashes with a score column, the chunk size is not positive, or
            the precision is outside 0 to EXACT_PRECISION.
    """
    columns = columns or Columns()
    if chunk_size < 1:
        raise BatchError(f"--chunk-size must be at least 1, not {chunk_size}")
    if not 0 <= precision <= EXACT_PRECISION:
        raise BatchError(
            f"--precision must be a number of decimals from 0 to {EXACT_PRECISION} "
            f"({EXACT_PRECISION}: the exact values), not {precision}",
            field="precision",
        )
    if input_format is None:
        if source == STDIO:
            raise BatchError("reading stdin needs --format csv, jsonl or parquet")
        input_format = _known_format(source, "--format")
    if output_format is None:
        if output == STDIO:
            output_format = Format.jsonl
        else:
            output_format = _extension_format(output) or input_format
    if columns.id is not None and columns.id in _output_columns():
        raise BatchError(
            f"--id-column {columns.id!r} has the name of a score column; rename it in the input",
            field="id_column",
        )
    if source != STDIO and not Path(source).is_file():
        raise BatchError(f"{source}: no such file")
    if output != STDIO:
        _check_output(source, output)
        if errors_file is None:
            errors_file = output + ".errors.jsonl"
    if errors_file is not None and errors_file in (source, output):
        raise BatchError(f"--errors-file {errors_file} is also the input or the output")
    return BatchJob(
        source=source,
        output=output,
        input_format=input_format,
        output_format=output_format,
        columns=columns,
        chunk_size=chunk_size,
        evidence=evidence,
        on_error=on_error,
        errors_file=errors_file,
        precision=precision,
    )


def _extension_format(path: str) -> Format | None:
    suffix = Path(path).suffix.lower()
    return Format(EXTENSIONS[suffix]) if suffix in EXTENSIONS else None


def _known_format(path: str, option: str) -> Format:
    found = _extension_format(path)
    if found is None:
        known = ", ".join(EXTENSIONS)
        raise BatchError(
            f"cannot tell the format of {path} from its extension (known: {known}); "
            f"use {option} csv, jsonl or parquet"
        )
    return found


def _check_output(source: str, output: str) -> None:
    target = Path(output)
    if not target.parent.is_dir():
        raise BatchError(f"{output}: the folder {target.parent} does not exist")
    if source != STDIO and target.exists() and target.resolve() == Path(source).resolve():
        raise BatchError(f"{output} is the input file; write the scores somewhere else")


def _output_columns() -> tuple[str, ...]:
    """The output's score columns: the scorer's (`app.labels`, which imports nothing heavy)
    and the flags."""
    from app.labels import OUTPUT_COLUMNS

    return (*OUTPUT_COLUMNS, FLAGS_COLUMN)

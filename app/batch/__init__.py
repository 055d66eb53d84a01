"""Batch scoring of comment files: `threadguard score INPUT -o OUTPUT`.

CSV, JSONL or Parquet in, CSV, JSONL or Parquet out, one output row per input row in input
order: the id column (`--id-column`, else one of the usual id names the input has, else the
0-based row number) followed by `app.scoring.OUTPUT_COLUMNS` and `flags` (the raised heads,
"hate,toxic"), probabilities rounded to `--precision` decimals. Every row goes through
`app.scoring.score_frame`.

- `spec`: the checked description of a run (`BatchJob`) and its errors.
- `readers`: streaming readers, one bounded chunk at a time.
- `rows`: per-row checks and `score_chunk`, shared by both engines.
- `output`: the writers, the errors side file, and how Parquet output survives `kill -9`.
- `checkpoint`: what `--resume` continues from.
- `local`: the local engine; `dask_engine` and `partitions`: the Dask engine (imported
  only when used: dask and distributed take a second to import).
"""

from typing import TYPE_CHECKING, Any

from app.batch.spec import (
    DEFAULT_BLOCKSIZE,
    DEFAULT_CHUNK_SIZE,
    BatchError,
    BatchJob,
    Columns,
    Format,
    MissingColumnError,
    OnError,
    ResumeError,
    RowError,
    resolve_job,
)

if TYPE_CHECKING:
    from app.batch.local import Summary, run_local

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "DEFAULT_CHUNK_SIZE",
    "BatchError",
    "BatchJob",
    "Columns",
    "Format",
    "MissingColumnError",
    "OnError",
    "ResumeError",
    "RowError",
    "Summary",
    "resolve_job",
    "run_local",
]


def __getattr__(name: str) -> Any:
    """`Summary` and `run_local`, imported on first use: app.batch.local brings pandas,
    pyarrow and the scorer, and `app.batch.spec` alone is enough for the CLI's options."""
    if name in ("Summary", "run_local"):
        from app.batch import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The Dask engine: the input as a `dask.dataframe`, each partition scored on a worker.

The input becomes a dask DataFrame with `dd.from_map(read_part, parts)` (partitions of
about `--blocksize` bytes, cut on row boundaries: see `app.batch.partitions` for why not
`dd.read_csv`), and `map_partitions(score_partition, ...)` scores each partition with the
same `score_chunk` -> `score_frame` as the local engine, `--chunk-size` rows at a time.
This process gathers the scored partitions in input order, at most a few ahead of the
one it is writing, and writes them with the local engine's writers. So the output, its
order, the row numbers, `--on-error fail|skip` and the errors file are the same as with
`--engine local`, and memory stays bounded on both sides.

The model: each worker process loads the bundle once, on its first partition, through a
module-level `functools.lru_cache` keyed by the version directory. A worker plugin would
load it at start-up on every worker, including workers that never get a partition and
workers of a shared cluster that serve other jobs; the cache is lazy, needs no
registration with the scheduler, and works the same under any scheduler. The version
directory (what `CURRENT` names) is resolved once here, so every worker scores with the
same version even if `CURRENT` moves during the run.

Supported as in the local engine: CSV, JSONL and Parquet in and out, stdout, every
column option, `--evidence/--no-evidence`, `--on-error`, `--errors-file`, progress.
Not supported: `--resume` (refused; a Dask run has no checkpoint, rerun it or resume
with the local engine), and stdin input (workers read the file by its path). With
`--scheduler`, the input and the model directory must be at the same paths on the
workers; the output is written by this process.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Any

import dask
import dask.dataframe as dd
import pandas as pd
from distributed import Client, Future, KilledWorker, LocalCluster
from distributed.client import FutureCancelledError

from app import registry
from app.batch import checkpoint as checkpoints
from app.batch.local import Summary
from app.batch.output import BatchOutput, ErrorLog, column_kind, open_writer, restore_dtypes
from app.batch.partitions import Part, plan, read_part
from app.batch.progress import Reporter
from app.batch.rows import RawChunk, RowProblem, ScoredChunk, score_chunk
from app.batch.spec import DEFAULT_BLOCKSIZE, BatchError, BatchJob, Columns
from app.labels import OUTPUT_COLUMNS
from app.registry import LoadedModel
from app.scoring import EVIDENCE_TOP

BROKEN = "__threadguard_broken__"
ROW = "__threadguard_row__"
ID = "__threadguard_id__"
ERROR = "__threadguard_error__"


@functools.lru_cache(maxsize=2)
def worker_model(version_dir: str, digest: str) -> LoadedModel:
    """The bundle in `version_dir`, checked against its recorded digest, loaded once per process."""
    return registry.load(Path(version_dir), digest=digest)


def read_partition(part: Part) -> pd.DataFrame:
    """A partition's rows as a frame: the configured columns and why a row is unreadable."""
    chunk = read_part(part)
    data: dict[str, pd.Series[Any]] = {}
    columns = part.columns
    for name, values in (
        (columns.text, chunk.text),
        (columns.id, chunk.ids),
        (columns.parent, chunk.parents),
        (columns.topic, chunk.topics),
    ):
        if name is not None and values is not None:
            data[name] = pd.Series(values, dtype=object)
    broken = [chunk.broken.get(i) for i in range(chunk.size)]
    data[BROKEN] = pd.Series(broken, dtype=object)
    return pd.DataFrame(data)


def _raw_meta(columns: Columns) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in [*columns.wanted, BROKEN]})


def _scored_meta(columns: Columns) -> pd.DataFrame:
    dtypes: dict[str, Any] = {"bool": bool, "float": "float64", "text": object}
    data: dict[str, pd.Series[Any]] = {
        ROW: pd.Series([], dtype="int64"),
        ID: pd.Series([], dtype=object),
        ERROR: pd.Series([], dtype=object),
    }
    for name in OUTPUT_COLUMNS:
        data[name] = pd.Series([], dtype=dtypes[column_kind(name)])
    return pd.DataFrame(data)


def _chunk_of(frame: pd.DataFrame, columns: Columns) -> RawChunk:
    def values(name: str | None) -> list[Any] | None:
        return frame[name].tolist() if name is not None else None

    broken = {i: reason for i, reason in enumerate(frame[BROKEN].tolist()) if reason}
    return RawChunk(
        start=0,
        text=frame[columns.text].tolist(),
        ids=values(columns.id),
        parents=values(columns.parent),
        topics=values(columns.topic),
        broken=broken,
    )


def score_partition(
    frame: pd.DataFrame,
    version_dir: str,
    digest: str,
    columns: Columns,
    chunk_size: int,
    evidence_top: int,
) -> pd.DataFrame:
    """Score one partition on a worker: one output row per input row, in order.

    Scored rows carry the score columns; a bad row carries its reason in the error column
    (and placeholders in the score columns, which the writer never sees).
    """
    model = worker_model(version_dir, digest)
    raw = _chunk_of(frame, columns)
    pieces: list[pd.DataFrame] = []
    for first in range(0, raw.size, chunk_size):
        scored = score_chunk(
            model, raw.window(first, first + chunk_size), columns, evidence_top=evidence_top
        )
        pieces.append(_pack(scored))
    if not pieces:
        return _scored_meta(columns)
    packed = pd.concat(pieces, ignore_index=True)
    return packed.sort_values(ROW, kind="stable").reset_index(drop=True)


def _pack(chunk: ScoredChunk) -> pd.DataFrame:
    scored = chunk.scored.reset_index(drop=True)
    scored.insert(0, ERROR, pd.Series([None] * len(scored), dtype=object))
    scored.insert(0, ID, pd.Series(chunk.ids, dtype=object))
    scored.insert(0, ROW, pd.Series(chunk.rows, dtype="int64"))
    if not chunk.problems:
        return scored
    placeholder = {"bool": False, "float": float("nan"), "text": None}
    bad = pd.DataFrame(
        {
            ROW: pd.Series([p.row for p in chunk.problems], dtype="int64"),
            ID: pd.Series([p.id for p in chunk.problems], dtype=object),
            ERROR: pd.Series([p.message for p in chunk.problems], dtype=object),
            **{
                name: [placeholder[column_kind(name)]] * len(chunk.problems)
                for name in OUTPUT_COLUMNS
            },
        }
    )
    return pd.concat([scored, bad], ignore_index=True) if len(scored) else bad


def unpack(packed: pd.DataFrame) -> ScoredChunk:
    """A scored partition back as a chunk numbered from 0."""
    failed = packed[ERROR].notna()
    good = packed[~failed]
    problems = [
        RowProblem(int(row), row_id, str(error))
        for row, row_id, error in zip(
            packed.loc[failed, ROW], packed.loc[failed, ID], packed.loc[failed, ERROR], strict=True
        )
    ]
    scored = restore_dtypes(good[list(OUTPUT_COLUMNS)].reset_index(drop=True))
    return ScoredChunk(
        start=0,
        size=len(packed),
        rows=[int(r) for r in good[ROW]],
        ids=good[ID].tolist(),
        scored=scored,
        problems=problems,
    )


def run_dask(
    job: BatchJob,
    model_dir: Path,
    *,
    scheduler: str | None,
    workers: int,
    blocksize: int = DEFAULT_BLOCKSIZE,
    stdout: IO[bytes],
    reporter: Reporter,
    warn: Callable[[str], None],
) -> Summary:
    """Score the job's input on a Dask cluster (a local one unless `scheduler` is given).

    Raises:
        BatchError: stdin input, an unreachable scheduler, a worker that died.
        RowError: a bad row with `--on-error fail`; the partitions before it are kept.
        MissingColumnError: the input lacks a configured column (nothing is written).
        ModelArtifactError: the model cannot be loaded (here or on a worker).
    """
    started = time.monotonic()
    if job.reads_stdin:
        raise BatchError(
            "--engine dask reads INPUT by its path on every worker; it cannot read stdin "
            "(write it to a file, or use --engine local)"
        )
    # Checked here, not on every worker; the workers check the same digest again.
    checked = registry.load_current(model_dir)
    version_dir, digest = checked.path, checked.digest
    assert digest is not None  # load_current refuses a CURRENT without one
    layout = plan(job, blocksize)
    columns = layout.columns  # with the id column the input has, if none was given
    if not job.writes_stdout:
        stale = checkpoints.checkpoint_path(job.output)
        if stale.exists():
            warn(f"starting over: {job.output} and its checkpoint from an earlier run are replaced")
            stale.unlink()
    with dask.config.set({"dataframe.convert-string": False}):
        raw = dd.from_map(  # type: ignore[no-untyped-call]
            read_partition, layout.parts, meta=_raw_meta(columns)
        )
        scored = raw.map_partitions(
            score_partition,
            str(version_dir),
            digest,
            columns,
            job.chunk_size,
            EVIDENCE_TOP if job.evidence else 0,
            meta=_scored_meta(columns),
        )
        tasks = scored.to_delayed() if layout.parts else []
    writer = open_writer(
        job.output_format,
        stdout if job.writes_stdout else job.output,
        columns.id_output,
        id_integer=columns.id is None or layout.id_integer,
    )
    output = BatchOutput(
        writer,
        ErrorLog(job.errors_file, resume_at=None, warn=warn),
        id_name=columns.id_output,
        on_error=job.on_error,
        precision=job.precision,
    )
    rows = 0
    position = 0
    try:
        with _client(scheduler, workers) as client:
            reporter.start(total=layout.total, position=0, rows_before=0)
            threads = client.nthreads()  # type: ignore[no-untyped-call]
            window = max(2, 2 * sum(threads.values()))
            # closing(): on a bad row, cancel the partitions in flight before the client goes.
            with closing(_in_order(client, tasks, window)) as results:
                for index, packed in results:
                    chunk = unpack(packed).shifted(rows, ids_are_rows=columns.id is None)
                    output.accept(chunk)
                    output.commit()
                    rows += chunk.size
                    position += layout.parts[index].units
                    reporter.update(rows=rows, position=position)
    finally:
        reporter.stop()
        output.finish(resumable=False)  # no checkpoint: keep what was written, no parts
    return Summary(
        rows=rows,
        scored=output.scored,
        skipped=output.skipped,
        resumed_after=0,
        seconds=time.monotonic() - started,
    )


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the given scheduler, or of a local cluster closed on exit.

    Raises:
        BatchError: the scheduler cannot be reached.
    """
    if scheduler is not None:
        try:
            # Waits up to dask's `distributed.comm.timeouts.connect` (30 s by default).
            client = Client(scheduler)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler serves health and metrics over HTTP even without a dashboard;
            # on a free loopback port rather than the fixed, often taken, 8787.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _in_order(
    client: Client, tasks: list[Any], window: int
) -> Generator[tuple[int, pd.DataFrame], None, None]:
    """Each partition's result in order, with at most `window` computing at once.

    Raises:
        BatchError: a worker died while scoring a partition.
    """
    pending: deque[tuple[int, Future[pd.DataFrame]]] = deque()
    submitted = 0
    try:
        while submitted < len(tasks) or pending:
            while submitted < len(tasks) and len(pending) < window:
                future = client.compute(tasks[submitted])  # type: ignore[no-untyped-call]
                pending.append((submitted, future))
                submitted += 1
            index, future = pending.popleft()
            try:
                result = future.result()
            except (FutureCancelledError, KilledWorker) as exc:
                raise BatchError(
                    f"partition {index} could not be scored: a Dask worker died or the "
                    f"task was cancelled ({exc})"
                ) from exc
            future.release()  # type: ignore[no-untyped-call]
            yield index, result
    finally:
        for _, future in pending:
            future.cancel()  # type: ignore[no-untyped-call]

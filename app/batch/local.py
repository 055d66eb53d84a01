"""The local engine: one process reads, scores and writes the input chunk by chunk.

At most one input chunk and its scores are alive at a time, so memory is bounded by
`--chunk-size`, not by the input. Output to a file is checkpointed after every chunk (see
`app.batch.checkpoint`), which is what `--resume` continues from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.batch import checkpoint as checkpoints
from app.batch.checkpoint import Checkpoint
from app.batch.output import BatchOutput, ErrorLog, open_writer
from app.batch.progress import Reporter
from app.batch.readers import open_reader
from app.batch.rows import score_chunk
from app.batch.spec import BatchJob, ResumeError, RowError
from app.registry import LoadedModel
from app.scoring import EVIDENCE_TOP


@dataclass(frozen=True)
class Summary:
    """What a run did: rows read by this run, scored and skipped, and how long it took."""

    rows: int
    scored: int
    skipped: int
    resumed_after: int
    seconds: float


def run_local(
    job: BatchJob,
    model: LoadedModel,
    *,
    stdin: IO[bytes],
    stdout: IO[bytes],
    reporter: Reporter,
    warn: Callable[[str], None],
    resume: bool = False,
) -> Summary:
    """Score the job's input into its output with `model`, chunk by chunk, in input order.

    Raises:
        ResumeError: `resume` and the run cannot be resumed (see `app.batch.checkpoint`).
        RowError: a bad row with `--on-error fail`; the chunks before it are kept.
        MissingColumnError: the input lacks a configured column (nothing is written).
        BatchError: the input cannot be read or the output written.
    """
    started = time.monotonic()
    to_file = not job.writes_stdout
    # Only a run from an input file into an output file can be resumed.
    resumable = to_file and not job.reads_stdin
    state_path = checkpoints.checkpoint_path(job.output) if resumable else None
    options = checkpoints.run_options(job, model.version)
    previous: Checkpoint | None = None
    if resume:
        if state_path is None:
            raise ResumeError(
                "--resume needs an input file and an output file (-o); stdin and stdout "
                "cannot be rewound"
            )
        previous = checkpoints.load(state_path)
        checkpoints.check_resumable(previous, Path(job.source), options, state_path)
    elif state_path is not None and state_path.exists():
        warn(f"starting over: {job.output} and its checkpoint from an earlier run are replaced")
        state_path.unlink()

    skip = previous.rows_done if previous else 0
    reader = open_reader(job, stdin, skip_rows=skip)
    try:
        columns = reader.columns  # with the id column the input has, if none was given
        writer = open_writer(
            job.output_format,
            job.output if to_file else stdout,
            columns.id_output,
            id_integer=columns.id is None or reader.id_integer,
            resume_at=previous.output_position if previous else None,
        )
        errors = ErrorLog(
            job.errors_file,
            resume_at=previous.errors_position if previous else None,
            warn=warn,
        )
        output = BatchOutput(
            writer,
            errors,
            id_name=columns.id_output,
            on_error=job.on_error,
            precision=job.precision,
        )
        done = skip
        scored_before = previous.scored if previous else 0
        skipped_before = previous.skipped if previous else 0

        source_fingerprint = checkpoints.fingerprint(Path(job.source)) if state_path else {}

        def save(rows_done: int) -> None:
            if state_path is None:
                return
            output_position, errors_position = output.commit()
            checkpoints.save(
                state_path,
                Checkpoint(
                    input=source_fingerprint,
                    options=options,
                    rows_done=rows_done,
                    output_position=output_position,
                    errors_position=errors_position,
                    scored=scored_before + output.scored,
                    skipped=skipped_before + output.skipped,
                ),
            )

        if previous is None:
            save(0)  # a run killed in its first chunk can already be resumed
        evidence_top = EVIDENCE_TOP if job.evidence else 0
        reporter.start(total=reader.total, position=reader.position(), rows_before=skip)
        try:
            for chunk in reader:
                scored = score_chunk(model, chunk, columns, evidence_top=evidence_top)
                output.accept(scored)
                done = scored.end
                if state_path is not None:
                    save(done)
                else:
                    output.commit()
                reporter.update(rows=done, position=reader.position())
        except RowError as exc:
            output.finish(resumable=state_path is not None)
            if state_path is None or done == 0:
                raise RowError(
                    f"{exc.message} (--on-error skip leaves bad rows out)", field=exc.field
                ) from exc
            rows = f"{done:,} row{'s' if done != 1 else ''}"
            raise RowError(
                f"{exc.message}. {job.output} holds the {rows} before its chunk; "
                "--resume --on-error skip goes on from there and leaves bad rows out",
                field=exc.field,
            ) from exc
        except BaseException:
            output.abort()
            raise
        finally:
            reporter.stop()
        output.finish(resumable=False)
        if state_path is not None:
            state_path.unlink(missing_ok=True)
    finally:
        reader.close()
    return Summary(
        rows=done - skip,
        scored=output.scored,
        skipped=output.skipped,
        resumed_after=skip,
        seconds=time.monotonic() - started,
    )

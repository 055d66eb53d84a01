"""`threadguard score INPUT [-o OUTPUT]`: score a CSV, JSONL or Parquet file of comments.

A thin shell over `app.batch`: it checks the options, loads the model, picks a progress
display and an engine, and prints a summary on stderr. Registered in app/cli.py with
`app.command("score")(score_command)`.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app import registry
from app.batch.spec import (
    DEFAULT_BLOCKSIZE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PRECISION,
    EXACT_PRECISION,
    BatchError,
    Columns,
    Format,
    OnError,
    resolve_job,
)
from app.commands import announce_model, reports_errors
from app.text import plural
from app.threads.options import CANDIDATES

if TYPE_CHECKING:
    from app.batch.local import Summary

# The engines (pandas, pyarrow, the scorer with scikit-learn; Dask) and the progress
# display are imported inside `score_command`: `threadguard --help` builds this command's
# options from `app.batch.spec` alone.


class Engine(StrEnum):
    local = "local"
    dask = "dask"


# Help panels: each panel is a table of its own, so the wide columns one option needs
# (`--no-evidence`, a long type) do not squeeze every other option's help at 80 columns.
INPUT_COLUMNS_PANEL = "Input columns"
OUTPUT_COLUMNS_PANEL = "Output columns"
BAD_ROWS_PANEL = "Bad rows and resuming"
DASK_PANEL = "Dask engine"


@reports_errors
def score_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="A .csv, .jsonl or .parquet file of comments, or '-' for stdin.",
            show_default=False,
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="Where to write the scores; '-' (the default) is stdout."
        ),
    ] = "-",
    input_format: Annotated[
        Format | None,
        typer.Option("--format", help="The input's format (default: from its extension)."),
    ] = None,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--output-format",
            help="The output's format (default: from its extension, else the input's; "
            "JSONL on stdout).",
        ),
    ] = None,
    text_column: Annotated[
        str,
        typer.Option(
            "--text-column",
            help="The column holding the comment text.",
            rich_help_panel=INPUT_COLUMNS_PANEL,
        ),
    ] = "text",
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column",
            help="A column identifying each row, copied to the output and the errors file "
            f"(default: the first of {', '.join(CANDIDATES['id'])} the input has, else the "
            "0-based row number, in a 'row' column).",
            rich_help_panel=INPUT_COLUMNS_PANEL,
        ),
    ] = None,
    parent_column: Annotated[
        str | None,
        typer.Option(
            "--parent-column",
            help="The column holding the parent comment's text.",
            rich_help_panel=INPUT_COLUMNS_PANEL,
        ),
    ] = None,
    topic_column: Annotated[
        str | None,
        typer.Option(
            "--topic-column",
            help="The column holding the thread's topic.",
            rich_help_panel=INPUT_COLUMNS_PANEL,
        ),
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size", min=1, max=1_000_000, help="Rows read, scored and written at once."
        ),
    ] = DEFAULT_CHUNK_SIZE,
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence/--no-evidence",
            help="Give the words behind each raised flag.",
            rich_help_panel=OUTPUT_COLUMNS_PANEL,
        ),
    ] = True,
    precision: Annotated[
        int,
        typer.Option(
            "--precision",
            min=0,
            max=EXACT_PRECISION,
            help=f"Decimals kept of each probability and evidence weight ({EXACT_PRECISION}: "
            "the exact values).",
            rich_help_panel=OUTPUT_COLUMNS_PANEL,
        ),
    ] = DEFAULT_PRECISION,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir",
            help="Folder with CURRENT and the model versions (default: THREADGUARD_MODEL_DIR "
            "or the repository's models/).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted run into the same OUTPUT, from its checkpoint "
            "OUTPUT.progress.json (local engine, files only).",
            rich_help_panel=BAD_ROWS_PANEL,
        ),
    ] = False,
    on_error: Annotated[
        OnError,
        typer.Option(
            "--on-error",
            help="At a bad row: 'fail' stops (exit code 2), 'skip' leaves it out and lists "
            "it in the errors file.",
            rich_help_panel=BAD_ROWS_PANEL,
        ),
    ] = OnError.fail,
    errors_file: Annotated[
        str | None,
        typer.Option(
            "--errors-file",
            help="Where skipped rows are listed, one JSON object a line (default: "
            "OUTPUT.errors.jsonl; on stdout output, warnings on stderr).",
            rich_help_panel=BAD_ROWS_PANEL,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="'local': this process; 'dask': a Dask cluster.",
            rich_help_panel=DASK_PANEL,
        ),
    ] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (default: start a local cluster).",
            rich_help_panel=DASK_PANEL,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=256,
            help="Worker processes of the local Dask cluster.",
            rich_help_panel=DASK_PANEL,
        ),
    ] = 2,
    blocksize: Annotated[
        int,
        typer.Option(
            "--blocksize",
            min=1024,
            help="Bytes of input per partition.",
            rich_help_panel=DASK_PANEL,
        ),
    ] = DEFAULT_BLOCKSIZE,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display and no summary.")
    ] = False,
) -> None:
    """Score a CSV, JSONL or Parquet file of comments, streaming, into CSV, JSONL or Parquet."""
    from rich.console import Console
    from rich.markup import escape

    from app.batch.progress import make_reporter

    if engine is Engine.local and scheduler is not None:
        raise BatchError("--scheduler needs --engine dask")
    job = resolve_job(
        source,
        output,
        input_format=input_format,
        output_format=output_format,
        columns=Columns(text_column, id_column, parent_column, topic_column),
        chunk_size=chunk_size,
        evidence=evidence,
        on_error=on_error,
        errors_file=errors_file,
        precision=precision,
    )
    console = Console(stderr=True, highlight=False, soft_wrap=True)

    def warn(message: str) -> None:
        console.print(f"[yellow]warning:[/] {escape(message)}")

    reporter = make_reporter(quiet=quiet, console=console)
    stdout = sys.stdout.buffer
    models = model_dir or registry.default_model_dir()
    summary: Summary
    if engine is Engine.dask:
        if resume:
            raise BatchError(
                "--resume works with the local engine only: a Dask run keeps no checkpoint. "
                "Rerun the whole input, or use --engine local for a run that can be resumed"
            )
        if not quiet:
            # Each Dask worker loads this bundle itself; the line says which one.
            announce_model(models)
        from app.batch.dask_engine import run_dask  # dask takes a second to import

        summary = run_dask(
            job,
            models,
            scheduler=scheduler,
            workers=workers,
            blocksize=blocksize,
            stdout=stdout,
            reporter=reporter,
            warn=warn,
        )
    else:
        if not quiet:
            announce_model(models)
        model = registry.load_current(models)
        from app.batch.local import run_local

        summary = run_local(
            job,
            model,
            stdin=sys.stdin.buffer,
            stdout=stdout,
            reporter=reporter,
            warn=warn,
            resume=resume,
        )
    if not quiet:
        console.print(escape(_summary_line(summary, job.errors_file)))


def _summary_line(summary: Summary, errors_file: str | None) -> str:
    rate = summary.rows / summary.seconds if summary.seconds > 0 else 0.0
    parts = [f"scored {plural(summary.scored, 'row')}"]
    if summary.skipped:
        where = f" (listed in {errors_file})" if errors_file else ""
        parts.append(f"skipped {summary.skipped:,}{where}")
    if summary.resumed_after:
        parts.append(f"resumed after {summary.resumed_after:,}")
    return ", ".join(parts) + f" in {summary.seconds:,.1f} s ({rate:,.0f} rows/s)"

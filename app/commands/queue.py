"""`threadguard queue …`: ingest pages or scored rows, list items, stats, export decisions.

Listings and exports go to stdout (JSON lines), messages and progress to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import registry
from app.commands import ModelDirOption, announce_model, reports_errors
from app.commands.db import DatabaseUrlOption, migrated_engine
from app.errors import AppError
from app.text import noun_for, plural
from app.threads import FORMATS

if TYPE_CHECKING:
    from app.queue.ingest import Incoming, IngestResult
    from app.queue.review import export_feedback as export_feedback

# app.queue.ingest and app.queue.review bring SQLAlchemy, pandas and the scorer
# (scikit-learn); they are imported inside the commands, so that building the CLI stays
# fast.


def __getattr__(name: str) -> Any:
    """`export_feedback` stays an attribute of this module, imported on first use, so a test
    can replace it here; `export_command` reads it through the module."""
    if name == "export_feedback":
        from app.queue.review import export_feedback

        globals()[name] = export_feedback
        return export_feedback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


queue_app = typer.Typer(
    help="The moderator review queue: put comments in, look at it, export decisions.",
    no_args_is_help=True,
    add_completion=False,
)

# The identity and text fields a scored row may use; `threadguard score` writes `id`.
_ID_FIELDS = ("comment_id", "id")
_SCORE_FIELDS = ("hate", "toxic", "conspiracy")
_ROW_FIELDS = frozenset(
    {
        "comment_id",
        "id",
        "text",
        "parent_id",
        "author",
        "posted_at",
        "scores",
        "report",
        "row",
        "flags",
    }
)


class Kind(StrEnum):
    auto = "auto"
    page = "page"
    scored = "scored"


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="A policy TOML laid over the default (default: THREADGUARD_POLICY_FILE).",
    ),
]


def _looks_scored(data: bytes) -> bool:
    """Whether the first JSON line is a scored row (it has the three head probabilities)."""
    first = data.lstrip()[: 1 << 20].split(b"\n", 1)[0]
    try:
        value = json.loads(first)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(value, dict):
        return False
    nested = value.get("scores")
    scores: dict[str, object] = nested if isinstance(nested, dict) else value
    return all(name in scores for name in _SCORE_FIELDS) and "text" in value


def _scored_rows(data: bytes, name: str) -> Iterator[Incoming]:
    from app.queue.ingest import Incoming, IngestError, Report

    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{name} line {number}"
        try:
            row = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise IngestError(f"{where}: not JSON ({exc})") from exc
        if not isinstance(row, dict):
            raise IngestError(f"{where}: expected a JSON object")
        comment_id = next((row[f] for f in _ID_FIELDS if row.get(f) is not None), None)
        if comment_id is None:
            raise IngestError(f"{where}: no comment_id (or id)")
        text = row.get("text")
        if text is not None and not isinstance(text, str):
            raise IngestError(f"{where}: text must be a string")
        scores = row.get("scores")
        if scores is None and any(name in row for name in _SCORE_FIELDS):
            scores = {k: v for k, v in row.items() if k not in _ROW_FIELDS}
        report = row.get("report")
        posted = row.get("posted_at")
        try:
            posted_at = datetime.fromisoformat(posted) if isinstance(posted, str) else None
        except ValueError as exc:
            raise IngestError(f"{where}: posted_at {posted!r} is not ISO-8601") from exc
        if posted_at is not None and posted_at.tzinfo is None:
            posted_at = posted_at.replace(tzinfo=UTC)
        yield Incoming(
            comment_id=str(comment_id),
            text=text,
            parent_id=None if row.get("parent_id") is None else str(row["parent_id"]),
            author=row.get("author"),
            posted_at=posted_at,
            scores=scores,
            report=(
                Report(str(report.get("reason", "reported")), report.get("reporter"))
                if isinstance(report, dict)
                else None
            ),
        )


@queue_app.command("ingest")
@reports_errors
def ingest_command(
    page: Annotated[str, typer.Argument(help="A saved page or export, a scored JSONL, or -.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="What identifies the thread across ingests (default for a page: its URL, "
            "else a hash of its article and first comment; required for scored rows).",
        ),
    ] = None,
    kind: Annotated[
        Kind,
        typer.Option(
            "--kind",
            help="page (parse it), scored (JSON lines of comments with scores), or auto.",
        ),
    ] = Kind.auto,
    format: Annotated[
        str | None, typer.Option("--format", help=f"The page's format: {', '.join(FORMATS)}.")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Scored rows: the thread's topic.")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="JSON/CSV: the comment id field.")] = None,
    parent_column: Annotated[
        str | None, typer.Option(help="JSON/CSV: the parent id field.")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="JSON/CSV: the text field.")] = None,
    author_column: Annotated[str | None, typer.Option(help="JSON/CSV: the author field.")] = None,
    date_column: Annotated[str | None, typer.Option(help="JSON/CSV: the date field.")] = None,
    include_pingbacks: Annotated[
        bool,
        typer.Option("--include-pingbacks", help="Queue a page's pingbacks and trackbacks too."),
    ] = False,
    database_url: DatabaseUrlOption = None,
    model_dir: ModelDirOption = None,
    policy_file: PolicyOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
) -> None:
    """Put a page's comments (or scored rows) into the review queue; reruns add only changes."""
    from rich.console import Console

    from app.batch.progress import make_reporter
    from app.config import load_settings
    from app.policy import load_policy
    from app.queue.ingest import (
        IngestError,
        ThreadInfo,
        checked_source,
        ingest_comments,
        ingest_thread,
    )
    from app.threads import Columns, ParseOptions, parse
    from app.threads.source import read_source

    settings = load_settings()
    data = read_source(page, allow_fetch=False, max_bytes=settings.max_body_bytes).data
    scored = kind is Kind.scored or (kind is Kind.auto and format is None and _looks_scored(data))
    # The input is read and checked before the model is loaded (seconds), so a bad page or
    # a bad scored line is reported at once, alone on stderr.
    if scored:
        if source is None:
            raise IngestError("scored rows need --source: the thread they belong to")
        rows = list(_scored_rows(data, page))
        info = ThreadInfo(source=checked_source(source), source_format="scored", title=title)
    else:
        # The same column names as `threadguard parse` takes, for a CSV or JSON export.
        options = ParseOptions(
            max_bytes=settings.max_body_bytes,
            max_comments=settings.max_thread_comments,
            columns=Columns(
                id=id_column,
                parent=parent_column,
                text=text_column,
                author=author_column,
                date=date_column,
            ),
            include_pingbacks=include_pingbacks,
        )
        thread = parse(data, format=format, options=options)
    models = model_dir or settings.model_dir or registry.default_model_dir()
    if not quiet:
        announce_model(models)
    model = registry.load_current(models)
    policy = load_policy(policy_file or settings.policy_file, model.thresholds)
    console = Console(stderr=True, highlight=False)
    reporter = make_reporter(quiet=quiet, console=console)
    with migrated_engine(database_url) as engine:
        result: IngestResult
        if scored:
            reporter.start(total=len(rows), position=0, rows_before=0)
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                reporter.update(rows=done, position=done)

            try:
                result = ingest_comments(
                    engine,
                    model,
                    policy,
                    info,
                    rows,
                    evidence_top=settings.evidence_top,
                    progress=advance,
                )
            finally:
                reporter.stop()
        else:
            reporter.start(total=len(thread.comments), position=0, rows_before=0)
            done = 0

            def advance_page(n: int) -> None:
                nonlocal done
                done += n
                reporter.update(rows=done, position=done)

            try:
                result = ingest_thread(
                    engine,
                    model,
                    policy,
                    thread,
                    source=source,
                    evidence_top=settings.evidence_top,
                    progress=advance_page,
                )
            finally:
                reporter.stop()
    summary = result.as_dict()
    del summary["item_ids"]
    typer.echo(json.dumps(summary))
    counts = summary["comments"]
    # The noun follows the total: "1 new, 0 edited, 0 unchanged comment".
    comments = noun_for(sum(counts.values()), "comment")
    console.print(
        f"{result.source}: {counts['new']} new, {counts['edited']} edited, "
        f"{counts['unchanged']} unchanged {comments}; "
        f"{plural(summary['items_created'], 'item')} queued"
        + (f", {summary['items_superseded']} superseded" if summary["items_superseded"] else ""),
        soft_wrap=True,
    )


def _since(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AppError(
            f"{option} {value!r} is not a date: use ISO-8601, e.g. 2026-11-01 or "
            "2026-11-01T09:30:00+00:00"
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@queue_app.command("list")
@reports_errors
def list_command(
    queue: Annotated[str | None, typer.Option("--queue", help="One queue, e.g. hate.")] = None,
    status: Annotated[
        str, typer.Option("--status", help="open, approved, rejected, escalated, superseded, any.")
    ] = "open",
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print the most urgent items, one JSON object per line."""
    from app.queue.review import Filters, list_items

    with migrated_engine(database_url) as engine:
        page = list_items(
            engine,
            Filters(queue=queue, status=None if status == "any" else status),
            limit=limit,
        )
    for item in page.items:
        typer.echo(json.dumps(item, ensure_ascii=False))


@queue_app.command("stats")
@reports_errors
def stats_command(database_url: DatabaseUrlOption = None) -> None:
    """Print open items per queue, decisions per moderator, flag precision and agreement."""
    from app.queue.review import stats

    with migrated_engine(database_url) as engine:
        found = asdict(stats(engine))
    found.pop("extra", None)
    typer.echo(json.dumps(found, indent=2))


@queue_app.command("export")
@reports_errors
def export_command(
    output: Annotated[str, typer.Option("-o", "--output", help="The JSONL file, or - .")] = "-",
    since: Annotated[
        str | None, typer.Option("--since", help="Only decisions at or after this date/time.")
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write decisions as labelled training rows (threadguard.feedback/1) for `train --feedback`."""
    moment = _since(since, "--since")
    from app.commands import queue as here

    export_feedback = here.export_feedback
    count = 0
    with migrated_engine(database_url) as engine:
        if output == "-":
            for row in export_feedback(engine, since=moment):
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        else:
            target = Path(output)
            if not target.parent.is_dir():
                raise AppError(f"{output}: the folder {target.parent} does not exist")
            # Written beside the target and renamed, so a failed export never leaves half a file.
            handle = tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=target.parent, delete=False, suffix=".part"
            )
            try:
                with handle:
                    for row in export_feedback(engine, since=moment):
                        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                        count += 1
                os.replace(handle.name, target)
            except BaseException:
                Path(handle.name).unlink(missing_ok=True)
                raise
    where = "" if output == "-" else f" to {output}"
    typer.echo(f"exported {plural(count, 'decision')}{where}", err=True)

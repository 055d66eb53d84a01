"""The `threadguard` command line: thin shells over the library.

Data goes to stdout, messages to stderr. An `AppError` ends the command with
`error: <message>` on stderr and the error's exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from app import __version__
from app.domain import Thread, thread_json_schema
from app.errors import AppError
from app.threads import FORMATS, Columns, ParseOptions, parse
from app.threads.options import DEFAULT_MAX_BYTES
from app.threads.source import read_source

P = ParamSpec("P")
R = TypeVar("R")


def _reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an AppError into `error: …` on stderr and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AppError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from exc

    return wrapper


app = typer.Typer(
    help="threadguard: rebuild, score and moderate comment threads, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class Output(StrEnum):
    tree = "tree"
    json = "json"
    jsonl = "jsonl"


def _format_choice(value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(FORMATS)}")
    return value


@app.command("parse")
@_reports_errors
def parse_command(
    page: Annotated[str, typer.Argument(help="A file, '-' for stdin, or an http(s) URL.")],
    original: Annotated[
        str | None,
        typer.Option(help="The original article the page quotes (file, '-' or URL)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            callback=_format_choice,
            help=f"Force the input format: {', '.join(FORMATS)}. Default: detect from content.",
        ),
    ] = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="What to print.")] = (
        Output.tree
    ),
    allow_fetch: Annotated[
        bool, typer.Option("--allow-fetch", help="Allow PAGE/--original to be http(s) URLs.")
    ] = False,
    max_bytes: Annotated[
        int, typer.Option(min=1, help="Refuse inputs larger than this many bytes.")
    ] = DEFAULT_MAX_BYTES,
    id_column: Annotated[str | None, typer.Option(help="JSON/CSV: the comment id field.")] = None,
    parent_column: Annotated[
        str | None, typer.Option(help="JSON/CSV: the parent id field.")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="JSON/CSV: the text field.")] = None,
    author_column: Annotated[str | None, typer.Option(help="JSON/CSV: the author field.")] = None,
    date_column: Annotated[str | None, typer.Option(help="JSON/CSV: the date field.")] = None,
) -> None:
    """Parse a comment page or export and print its thread."""
    source = read_source(page, allow_fetch=allow_fetch, max_bytes=max_bytes)
    original_bytes = (
        read_source(original, allow_fetch=allow_fetch, max_bytes=max_bytes).data
        if original
        else None
    )
    options = ParseOptions(
        url=source.url,
        max_bytes=max_bytes,
        columns=Columns(
            id=id_column,
            parent=parent_column,
            text=text_column,
            author=author_column,
            date=date_column,
        ),
    )
    thread = parse(source.data, format=format, options=options, original=original_bytes)
    err = Console(stderr=True, highlight=False)
    for warning in thread.warnings:
        err.print(Text(f"warning: {warning.message}", style="yellow"))
    if output is Output.json:
        json.dump(thread.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif output is Output.jsonl:
        _print_jsonl(thread)
    else:
        Console(highlight=False, soft_wrap=True).print(tree_text(thread))


def _print_jsonl(thread: Thread) -> None:
    data = thread.to_dict()
    for comment in data["comments"]:
        sys.stdout.write(json.dumps({"thread_url": thread.url, **comment}, ensure_ascii=False))
        sys.stdout.write("\n")


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the thread JSON form (`parse --output json`)."""
    json.dump(thread_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")


@app.command("version")
def version_command() -> None:
    """Print threadguard's version."""
    typer.echo(__version__)


MAX_GUIDE_DEPTH = 24
"""Deeper comments are drawn at this indentation with their depth written out, so a
10,000-level thread prints lines of bounded width."""

SNIPPET_CHARS = 90


def tree_text(thread: Thread) -> Text:
    """The thread as an indented tree: title, article summary, one line per comment."""
    out = Text()
    out.append(thread.article.title or "(untitled page)", style="bold")
    out.append(f"\n{_summary(thread)}\n", style="dim")
    last_child = _last_children(thread)
    open_levels: list[bool] = []  # per depth: does the ancestor at that depth have later siblings
    for comment in thread.walk():
        del open_levels[comment.depth :]
        shown = min(comment.depth, MAX_GUIDE_DEPTH)
        guides = "".join("│  " if more else "   " for more in open_levels[:shown])
        is_last = comment.comment_id in last_child
        out.append(guides + ("└─ " if is_last else "├─ "), style="dim")
        if comment.depth > MAX_GUIDE_DEPTH:
            out.append(f"[depth {comment.depth}] ", style="dim")
        out.append(comment.author or "(anonymous)", style="bold cyan")
        if comment.posted_at or comment.date_text:
            when = comment.posted_at.isoformat(" ", "minutes") if comment.posted_at else None
            out.append(f" · {when or comment.date_text}", style="green")
        if comment.deleted:
            out.append(" · deleted", style="red")
        out.append(" — " + _snippet(comment.text) + "\n")
        open_levels.append(not is_last)
    out.rstrip()
    return out


def _summary(thread: Thread) -> str:
    paragraphs = thread.article.paragraphs
    kinds = {kind: sum(p.provenance == kind for p in paragraphs) for kind in ("own", "quoted")}
    kinds["edited"] = sum(p.provenance == "edited" for p in paragraphs)
    parts = [
        f"{thread.source_format}",
        f"{len(thread.comments)} comments",
        f"{len(paragraphs)} article paragraphs "
        f"({kinds['own']} own, {kinds['quoted']} quoted, {kinds['edited']} edited)",
    ]
    if thread.unloaded_replies:
        parts.append(f"{thread.unloaded_replies} replies not in the source")
    if thread.url:
        parts.append(thread.url)
    return " · ".join(parts)


def _last_children(thread: Thread) -> set[str]:
    last: dict[str | None, str] = {}
    for comment in thread.comments:
        last[comment.parent_id] = comment.comment_id
    return set(last.values())


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def main() -> None:
    """Entry point of the `threadguard` console script."""
    app()


if __name__ == "__main__":
    main()

"""The `threadguard` command line: thin shells over the library.

Data goes to stdout, messages to stderr. An `AppError` ends the command with
`error: <message>` on stderr and the error's exit code (2 for bad input), never a traceback.

Heavy libraries (scikit-learn, numpy, pandas, FastAPI, SQLAlchemy, Dask) are imported inside
the commands that need them, so `threadguard --help` and `version` start in well under a
second; commands that load a model say so on stderr first (tests/test_cli_startup.py).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import __version__, registry
from app.commands import ModelDirOption, announce_model, reports_errors
from app.commands.db import db_app, keys_app
from app.commands.queue import queue_app
from app.commands.score import score_command
from app.errors import AppError
from app.text import plural
from app.threads import FORMATS
from app.threads.options import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from rich.text import Text

    from app.domain import Thread

app = typer.Typer(
    help="threadguard: rebuild, score and moderate comment threads, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"threadguard {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print threadguard's version and exit.",
        ),
    ] = False,
) -> None:
    """threadguard: rebuild, score and moderate comment threads, offline."""


class Output(StrEnum):
    tree = "tree"
    json = "json"
    jsonl = "jsonl"


def _format_choice(value: str | None) -> str | None:
    if value is not None and value not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(FORMATS)}")
    return value


@app.command("parse")
@reports_errors
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
    include_pingbacks: Annotated[
        bool,
        typer.Option(
            "--include-pingbacks",
            help="Keep pingbacks and trackbacks in the tree (default: beside it, counted).",
        ),
    ] = False,
    score: Annotated[
        bool, typer.Option("--score", help="Label every comment with the current model.")
    ] = False,
    model_dir: ModelDirOption = None,
) -> None:
    """Parse a comment page or export and print its thread."""
    from rich.console import Console
    from rich.text import Text

    from app.threads import Columns, ParseOptions, parse
    from app.threads.source import read_source

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
        include_pingbacks=include_pingbacks,
    )
    thread = parse(source.data, format=format, options=options, original=original_bytes)
    err = Console(stderr=True, highlight=False)
    for warning in thread.warnings:
        err.print(Text(f"warning: {warning.message}", style="yellow"))
    scores = None
    if score:
        models = model_dir or registry.default_model_dir()
        announce_model(models)
        model = registry.load_current(models)
        from app.scoring import score_records, score_thread

        scores = score_records(score_thread(model, thread))
    if output is Output.json:
        data = thread.to_dict()
        if scores is not None:
            data["scores"] = scores
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif output is Output.jsonl:
        _print_jsonl(thread, scores)
    else:
        Console(highlight=False, soft_wrap=True).print(tree_text(thread, scores))


def _print_jsonl(thread: Thread, scores: dict[str, dict[str, Any]] | None) -> None:
    data = thread.to_dict()
    for comment in data["comments"]:
        record = {"thread_url": thread.url, **comment}
        if scores is not None:
            record["scores"] = scores[comment["comment_id"]]
        sys.stdout.write(json.dumps(record, ensure_ascii=False))
        sys.stdout.write("\n")


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the thread JSON form (`parse --output json`)."""
    from app.domain import thread_json_schema

    json.dump(thread_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")


@app.command("version")
def version_command() -> None:
    """Print threadguard's version."""
    typer.echo(__version__)


@app.command("serve")
@reports_errors
def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="uvicorn worker processes (default 1).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Queue database (default THREADGUARD_DATABASE_URL)."),
    ] = None,
    model_dir: ModelDirOption = None,
) -> None:
    """Start the HTTP service (uvicorn) with the current model and the queue database."""
    import os

    from app.config import load_settings

    overrides: dict[str, object] = {
        name: value
        for name, value in (
            ("host", host),
            ("port", port),
            ("workers", workers),
            ("database_url", database_url),
            ("model_dir", model_dir),
        )
        if value is not None
    }
    settings = load_settings(**overrides)
    announce_model(settings.model_dir or registry.default_model_dir())
    import uvicorn

    from app.api.app import create_app

    # Built here first so a bad bundle or an unmigrated database ends with its message
    # before a port is bound (and before worker processes start).
    service = create_app(settings)
    base = f"http://{_url_host(settings.host)}:{settings.port}"
    from app.speedups import MODULE as compiled_module

    features = "compiled" if compiled_module is not None else "pure-Python (no C++ build)"
    _progress(
        f"threadguard {__version__}, model {service.state.services.model.version}, "
        f"{features} features"
    )
    _progress(f"serving on {base}  (docs: {base}/docs)")
    _progress("try it (one line):")
    # Plain, without rich's style or indentation, alone on its line: a triple click
    # copies exactly the command, however the terminal folds a line this long.
    typer.echo(curl_example(settings.host, settings.port), err=True)
    anonymous = settings.anonymous_scoring
    if anonymous == "never" or not settings.bound_to_loopback:
        _progress("every request needs a key: Authorization: Bearer <key>")
    elif anonymous == "loopback-always":
        _progress("scoring is open on loopback without a key (THREADGUARD_ANONYMOUS_SCORING)")
    elif service.state.services.keys.any_key_made():
        _progress(
            "every request needs a key: one was made, and revoking keys does not reopen "
            "anonymous scoring (THREADGUARD_ANONYMOUS_SCORING=loopback-always does)"
        )
    else:
        _progress(
            "scoring is open on loopback until a key is made; make one with: "
            "threadguard keys create --role scorer"
        )
    _progress(
        f"review queue: {base}/review, signed in with a key from "
        "threadguard keys create --role moderator; fill it with "
        "threadguard queue ingest PAGE"
    )
    from app.api import server

    # Slow clients: the deadlines are set here, and by each worker's factory.
    server.configure(
        header_timeout_s=settings.header_timeout_s, body_timeout_s=settings.body_timeout_s
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "http": server.PROTOCOL_PATH,
        "timeout_keep_alive": settings.keep_alive_s,
        "limit_concurrency": settings.max_connections,
    }
    if settings.workers == 1:
        uvicorn.run(service, **options)
        return
    # Worker processes build their own app from the environment: pass the overrides on.
    for name, value in overrides.items():
        os.environ[f"THREADGUARD_{name.upper()}"] = str(value)
    service.state.services.engine.dispose()
    uvicorn.run(
        "app.api.app:create_app_from_env", factory=True, workers=settings.workers, **options
    )


CURL_EXAMPLE_BODY = {"text": "You are an idiot."}


def curl_example(host: str, port: int) -> str:
    """A curl command line that scores one comment on the service at `host`:`port`."""
    import shlex

    body = json.dumps(CURL_EXAMPLE_BODY, separators=(",", ":"))
    url = f"http://{_url_host(host, reach=True)}:{port}/v1/score"
    return shlex.join(["curl", "-s", url, "-H", "content-type: application/json", "-d", body])


def _url_host(host: str, *, reach: bool = False) -> str:
    """`host` as a URL writes it (IPv6 in brackets); with `reach`, a wildcard address
    (0.0.0.0, ::) becomes the loopback address a client on this machine can connect to."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host  # a name, e.g. localhost
    if reach and address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return f"[{address}]" if address.version == 6 else str(address)


DataDirOption = Annotated[
    Path,
    typer.Option("--data-dir", help="The public datasets, e.g. ../shared/datasets."),
]


def _training() -> Any:
    """The training package, which the serving image leaves out."""
    try:
        import training.run
    except ImportError as exc:  # pragma: no cover - only in an install without training/
        raise AppError(
            f"training tools are not installed here ({exc}); run from a source checkout"
        ) from exc
    return training.run


def _progress(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(message, style="dim"))


@app.command("train")
@reports_errors
def train_command(
    data_dir: DataDirOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write models/<version>/.")
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option("--sample", min=10, help="Use at most this many rows per dataset split."),
    ] = None,
    set_current: Annotated[
        bool, typer.Option("--set-current", help="Point CURRENT at the new version.")
    ] = False,
    feedback: Annotated[
        Path | None,
        typer.Option(
            "--feedback",
            help="Moderator decisions (JSON lines from `threadguard queue export`) to train on "
            "as one more source; never used as test rows.",
        ),
    ] = None,
) -> None:
    """Train every head on the public datasets and write a new model version."""
    run = _training()
    from training.train import TrainConfig

    version_dir = run.train_bundle(
        data_dir,
        out_dir=out or registry.default_model_dir(),
        config=TrainConfig(sample=sample),
        set_current=set_current,
        feedback=feedback,
        progress=_progress,
    )
    typer.echo(str(version_dir))


@app.command("evaluate")
@reports_errors
def evaluate_command(
    data_dir: DataDirOption,
    model_dir: ModelDirOption = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Evaluate this version, not CURRENT.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write reports/<version>/.")
    ] = None,
    peers: Annotated[
        bool, typer.Option("--peers/--no-peers", help="Score the same rows with offline peers.")
    ] = True,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Also score this version on the same test rows and show both side by side.",
        ),
    ] = None,
) -> None:
    """Evaluate a model version on the test splits and write its report."""
    models = model_dir or registry.default_model_dir()
    announce_model(models, version)
    run = _training()
    report_dir = run.evaluate_bundle(
        data_dir,
        model_dir=models,
        version=version,
        out_dir=out or run.DEFAULT_REPORTS,
        with_peers=peers,
        baseline=baseline,
        progress=_progress,
    )
    typer.echo(str(report_dir / "report.md"))


@app.command("model-info")
@reports_errors
def model_info_command(model_dir: ModelDirOption = None) -> None:
    """Verify and describe the current model: version, thresholds, metrics."""
    models = model_dir or registry.default_model_dir()
    announce_model(models)
    model = registry.load_current(models)
    manifest = model.manifest
    info = {
        "version": model.version,
        "path": str(model.path),
        "created_at": manifest.get("created_at"),
        "sklearn_version": manifest.get("sklearn_version"),
        "model_sha256": manifest.get("model_sha256"),
        "bundle_digest": model.digest,
        "thresholds": dict(model.thresholds),
        "class_bias": {k: dict(v) for k, v in model.class_bias.items()},
        "test_metrics": manifest.get("metrics", {}).get("test", {}),
    }
    json.dump(info, sys.stdout, indent=2)
    sys.stdout.write("\n")


@app.command("model-use")
@reports_errors
def model_use_command(
    version: Annotated[str, typer.Argument(help="A version directory under the model folder.")],
    model_dir: ModelDirOption = None,
) -> None:
    """Point CURRENT at VERSION and record the digest of its files (after checking it loads).

    The digest is what the service checks before it loads the bundle: from now on, any
    edit of VERSION's manifest, card or model is refused until this is run again.
    """
    models = model_dir or registry.default_model_dir()
    digest = registry.set_current(models, version)
    _progress(f"{models / registry.CURRENT_FILE}: {version}")
    _progress(f"{registry.digest_file(models, version)}: {digest}")


MAX_GUIDE_DEPTH = 24
"""Deeper comments are drawn at this indentation with their depth written out, so a
10,000-level thread prints lines of bounded width."""

SNIPPET_CHARS = 90


def tree_text(thread: Thread, scores: dict[str, dict[str, Any]] | None = None) -> Text:
    """The thread as an indented tree: title, article summary, one line per comment.

    With `scores` (from `score_records`), each comment's line gains its labels and, under
    it, the evidence for each flag.
    """
    from rich.text import Text

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
        if comment.kind != "comment":
            out.append(f" · {comment.kind}", style="magenta")
        out.append(" — " + _snippet(comment.text) + "\n")
        if scores is not None:
            pad = guides + ("   " if is_last else "│  ")
            _append_scores(out, pad, scores[comment.comment_id])
        open_levels.append(not is_last)
    out.rstrip()
    return out


def _append_scores(out: Text, pad: str, labels: dict[str, Any]) -> None:
    """One line of labels under a comment, then one line of evidence per raised flag."""
    out.append(pad, style="dim")
    parts: list[tuple[str, str]] = []
    for head in ("hate", "toxic", "conspiracy"):
        flagged = labels[f"{head}_flag"]
        text = f"{head} {labels[head]:.2f}"
        if head == "hate" and flagged and labels.get("hate_target"):
            text += f" ({labels['hate_target']})"
        parts.append(("⚑ " + text if flagged else text, "bold red" if flagged else "dim"))
    if labels.get("severity"):
        parts.append((str(labels["severity"]), "dim"))
    if labels.get("thread_stance"):
        parts.append((f"stance {labels['thread_stance']}", "magenta"))
    if labels.get("reply_stance"):
        parts.append((f"reply {labels['reply_stance']}", "blue"))
    for i, (text, style) in enumerate(parts):
        if i:
            out.append(" · ", style="dim")
        out.append(text, style=style)
    out.append("\n")
    for head, items in labels.get("evidence", {}).items():
        words = ", ".join(f"{item['text']!r}" for item in items)
        out.append(pad, style="dim")
        out.append(f"  {head} evidence: {words}\n", style="yellow")


def _summary(thread: Thread) -> str:
    paragraphs = thread.article.paragraphs
    counted = plural(len(paragraphs), "article paragraph")
    # Without the original article, "own" only means "not marked up as a quote" and
    # "edited" only "holds a [bracketed] insertion": counts that would read as findings.
    if thread.article.provenance_basis == "original":
        kinds = {
            kind: sum(p.provenance == kind for p in paragraphs)
            for kind in ("own", "quoted", "edited")
        }
        counted += f" ({kinds['own']} own, {kinds['quoted']} quoted, {kinds['edited']} edited)"
    # Linkbacks are counted apart from what people wrote, wherever they sit.
    in_tree = [c for c in thread.comments if c.kind != "comment"]
    parts = [thread.source_format, plural(len(thread.comments) - len(in_tree), "comment")]
    for kind in ("pingback", "trackback"):
        count = sum(c.kind == kind for c in (*in_tree, *thread.pingbacks))
        if count:
            parts.append(plural(count, kind))
    parts.append(counted)
    if thread.unloaded_replies:
        parts.append(f"{plural(thread.unloaded_replies, 'reply')} not in the source")
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


app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(queue_app, name="queue")
app.command("score")(score_command)


def main() -> None:
    """Entry point of the `threadguard` console script."""
    app()


if __name__ == "__main__":
    main()

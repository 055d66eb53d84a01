import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.domain import SCHEMA_ID, Thread, thread_json_schema
from tests.conftest import SEEDS, shared_file

runner = CliRunner()
SEED = SEEDS / "004_f987b5801adb0d07.txt"
ORIGINAL = SEEDS / "000_995f28ecffe272e4.txt"


def test_tree_output_shows_the_seed_thread() -> None:
    result = runner.invoke(app, ["parse", str(shared_file(SEED))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("China and Russia Try Lifting North Korea Sanctions")
    assert "text · 14 comments · 23 article paragraphs" in lines[1]
    assert lines[2].startswith("├─ John Mason — Sometimes the Chinese")
    assert lines[3].startswith("│  └─ FilastinHuratan — NK does not have")
    assert any(line.startswith("│  │  ├─ Mary E — Absolutely") for line in lines)
    assert lines[-1].startswith("└─ Terje M — This was so obviously")
    assert len(lines) == 2 + 14


def test_original_marks_quoted_paragraphs() -> None:
    result = runner.invoke(
        app, ["parse", str(shared_file(SEED)), "--original", str(shared_file(ORIGINAL))]
    )
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[1]
    assert "quoted" in summary and "2 edited" in summary


def test_json_output_is_the_documented_form() -> None:
    result = runner.invoke(app, ["parse", str(shared_file(SEED)), "--output", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == SCHEMA_ID
    thread = Thread.from_dict(data)
    assert len(thread.comments) == 14


def test_jsonl_output_is_one_comment_a_line() -> None:
    result = runner.invoke(app, ["parse", str(shared_file(SEED)), "-o", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["comment_id"] for r in rows][:3] == ["1", "1.1", "2"]
    assert len(rows) == 14


def test_stdin_and_forced_format() -> None:
    dump = "Title\n\n  1. Ann says\n    hello [bold red]not markup[/]\n"
    result = runner.invoke(app, ["parse", "-", "--format", "text"], input=dump)
    assert result.exit_code == 0, result.output
    assert "hello [bold red]not markup[/]" in result.stdout


def test_schema_command_prints_the_generated_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == thread_json_schema()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "error: input is empty"),
        (b"   \n\n", "error: input is empty"),
        (bytes(range(256)) * 40, "error: input looks binary"),
        (b"just words\nand more words\n", "error: unrecognised input"),
        (b"<?xml version='1.0'?><catalog><book/></catalog>", "error: XML document with root"),
        (b'{"comments": [', "error: invalid JSON at line 1 column 15"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    page = tmp_path / "page"
    page.write_bytes(content)
    result = runner.invoke(app, ["parse", str(page)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_missing_file_and_limits(tmp_path: Path) -> None:
    result = runner.invoke(app, ["parse", str(tmp_path / "nope.html")])
    assert (result.exit_code, result.stderr) == (2, f"error: no such file: {tmp_path}/nope.html\n")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    result = runner.invoke(app, ["parse", str(big), "--max-bytes", "1000"])
    assert result.exit_code == 2
    assert "over the limit of 1,000 bytes" in result.stderr


def test_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["parse", "-", "--format", "pdf"], input="x")
    assert result.exit_code == 2
    assert "'pdf' is not one of" in result.output


def test_urls_need_allow_fetch() -> None:
    result = runner.invoke(app, ["parse", "http://127.0.0.1:9/page"])
    assert result.exit_code == 2
    assert "fetching is off unless you pass --allow-fetch" in result.stderr


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving tmp_path."""
    (tmp_path / "page.txt").write_text("Post\n\n  1. Ann says\n    Hi there\n", encoding="utf-8")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_from_a_local_server(local_site: str) -> None:
    result = runner.invoke(app, ["parse", f"{local_site}/page.txt", "--allow-fetch", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["url"] == f"{local_site}/page.txt"
    assert data["comments"][0]["author"] == "Ann"
    missing = runner.invoke(app, ["parse", f"{local_site}/missing", "--allow-fetch"])
    assert missing.exit_code == 2
    assert "HTTP 404" in missing.stderr


def test_deep_thread_prints_bounded_lines() -> None:
    lines = ["Deep", ""]
    for depth in range(3000):
        pad = "  " * (depth + 1)
        lines += [f"{pad}1. u{depth} says", f"{pad}  d{depth}", ""]
    result = runner.invoke(app, ["parse", "-"], input="\n".join(lines))
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    assert len(out) == 3002
    assert "[depth 2999] u2999" in out[-1]
    assert max(len(line) for line in out) < 200

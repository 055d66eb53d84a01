"""Every command's `--help`: flags carry no value type, and at 80 columns nothing is cut.

The command tree is walked, not listed, so a command added later is held to the same.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from typer.main import get_command
from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and group of the CLI: the words that name it, and the command."""
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append((path, command))
        # Groups have `commands`; typer carries its own click, so no isinstance test here.
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return found


COMMANDS = _commands()
IDS = [" ".join(path) or "threadguard" for path, _ in COMMANDS]


def _help(path: list[str], columns: int) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def _source_text(command: Any) -> str:
    """What the help is drawn from: the command's own help and its parameters'."""
    texts = [command.help or "", command.short_help or ""]
    texts += [getattr(param, "help", None) or "" for param in command.params]
    return "\n".join(texts)


def test_the_walk_finds_nested_commands() -> None:
    assert {"score", "parse", "queue ingest", "keys create", "db upgrade"} <= set(IDS)


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_flags_show_no_value_type(path: list[str], command: Any, columns: int) -> None:
    shown = _help(path, columns)
    assert "<bool>" not in shown
    assert "--help" in shown


def test_flags_keep_their_names_and_pairs() -> None:
    parse = _help(["parse"], 200)
    score_line = next(line for line in parse.splitlines() if "--score" in line)
    assert "Label every comment" in score_line and "<" not in score_line
    evidence_line = next(
        line for line in _help(["score"], 200).splitlines() if "--evidence" in line
    )
    assert "--no-evidence" in evidence_line and "<" not in evidence_line
    # Options that take a value still say what kind.
    assert "<path>" in parse and "<tree|json|jsonl>" in parse


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_fits_the_width_and_cuts_nothing(path: list[str], command: Any, columns: int) -> None:
    shown = _help(path, columns)
    too_long = [line for line in shown.splitlines() if cell_len(line) > columns]
    assert too_long == []
    # Rich ends a word too long for its column with "…"; only the help's own may stand.
    assert shown.count("…") <= _source_text(command).count("…"), shown


def test_version_option_prints_the_version_and_exits() -> None:
    from app import __version__

    result = runner.invoke(app, ["--version", "parse"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"threadguard {__version__}\n"
    assert "--version" in _help([], 80)

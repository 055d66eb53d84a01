"""The README documents every command and option that exists, and its Make targets exist."""

import re

import typer.main

from app.cli import app
from tests.conftest import ROOT
from training.__main__ import app as training_app

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(typer_app: typer.Typer, prefix: str) -> list[tuple[str, list[str]]]:
    """Every leaf command as ("prefix name …", [its --options])."""
    found: list[tuple[str, list[str]]] = []
    stack = [(prefix, typer.main.get_command(typer_app))]
    while stack:
        path, command = stack.pop()
        subcommands = getattr(command, "commands", None)
        if subcommands:
            stack.extend((f"{path} {name}", sub) for name, sub in subcommands.items())
            continue
        options = [o for p in command.params for o in p.opts if o.startswith("--")]
        found.append((path, options))
    return found


def test_every_threadguard_command_and_option_is_in_the_readme() -> None:
    for path, options in commands(app, "threadguard"):
        assert f"`{path}" in README, path
        for option in options:
            assert f"`{option}" in README, f"{path} {option}"


def test_every_training_command_is_in_the_readme() -> None:
    for path, _ in commands(training_app, "python -m training"):
        assert f"`{path}" in README, path


def test_make_targets_named_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.MULTILINE))
    for target in set(re.findall(r"`make ([a-z][\w-]*)", README)):
        assert target in targets, target
    assert {"run", "test"} <= targets


def test_every_input_format_is_in_the_readme() -> None:
    from app.threads import FORMATS

    for name in FORMATS:
        assert f"`{name}`" in README, name

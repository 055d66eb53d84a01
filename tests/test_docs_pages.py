"""The README and docs/ hold together: links and anchors resolve, long pages open with a
table of contents, every command and option is documented in docs/, and the README stays
a short entry point whose test command is `make test`."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def prose_lines(path: Path) -> list[str]:
    """The page's lines outside code blocks (where `#` starts a comment, not a heading)."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str]]:
    found = []
    for line in prose_lines(path):
        heading = _HEADING.match(line)
        if heading:
            found.append((len(heading["level"]), heading["title"]))
    return found


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for _, title in headings(path):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def test_links_and_anchors_resolve() -> None:
    for page in PAGES:
        for line in prose_lines(page):
            for link in _LINK.finditer(line):
                target = link["target"]
                if re.match(r"^[a-z]+:", target):
                    continue
                path_part, _, anchor = target.partition("#")
                resolved = (page.parent / path_part).resolve() if path_part else page
                where = f"{page.relative_to(ROOT)}: {target}"
                assert resolved.exists(), where
                if anchor:
                    assert resolved.suffix == ".md", where
                    assert anchor in anchors(resolved), where


def test_long_doc_pages_open_with_a_table_of_contents() -> None:
    for page in DOCS:
        sections = [title for level, title in headings(page) if level == 2]
        if len(sections) < 3:
            continue
        lines = prose_lines(page)
        first = next(i for i, line in enumerate(lines) if line.startswith("## "))
        top = "\n".join(lines[:first])
        for title in sections:
            assert f"(#{slug(title)})" in top, f"{page.name}: no contents entry for {title}"


def _commands(typer_app: typer.Typer, prefix: str) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    stack = [(prefix, typer.main.get_command(typer_app))]
    while stack:
        path, command = stack.pop()
        subcommands = getattr(command, "commands", None)
        if subcommands:
            stack.extend((f"{path} {name}", sub) for name, sub in subcommands.items())
            continue
        found.append((path, [o for p in command.params for o in p.opts if o.startswith("--")]))
    return found


def test_every_command_and_option_is_documented_in_docs() -> None:
    from app.cli import app
    from training.__main__ import app as training_app

    text = "\n".join(page.read_text(encoding="utf-8") for page in DOCS)
    for path, options in _commands(app, "threadguard") + _commands(
        training_app, "python -m training"
    ):
        assert f"`{path}" in text, path
        for option in options:
            assert f"`{option}" in text, f"{path} {option}"


def test_every_setting_is_documented() -> None:
    from app.config import Settings

    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`THREADGUARD_{name.upper()}`" in text or f"THREADGUARD_{name.upper()}," in text, (
            name
        )


def test_the_readme_is_a_short_entry_point() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    sections = [title for level, title in headings(README) if level == 2]
    assert sections[0] == "Quick start", sections
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^(\d)\. \*\*", quick_start, flags=re.MULTILINE)
    assert steps == ["1", "2", "3", "4", "5"], steps
    for page in DOCS:
        assert f"(docs/{page.name})" in text, f"the README does not link docs/{page.name}"
    # CI runs the README's test command.
    assert re.search(r"^make test\s+# ruff, mypy and the whole test suite$", text, re.MULTILINE)

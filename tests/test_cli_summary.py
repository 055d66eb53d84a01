"""`threadguard parse`'s summary line: counts with their nouns, provenance only when known.

Provenance counts (own, quoted, edited) are findings of a comparison with --original;
without one they would count only markup, so they are not shown.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from tests.conftest import SEEDS, shared_file

runner = CliRunner()

SEED = SEEDS / "004_f987b5801adb0d07.txt"
ORIGINAL = SEEDS / "000_995f28ecffe272e4.txt"


def test_parse_without_original_counts_no_provenance() -> None:
    # The seed page has a [bracketed] insertion, which alone used to read as "1 edited".
    result = runner.invoke(app, ["parse", str(shared_file(SEED))])
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[1]
    assert summary == "text · 14 comments · 23 article paragraphs"


def test_parse_score_without_original_counts_no_provenance(tiny_model_dir: Path) -> None:
    argv = ["parse", str(shared_file(SEED)), "--score", "--model-dir", str(tiny_model_dir.parent)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[1]
    assert "article paragraphs" in summary
    assert not any(word in summary for word in ("own", "quoted", "edited"))


def test_parse_with_original_counts_provenance() -> None:
    argv = ["parse", str(shared_file(SEED)), "--original", str(shared_file(ORIGINAL))]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("text · 14 comments · 23 article paragraphs (")
    assert " quoted, 2 edited)" in result.stdout.splitlines()[1]


def test_one_comment_and_one_paragraph_are_singular() -> None:
    page = "A title\n\nThe only paragraph.\n\n  1. Ann says\n    hello\n"
    result = runner.invoke(app, ["parse", "-", "--format", "text"], input=page)
    assert result.exit_code == 0, result.output
    assert "· 1 comment ·" in result.stdout
    assert "1 article paragraph" in result.stdout
    assert "1 article paragraphs" not in result.stdout

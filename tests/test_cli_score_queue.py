"""`threadguard score` output read back by `threadguard queue ingest` as pre-scored rows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from app.commands.queue import _scored_rows


def test_the_flags_column_of_score_output_is_not_taken_for_a_score(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    rows = [
        {"id": "c1", "text": "jews are vermin and should be driven out"},
        {"id": "c2", "text": "women run a charity for the homeless"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    target = tmp_path / "scores.jsonl"
    argv = ["score", str(source), "-o", str(target), "-q"]
    result = CliRunner().invoke(app, [*argv, "--model-dir", str(tiny_model_dir.parent)])
    assert result.exit_code == 0, result.output
    scored = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["flags"]) for r in scored] == [("c1", "hate,toxic"), ("c2", "")]

    incoming = list(_scored_rows(target.read_bytes(), str(target)))
    assert [i.comment_id for i in incoming] == ["c1", "c2"]
    for item in incoming:
        assert item.scores is not None
        assert "flags" not in item.scores and "id" not in item.scores
        assert {"hate", "hate_flag", "toxic", "conspiracy"} <= set(item.scores)

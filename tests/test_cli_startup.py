"""CLI start-up: commands that neither score nor serve import no heavy library.

scikit-learn, scipy, pandas, numpy, FastAPI, SQLAlchemy and Dask take seconds to import on
a loaded machine; `threadguard --help`, `<cmd> --help` and `version` need none of them, and
`db`/`keys` commands need SQLAlchemy but not the model's libraries. Held without timing:
each case runs the commands in a fresh interpreter and lists what ended up in sys.modules.
Scoring commands instead say on stderr which model they are loading, before they load it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.cli import app

ROOT = Path(__file__).resolve().parent.parent

MODEL_LIBRARIES = ("sklearn", "scipy", "pandas", "numpy", "joblib", "pyarrow")
SERVICE_LIBRARIES = ("fastapi", "starlette", "uvicorn")
DATABASE_LIBRARIES = ("sqlalchemy", "alembic")
BATCH_LIBRARIES = ("dask", "distributed")

# Runs each argv of argv[1] (JSON) through the CLI in this one process, then prints the
# exit codes and which of the watched top-level packages were imported.
_PROBE = """
import json, sys
from typer.testing import CliRunner
import app.cli

runs, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
runner = CliRunner()
codes = [runner.invoke(app.cli.app, argv).exit_code for argv in runs]
loaded = sorted(name for name in watched if name in sys.modules)
print(json.dumps({"codes": codes, "loaded": loaded}))
"""


def _probe(runs: list[list[str]], watched: tuple[str, ...]) -> tuple[list[int], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(runs), json.dumps(watched)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    return found["codes"], found["loaded"]


def _command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words that name it."""
    from typer.main import get_command

    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        # Groups have `commands` (typer's own click copy or click's: no common base here).
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(app), [])
    return paths


def test_help_and_version_import_no_heavy_library() -> None:
    paths = _command_paths()
    assert ["score"] in paths and ["queue", "ingest"] in paths and ["db", "current"] in paths
    runs = [[*path, "--help"] for path in paths] + [["version"], ["--version"]]
    codes, loaded = _probe(
        runs, MODEL_LIBRARIES + SERVICE_LIBRARIES + DATABASE_LIBRARIES + BATCH_LIBRARIES
    )
    assert codes == [0] * len(runs)
    assert loaded == []


def test_database_commands_import_no_model_or_service_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threadguard.db'}"
    runs = [
        ["db", "upgrade", "--database-url", url],
        ["db", "current", "--database-url", url],
        ["keys", "create", "--role", "scorer", "--database-url", url],
        ["keys", "list", "--database-url", url],
        ["queue", "list", "--database-url", url],
        ["queue", "stats", "--database-url", url],
    ]
    codes, loaded = _probe(runs, MODEL_LIBRARIES + SERVICE_LIBRARIES + BATCH_LIBRARIES)
    assert codes == [0] * len(runs)
    assert loaded == []


def test_parse_score_says_which_model_it_loads_on_stderr(
    tiny_model_dir: Path, seed_page: bytes, tmp_path: Path
) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(seed_page)
    argv = ["parse", str(page), "--score", "-o", "json", "--model-dir", str(tiny_model_dir.parent)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert f"loading model tiny-1 from {tiny_model_dir} (scikit-learn)\n" in result.stderr
    assert "scores" in json.loads(result.stdout)  # stdout is still one JSON document


def test_score_says_which_model_it_loads_unless_quiet(tiny_model_dir: Path) -> None:
    argv = ["score", "-", "--format", "jsonl", "--model-dir", str(tiny_model_dir.parent)]
    rows = '{"text": "You are an idiot."}\n{"text": "Thanks for the link."}\n'
    result = CliRunner().invoke(app, argv, input=rows)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"loading model tiny-1 from {tiny_model_dir} (scikit-learn)\n")
    assert [json.loads(line)["row"] for line in result.stdout.splitlines()] == [0, 1]
    quiet = CliRunner().invoke(app, [*argv, "-q"], input=rows)
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""


def test_no_line_when_current_is_missing_only_the_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["model-info", "--model-dir", str(tmp_path)])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no model: cannot read"), result.stderr
    assert result.stderr.count("\n") == 1

"""Shared fixtures of the batch tests: small comment files in every format and a CLI runner."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from typer.testing import CliRunner, Result

from app.batch.output import SCORE_COLUMNS, column_kind
from app.labels import BINARY_HEADS

OPENINGS = (
    "I agree with the article",
    "You are an idiot and a liar",
    "Great point, thanks for writing this",
    "The media is controlled by a secret cabal",
    "Can you share a source for that claim?",
    "Wrong, the numbers say the opposite",
    "Lovely photos of the harbour",
    "They should all be thrown out, vermin",
)
CLOSINGS = ("", ", honestly.", "!", " — see the report.", '\nSecond line, "quoted".', " ünïcödé ✓")


def make_comments(n: int) -> list[dict[str, Any]]:
    """`n` comments with ids, some parents and topics; texts with commas, quotes, newlines."""
    rows = []
    for i in range(n):
        text = OPENINGS[i % len(OPENINGS)] + CLOSINGS[(i // len(OPENINGS)) % len(CLOSINGS)]
        rows.append(
            {
                "comment_id": f"c{i:04d}",
                "body": f"{text} ({i})",
                "parent": OPENINGS[(i + 3) % len(OPENINGS)] if i % 3 == 0 else "",
                "topic": "Sanctions on North Korea" if i % 4 == 0 else "",
            }
        )
    return rows


def write_input(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """`rows` as CSV, JSONL or Parquet, by the extension of `path`."""
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        pq.write_table(pa.Table.from_pylist(list(rows)), path, row_group_size=7)
    return path


def read_output(data: bytes | Path, fmt: str) -> list[dict[str, Any]]:
    """An output in any format as records in one canonical form (CSV text parsed back)."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if fmt == "csv":
        text = raw.decode("utf-8")
        records: list[dict[str, Any]] = list(csv.DictReader(text.splitlines(keepends=True)))
    elif fmt == "jsonl":
        records = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
    else:
        records = pq.read_table(pa.BufferReader(raw)).to_pylist()
    return [canonical(r) for r in records]


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """Values compared across formats: floats, bools, None, evidence as an object."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value == "" or value is None:
            value = None
        elif key == "evidence":
            value = json.loads(value) if isinstance(value, str) else value
            value = value or None
        elif key in SCORE_COLUMNS and column_kind(key) == "bool":
            value = value if isinstance(value, bool) else {"True": True, "False": False}[value]
        elif key in SCORE_COLUMNS and column_kind(key) == "float":
            value = float(value)
            value = None if math.isnan(value) else value
        elif key not in SCORE_COLUMNS:
            value = str(value)
        out[key] = value
    return out


def expected_scores(
    model: Any,
    rows: Sequence[dict[str, Any]],
    *,
    parent: bool = False,
    topic: bool = False,
    precision: int | None = 3,
) -> list[dict[str, Any]]:
    """What score_frame itself says about `rows` (body, optional parent and topic), as the
    output gives it: probabilities and evidence weights rounded to `precision` decimals
    (None: exact), and the raised heads in `flags`."""
    from app.scoring import score_frame

    frame = pd.DataFrame({"text": [r["body"] for r in rows]})
    if parent:
        frame["parent_text"] = [r["parent"] or None for r in rows]
    if topic:
        frame["topic"] = [r["topic"] or None for r in rows]
    scored = score_frame(model, frame)
    records = scored.astype(object).where(scored.notna(), None).to_dict("records")
    out = []
    for record in records:
        row = {str(k): v for k, v in record.items()}
        if precision is not None:
            row = {k: round(v, precision) if isinstance(v, float) else v for k, v in row.items()}
            row["evidence"] = {
                head: [{**item, "weight": round(item["weight"], precision)} for item in items]
                for head, items in row["evidence"].items()
            }
        row["flags"] = ",".join(head for head in BINARY_HEADS if row[f"{head}_flag"])
        out.append(canonical(row))
    return out


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(tiny_model_dir: Path) -> Invoke:
    """Run `score ARGS --model-dir <tiny model>` in-process; stdin from `input`."""
    from app.cli import app

    runner = CliRunner()

    def run(*args: str, input: bytes | str | None = None) -> Result:
        argv = ["score", *args, "--model-dir", str(tiny_model_dir.parent)]
        return runner.invoke(app, argv, input=input, catch_exceptions=True)

    return run


@pytest.fixture(scope="session")
def comments() -> list[dict[str, Any]]:
    return make_comments(40)


def score_argv() -> list[str]:
    """The command line of `threadguard score` for a subprocess."""
    return [sys.executable, "-m", "app.cli", "score"]

"""Bad rows and bad inputs: `--on-error fail|skip`, the errors file, whole-file errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest

from app.scoring import MAX_TEXT_CHARS
from tests.batch.conftest import Invoke, read_output, write_input

BAD_JSONL = "\n".join(
    [
        json.dumps({"id": "a", "text": "Fine comment"}),
        json.dumps({"id": "b", "text": 42}),
        "{not json",
        "",  # a blank line is not a row
        json.dumps({"id": "d", "text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "f", "text": "x" * (MAX_TEXT_CHARS + 1)}),
        json.dumps({"id": "g"}),
        json.dumps({"id": "h", "text": "Another fine one", "parent": 7}),
        json.dumps({"id": "i", "text": "Last fine one"}),
    ]
)
EXPECTED_ERRORS = [
    {"row": 1, "id": "b", "error": "text must be text, not int"},
    {
        "row": 2,
        "id": None,
        "error": "the line is not valid JSON (Expecting property name "
        "enclosed in double quotes at column 2)",
    },
    {"row": 3, "id": "d", "error": "text is empty"},
    {"row": 4, "id": None, "error": "the line holds a JSON list, not an object"},
    {
        "row": 5,
        "id": "f",
        "error": f"text has {MAX_TEXT_CHARS + 1:,} characters; the limit is {MAX_TEXT_CHARS:,}",
    },
    {"row": 6, "id": "g", "error": "text is missing"},
    {"row": 7, "id": "h", "error": "parent must be text, not int"},
]


def test_skip_leaves_bad_rows_out_and_lists_them(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(BAD_JSONL + "\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    result = invoke(
        str(source),
        "-o",
        str(target),
        "--id-column",
        "id",
        "--parent-column",
        "parent",
        "--on-error",
        "skip",
        "--chunk-size",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_output(target, "csv")] == ["a", "i"]
    errors_file = tmp_path / "out.csv.errors.jsonl"
    listed = [json.loads(line) for line in errors_file.read_text().splitlines()]
    assert listed == EXPECTED_ERRORS
    assert f"skipped 7 (listed in {errors_file})" in result.stderr


def test_errors_file_option_and_rows_without_ids(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('text\nfine\n""\nalso fine\n')
    side = tmp_path / "bad-rows.jsonl"
    result = invoke(
        str(source), "-o", str(tmp_path / "o.csv"), "--on-error", "skip", "--errors-file", str(side)
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in side.read_text().splitlines()] == [
        {"row": 1, "id": None, "error": "text is empty"}
    ]
    assert [r["row"] for r in read_output(tmp_path / "o.csv", "csv")] == ["0", "2"]


def test_skip_on_stdout_warns_on_stderr(invoke: Invoke) -> None:
    data = '{"text": "fine"}\n{"text": null}\n'
    result = invoke("-", "--format", "jsonl", "--on-error", "skip", "-q", input=data)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1
    assert "warning: skipped row 1: text is missing" in result.stderr


def test_fail_stops_at_the_first_bad_row_with_its_number(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(BAD_JSONL + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = invoke(str(source), "-o", str(target), "--id-column", "id", "--chunk-size", "1")
    assert result.exit_code == 2
    assert "error: row 1 (id 'b'): text must be text, not int." in result.stderr
    assert f"{target} holds the 1 row before its chunk; --resume" in result.stderr
    # The finished chunk before the bad row is kept.
    assert [r["id"] for r in read_output(target, "jsonl")] == ["a"]
    assert not (tmp_path / "out.jsonl.errors.jsonl").exists()


def test_fail_then_resume_with_skip_goes_on(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(BAD_JSONL + "\n", encoding="utf-8")
    target = tmp_path / "out.parquet"
    args = [str(source), "-o", str(target), "--id-column", "id", "--chunk-size", "1", "-q"]
    first = invoke(*args)
    assert first.exit_code == 2
    # Stopping merged the finished parts: the rows before the bad one are readable.
    assert pq.read_table(target).column("id").to_pylist() == ["a"]
    second = invoke(*args, "--resume", "--on-error", "skip")
    assert second.exit_code == 0, second.output
    assert pq.read_table(target).column("id").to_pylist() == ["a", "h", "i"]
    assert not (tmp_path / "out.parquet.parts").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_missing_text_column_names_it_and_lists_the_columns(
    fmt: str, comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments[:3], tmp_path / f"in.{fmt}")
    target = tmp_path / f"out.{fmt}"
    target.write_text("earlier output")
    result = invoke(str(source), "-o", str(target))
    assert result.exit_code == 2
    assert "has no 'text' column (--text-column); its columns are: 'comment_id', 'body'" in (
        result.stderr
    )
    assert target.read_text() == "earlier output"  # refused before anything was written


def test_missing_id_column_is_a_whole_file_error(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments[:3], tmp_path / "in.csv")
    result = invoke(str(source), "--text-column", "body", "--id-column", "uid")
    assert result.exit_code == 2
    assert "has no 'uid' column (--id-column)" in result.stderr


def test_non_text_parquet_column_is_a_row_error(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": pa.array([1, 2], pa.int64())}), source)
    result = invoke(str(source), "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 2
    assert "error: row 0: text must be text, not int" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: a CSV input needs a header row"),
        (b'text\nok\n"unclosed\n', "is not valid CSV"),
        (b"text,other\nok,1\nbad,2,3\n", "is not valid CSV: Expected 2 fields in line 3, saw 3"),
        (b"text\n\xff\xfe\n", "is not UTF-8 text"),
    ],
)
def test_unreadable_csv_is_reported(
    content: bytes, message: str, invoke: Invoke, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = invoke(str(source), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_not_parquet_and_empty_jsonl_are_reported(invoke: Invoke, tmp_path: Path) -> None:
    fake = tmp_path / "in.parquet"
    fake.write_text("text\nhello\n")
    result = invoke(str(fake))
    assert result.exit_code == 2 and "is not a Parquet file" in result.stderr
    empty = tmp_path / "in.jsonl"
    empty.write_text("\n\n")
    result = invoke(str(empty))
    assert result.exit_code == 2 and "is empty: it has no JSON lines" in result.stderr


def test_missing_input_file(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "nope.csv: no such file" in result.stderr

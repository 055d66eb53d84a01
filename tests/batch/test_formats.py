"""`threadguard score` over every input and output format, stdin/stdout and column options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest

from app.batch.output import SCORE_COLUMNS, column_kind, output_schema
from app.registry import LoadedModel
from app.scoring import OUTPUT_COLUMNS, score_frame
from tests.batch.conftest import Invoke, expected_scores, read_output, write_input

FORMATS = ("csv", "jsonl", "parquet")


@pytest.mark.parametrize("out_fmt", FORMATS)
@pytest.mark.parametrize("in_fmt", FORMATS)
def test_every_format_in_and_out_gives_score_frames_rows(
    in_fmt: str,
    out_fmt: str,
    comments: list[dict[str, Any]],
    tiny_model: LoadedModel,
    invoke: Invoke,
    tmp_path: Path,
) -> None:
    source = write_input(comments, tmp_path / f"in.{in_fmt}")
    target = tmp_path / f"out.{out_fmt}"
    result = invoke(
        str(source), "-o", str(target), "--text-column", "body", "--chunk-size", "16", "-q"
    )
    assert result.exit_code == 0, result.output
    rows = read_output(target, out_fmt)
    # The input's comment_id column is found without --id-column.
    assert [list(r) for r in rows[:1]] == [["comment_id", *OUTPUT_COLUMNS, "flags"]]
    assert [r["comment_id"] for r in rows] == [c["comment_id"] for c in comments]
    assert [{k: v for k, v in r.items() if k != "comment_id"} for r in rows] == expected_scores(
        tiny_model, comments
    )
    assert not (tmp_path / f"out.{out_fmt}.progress.json").exists()
    assert not (tmp_path / f"out.{out_fmt}.parts").exists()
    assert not (tmp_path / f"out.{out_fmt}.errors.jsonl").exists()


def test_evidence_is_json_text_in_csv_and_parquet_and_nested_in_jsonl(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments, tmp_path / "in.jsonl")
    for fmt in FORMATS:
        assert invoke(str(source), "-o", str(tmp_path / f"o.{fmt}"), "--text-column", "body", "-q")
    jsonl = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    flagged = next(i for i, r in enumerate(jsonl) if r["evidence"])
    assert isinstance(jsonl[flagged]["evidence"], dict)
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.schema.field("evidence").type == pa.string()
    assert json.loads(table.column("evidence")[flagged].as_py()) == jsonl[flagged]["evidence"]
    csv_text = (tmp_path / "o.csv").read_text(encoding="utf-8")
    assert json.dumps(jsonl[flagged]["evidence"], ensure_ascii=False).replace('"', '""') in csv_text
    # NaN is an empty CSV field and null elsewhere (no row has a topic here).
    assert jsonl[0]["stance_p"] is None
    assert table.column("stance_p").null_count == len(comments)


def test_parquet_schema_matches_what_score_frame_returns(tiny_model: LoadedModel) -> None:
    import pandas as pd

    scored = score_frame(tiny_model, pd.DataFrame({"text": ["You idiot", "Nice"]}))
    kinds = {
        name: "bool"
        if pd.api.types.is_bool_dtype(dtype)
        else "float"
        if pd.api.types.is_float_dtype(dtype)
        else "text"
        for name, dtype in scored.dtypes.items()
    }
    assert kinds == {name: column_kind(name) for name in OUTPUT_COLUMNS}
    assert output_schema("row", id_integer=True).names == ["row", *SCORE_COLUMNS]
    assert SCORE_COLUMNS == (*OUTPUT_COLUMNS, "flags")
    assert output_schema("row", id_integer=True).field("flags").type == pa.string()


def test_stdin_to_stdout_defaults_to_jsonl(
    comments: list[dict[str, Any]], tiny_model: LoadedModel, invoke: Invoke, tmp_path: Path
) -> None:
    data = write_input(comments, tmp_path / "in.csv").read_bytes()
    result = invoke("-", "--format", "csv", "--text-column", "body", input=data)
    assert result.exit_code == 0, result.output
    rows = read_output(result.stdout_bytes, "jsonl")
    assert [r["comment_id"] for r in rows] == [c["comment_id"] for c in comments]
    assert [{k: v for k, v in r.items() if k != "comment_id"} for r in rows] == expected_scores(
        tiny_model, comments
    )
    assert "scored 40 rows" in result.stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_stdin_and_stdout_in_each_format(
    fmt: str, comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    data = write_input(comments[:9], tmp_path / f"in.{fmt}").read_bytes()
    args = ["-", "--format", fmt, "--output-format", fmt, "--text-column", "body"]
    result = invoke(*args, "--id-column", "comment_id", "-q", input=data)
    assert result.exit_code == 0, result.output
    rows = read_output(result.stdout_bytes, fmt)
    assert [r["comment_id"] for r in rows] == [c["comment_id"] for c in comments[:9]]
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_stdin_to_a_file(
    fmt: str, comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    data = write_input(comments[:9], tmp_path / "in.jsonl").read_bytes()
    target = tmp_path / f"out.{fmt}"
    result = invoke(
        "-", "--format", "jsonl", "-o", str(target), "--text-column", "body", input=data
    )
    assert result.exit_code == 0, result.output
    ids = [c["comment_id"] for c in comments[:9]]
    assert [r["comment_id"] for r in read_output(target, fmt)] == ids
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", f"out.{fmt}"]


def test_stdin_needs_a_format(invoke: Invoke) -> None:
    result = invoke("-", input="text\nhello\n")
    assert result.exit_code == 2
    assert "error: reading stdin needs --format" in result.stderr


def test_id_parent_and_topic_columns(
    comments: list[dict[str, Any]], tiny_model: LoadedModel, invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments, tmp_path / "in.csv")
    target = tmp_path / "out.jsonl"
    result = invoke(
        str(source),
        "-o",
        str(target),
        "--text-column",
        "body",
        "--id-column",
        "comment_id",
        "--parent-column",
        "parent",
        "--topic-column",
        "topic",
        "-q",
    )
    assert result.exit_code == 0, result.output
    rows = read_output(target, "jsonl")
    assert list(rows[0])[0] == "comment_id"
    assert [r["comment_id"] for r in rows] == [c["comment_id"] for c in comments]
    expected = expected_scores(tiny_model, comments, parent=True, topic=True)
    assert [{k: v for k, v in r.items() if k != "comment_id"} for r in rows] == expected
    # Context reached the scorer: replies have a reply stance, topical rows a stance.
    assert rows[0]["reply_stance"] is not None and rows[1]["reply_stance"] is None
    assert rows[0]["stance"] is not None and rows[1]["stance"] is None


def test_integer_ids_stay_integers_in_parquet(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    rows = [{"n": 1000 + i, "text": c["body"]} for i, c in enumerate(comments[:5])]
    source = write_input(rows, tmp_path / "in.parquet")
    target = tmp_path / "out.parquet"
    assert invoke(str(source), "-o", str(target), "--id-column", "n", "-q").exit_code == 0
    table = pq.read_table(target)
    assert table.schema.field("n").type == pa.int64()
    assert table.column("n").to_pylist() == [1000, 1001, 1002, 1003, 1004]
    jsonl_source = write_input(rows, tmp_path / "in.jsonl")
    assert invoke(str(jsonl_source), "-o", str(target), "--id-column", "n", "-q").exit_code == 0
    assert pq.read_table(target).column("n").to_pylist() == ["1000", "1001", "1002", "1003", "1004"]


def test_output_format_option_overrides_the_extension(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments[:3], tmp_path / "in.csv")
    target = tmp_path / "scores.txt"
    result = invoke(
        str(source), "-o", str(target), "--output-format", "jsonl", "--text-column", "body"
    )
    assert result.exit_code == 0, result.output
    assert len(read_output(target, "jsonl")) == 3
    unknown = invoke(str(tmp_path / "scores.txt"), "-o", str(tmp_path / "x.csv"))
    assert unknown.exit_code == 2
    assert "cannot tell the format of" in unknown.stderr and "use --format" in unknown.stderr


def test_no_evidence_leaves_evidence_empty(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments, tmp_path / "in.csv")
    target = tmp_path / "out.jsonl"
    result = invoke(str(source), "-o", str(target), "--text-column", "body", "--no-evidence", "-q")
    assert result.exit_code == 0, result.output
    rows = read_output(target, "jsonl")
    assert any(r["toxic_flag"] or r["hate_flag"] or r["conspiracy_flag"] for r in rows)
    assert all(r["evidence"] is None for r in rows)


def test_values_csv_would_lose_are_kept_as_text(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('id,text\n007,NA\n008,null\n009,"a, ""quoted""\nmulti-line"\n')
    target = tmp_path / "out.csv"
    result = invoke(str(source), "-o", str(target), "--id-column", "id", "-q")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_output(target, "csv")] == ["007", "008", "009"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id-column", "hate"], "has the name of a score column"),
        (["--id-column", "flags"], "has the name of a score column"),
        (["--chunk-size", "0"], "Invalid value for '--chunk-size'"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
        (["--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_options_are_refused(
    args: list[str], message: str, comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments[:3], tmp_path / "in.csv")
    result = invoke(str(source), "-o", str(tmp_path / "out.csv"), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_refuses_to_overwrite_its_input(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments[:3], tmp_path / "in.csv")
    before = source.read_bytes()
    result = invoke(str(source), "-o", str(source), "--text-column", "body")
    assert result.exit_code == 2
    assert "is the input file" in result.stderr
    assert source.read_bytes() == before

"""What each output row says besides score_frame's columns: `flags`, values rounded to
`--precision`, and the id column found in the input without `--id-column`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest

from app.batch import BatchError, Columns, resolve_job
from app.batch.output import SCORE_COLUMNS, column_kind
from app.batch.readers import with_found_id
from app.labels import BINARY_HEADS, OUTPUT_COLUMNS
from app.registry import LoadedModel
from tests.batch.conftest import Invoke, expected_scores, read_output, write_input

FORMATS = ("csv", "jsonl", "parquet")
# Under the tiny model (tests/data/train_small.jsonl): hate and toxic, and no flag at all.
FLAGGED = "jews are vermin and should be driven out"
CLEAN = "women run a charity for the homeless"
FLOATS = [name for name in OUTPUT_COLUMNS if column_kind(name) == "float"]


def raw_records(path: Path, fmt: str) -> list[dict[str, Any]]:
    """An output's rows as the format holds them (no canonical form: "" stays "")."""
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def _bodies(*texts: str) -> list[dict[str, Any]]:
    return [{"body": text} for text in texts]


def _numbers(row: dict[str, Any]) -> list[float]:
    """Every probability and evidence weight of a JSONL output row."""
    values = [row[name] for name in FLOATS if row[name] is not None]
    for items in (row["evidence"] or {}).values():
        values += [item["weight"] for item in items]
    return values


@pytest.mark.parametrize("fmt", FORMATS)
def test_flags_name_the_raised_heads_and_are_empty_without_one(
    fmt: str, invoke: Invoke, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"text\n{FLAGGED}\n{CLEAN}\n", encoding="utf-8")
    target = tmp_path / f"out.{fmt}"
    result = invoke(str(source), "-o", str(target), "-q")
    assert result.exit_code == 0, result.output
    rows = raw_records(target, fmt)
    assert list(rows[0]) == ["row", *SCORE_COLUMNS]
    assert [r["flags"] for r in rows] == ["hate,toxic", ""]
    # The same heads as the *_flag columns, in BINARY_HEADS order.
    for row in read_output(target, fmt):
        raised = [head for head in BINARY_HEADS if row[f"{head}_flag"]]
        assert (row["flags"] or "") == ",".join(raised)


def test_flags_follow_every_flag_column_over_many_rows(
    comments: list[dict[str, Any]], invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(comments, tmp_path / "in.jsonl")
    target = tmp_path / "out.jsonl"
    assert invoke(str(source), "-o", str(target), "--text-column", "body", "-q").exit_code == 0
    rows = raw_records(target, "jsonl")
    flags = [r["flags"] for r in rows]
    assert flags == [",".join(head for head in BINARY_HEADS if r[f"{head}_flag"]) for r in rows]
    assert "hate" in flags and any("conspiracy" in f for f in flags)


def test_probabilities_and_evidence_weights_have_3_decimals_by_default(
    comments: list[dict[str, Any]], tiny_model: LoadedModel, invoke: Invoke, tmp_path: Path
) -> None:
    extra = [
        {"comment_id": f"x{i}", "body": t, "parent": "", "topic": ""}
        for i, t in enumerate((FLAGGED, CLEAN))
    ]
    rows = [*comments, *extra]
    source = write_input(rows, tmp_path / "in.jsonl")
    target = tmp_path / "out.jsonl"
    args = ["--text-column", "body", "--parent-column", "parent", "--topic-column", "topic"]
    assert invoke(str(source), "-o", str(target), *args, "-q").exit_code == 0
    written = raw_records(target, "jsonl")
    numbers = [v for row in written for v in _numbers(row)]
    assert numbers and all(round(v, 3) == v for v in numbers)
    assert any(row["evidence"] for row in written)
    assert any(row["p_stance_favor"] is not None for row in written)
    assert any(row["p_reply_agree"] is not None for row in written)
    assert any(row["hate_target_p"] is not None for row in written)
    exact = expected_scores(tiny_model, rows, parent=True, topic=True, precision=None)
    assert written[-1]["toxic"] == 0.0 < exact[-1]["toxic"]  # too small for 3 decimals
    assert [
        {k: v for k, v in r.items() if k != "comment_id"} for r in read_output(target, "jsonl")
    ] == expected_scores(tiny_model, rows, parent=True, topic=True)


@pytest.mark.parametrize("fmt", FORMATS)
def test_precision_6_keeps_6_decimals(
    fmt: str,
    comments: list[dict[str, Any]],
    tiny_model: LoadedModel,
    invoke: Invoke,
    tmp_path: Path,
) -> None:
    source = write_input(comments, tmp_path / "in.csv")
    target = tmp_path / f"out.{fmt}"
    args = ["--text-column", "body", "--precision", "6", "-q"]
    assert invoke(str(source), "-o", str(target), *args).exit_code == 0
    rows = [{k: v for k, v in r.items() if k != "comment_id"} for r in read_output(target, fmt)]
    assert rows == expected_scores(tiny_model, comments, precision=6)
    assert rows != expected_scores(tiny_model, comments, precision=3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_precision_17_keeps_the_exact_values(
    fmt: str, tiny_model: LoadedModel, invoke: Invoke, tmp_path: Path
) -> None:
    rows = _bodies(FLAGGED, CLEAN)
    source = write_input(rows, tmp_path / "in.jsonl")
    target = tmp_path / f"out.{fmt}"
    args = ["--text-column", "body", "--precision", "17", "-q"]
    assert invoke(str(source), "-o", str(target), *args).exit_code == 0
    written = [{k: v for k, v in r.items() if k != "row"} for r in read_output(target, fmt)]
    exact = expected_scores(tiny_model, rows, precision=None)
    assert written == exact
    # Rounding to 17 decimals would cut digits off a value this small; 17 keeps them all.
    assert 0 < exact[1]["toxic"] < 1e-9
    assert round(exact[1]["toxic"], 17) != exact[1]["toxic"]


def test_precision_0_leaves_whole_numbers(invoke: Invoke, tmp_path: Path) -> None:
    source = write_input(_bodies(FLAGGED, CLEAN), tmp_path / "in.jsonl")
    target = tmp_path / "out.jsonl"
    assert invoke(str(source), "-o", str(target), "--text-column", "body", "--precision", "0")
    numbers = [v for row in raw_records(target, "jsonl") for v in _numbers(row)]
    assert numbers and all(v == int(v) for v in numbers)


@pytest.mark.parametrize("value", ["18", "-1", "three"])
def test_a_bad_precision_is_refused_naming_the_option(
    value: str, invoke: Invoke, tmp_path: Path
) -> None:
    source = write_input(_bodies(CLEAN), tmp_path / "in.jsonl")
    target = tmp_path / "out.jsonl"
    result = invoke(str(source), "-o", str(target), "--text-column", "body", "--precision", value)
    assert result.exit_code == 2
    assert "Invalid value for '--precision'" in result.stderr
    assert not target.exists()


def test_resolve_job_refuses_a_precision_out_of_range(tmp_path: Path) -> None:
    source = write_input(_bodies(CLEAN), tmp_path / "in.jsonl")
    with pytest.raises(BatchError, match=r"--precision must be a number of decimals from 0 to 17"):
        resolve_job(str(source), precision=18)
    assert resolve_job(str(source), precision=0).precision == 0
    assert resolve_job(str(source)).precision == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_errors_file_and_the_output_carry_an_id_column_found_by_name(
    fmt: str, invoke: Invoke, tmp_path: Path
) -> None:
    rows = [{"id": "a", "text": CLEAN}, {"id": "b", "text": ""}, {"id": "c", "text": FLAGGED}]
    source = write_input(rows, tmp_path / f"in.{fmt}")
    target = tmp_path / f"out.{fmt}"
    result = invoke(str(source), "-o", str(target), "--on-error", "skip", "-q")
    assert result.exit_code == 0, result.output
    errors = Path(f"{target}.errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in errors] == [
        {"row": 1, "id": "b", "error": "text is empty"}
    ]
    written = raw_records(target, fmt)
    assert list(written[0])[0] == "id"
    assert [(r["id"], r["flags"]) for r in written] == [("a", ""), ("c", "hate,toxic")]


def test_a_bad_row_names_the_found_id_when_the_run_stops(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('comment_id,text\nk1,fine\nk2,""\n', encoding="utf-8")
    result = invoke(str(source), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "error: row 1 (id 'k2'): text is empty" in result.stderr


def test_jsonl_takes_the_id_column_from_its_first_object(invoke: Invoke, tmp_path: Path) -> None:
    # Bad lines before the first object: the first chunk reaches it, so the id column is
    # known before anything is written.
    lines = ["{not json", "[1, 2]", *(json.dumps({"id": f"j{i}", "text": CLEAN}) for i in (2, 3))]
    lines.append(json.dumps({"text": ""}))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    args = ["--chunk-size", "1", "--on-error", "skip", "-q"]
    assert invoke(str(source), "-o", str(target), *args).exit_code == 0
    assert [r["id"] for r in raw_records(target, "csv")] == ["j2", "j3"]
    errors = [json.loads(line) for line in Path(f"{target}.errors.jsonl").open()]
    assert [(e["row"], e["id"]) for e in errors] == [(0, None), (1, None), (4, None)]


def test_an_integer_id_found_in_parquet_stays_an_integer(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"ID": pa.array([7, 8], pa.int64()), "text": [CLEAN, ""]}), source)
    target = tmp_path / "out.parquet"
    assert invoke(str(source), "-o", str(target), "--on-error", "skip", "-q").exit_code == 0
    table = pq.read_table(target)
    assert table.schema.field("ID").type == pa.int64()
    assert table.column("ID").to_pylist() == [7]
    assert json.loads(Path(f"{target}.errors.jsonl").read_text())["id"] == 8


def test_with_found_id_matches_names_as_the_thread_parsers_do() -> None:
    plain = Columns()
    assert with_found_id(plain, ["text", "Comment ID"]).id == "Comment ID"
    assert with_found_id(plain, ["text", "commentId", "id"]).id == "id"  # the likelier name
    assert with_found_id(plain, ["text", "_id"]).id == "_id"
    assert with_found_id(plain, ["text", "uid", "row"]).id is None
    # A given --id-column is kept; a column read as the text is not also the id.
    assert with_found_id(Columns(id="uid"), ["text", "uid", "id"]).id == "uid"
    assert with_found_id(Columns(text="id"), ["id", "comment_id"]).id == "comment_id"
    assert with_found_id(Columns(text="id"), ["id"]).id is None


def test_an_id_column_option_wins_over_a_found_one(invoke: Invoke, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,uid,text\na,u1,fine\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    assert invoke(str(source), "-o", str(target), "--id-column", "uid", "-q").exit_code == 0
    assert list(raw_records(target, "csv")[0])[:2] == ["uid", "hate"]

"""Flat records (JSON, JSON Lines, CSV): column detection, ids, repairs and errors."""

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import Thread
from app.errors import ParseError
from app.threads import records
from app.threads.options import Columns, ParseOptions
from tests.conftest import DATA

EXPORTS = DATA / "exports"
Parser = Callable[[bytes, ParseOptions], Thread]


def _edges(thread: Thread) -> list[tuple[str, str | None, int]]:
    return [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]


def test_json_object_with_article() -> None:
    thread = records.parse_json((EXPORTS / "comments.json").read_bytes(), ParseOptions())
    assert _edges(thread) == [
        ("1", None, 0),
        ("2", "1", 1),
        ("3", "2", 2),  # 3.0 and 2.0 in the file
        ("4", None, 0),  # parent "0"
        ("5", None, 0),  # parent "null"
        ("6", None, 0),  # parent ""
        ("7", None, 0),  # parent 99 is not in the file
    ]
    assert thread.source_format == "json"
    assert thread.url == "https://forum.example/t/42"
    assert thread.article.title == "Town hall notes"
    assert thread.article.author == "Clerk"
    assert thread.article.posted_at == datetime(2022, 5, 1, 10, tzinfo=UTC)
    assert [p.text for p in thread.article.paragraphs] == [
        "The council met on Monday.",
        "Budget talks continue.",
    ]
    assert thread.get("1").posted_at == datetime(2022, 5, 1, 11, tzinfo=UTC)
    assert thread.get("2").author == "Bo"  # from {"name": "Bo", "id": 7}
    assert thread.get("2").posted_at == datetime.fromtimestamp(1651403000, tz=UTC)
    assert thread.get("2").date_text == "1651403000"
    assert thread.get("3").text == "Float ids.\n\nTwo paragraphs,\nand a line break."
    assert [(c.comment_id, c.text) for c in thread.comments if c.deleted] == [
        ("5", ""),
        ("6", "Flagged by the source."),
    ]
    assert [(w.code, w.comment_id) for w in thread.warnings] == [("orphan", "7")]


def test_json_array_and_options_url() -> None:
    data = json.dumps([{"_id": "a", "comment": "hi"}]).encode()
    thread = records.parse_json(data, ParseOptions(url="https://page.example/"))
    assert _edges(thread) == [("a", None, 0)]
    assert thread.url == "https://page.example/"


def test_empty_array_is_an_empty_thread() -> None:
    thread = records.parse_json(b'{"title": "Quiet", "items": []}', ParseOptions())
    assert thread.comments == ()
    assert thread.article.title == "Quiet"


def test_jsonl_camel_case_names() -> None:
    thread = records.parse_jsonl((EXPORTS / "comments.jsonl").read_bytes(), ParseOptions())
    assert _edges(thread) == [("a1", None, 0), ("a2", "a1", 1), ("a3", "a2", 2)]
    assert [c.author for c in thread.comments] == ["Ann", "Bo", "Cy"]
    assert thread.get("a1").posted_at == datetime.fromtimestamp(1651403000, tz=UTC)
    assert thread.source_format == "jsonl"


def test_csv_semicolons_and_a_quoted_multiline_body() -> None:
    thread = records.parse_csv((EXPORTS / "comments_semicolon.csv").read_bytes(), ParseOptions())
    assert _edges(thread) == [("1", None, 0), ("2", "1", 1), ("3", "2", 2), ("4", None, 0)]
    first = thread.get("1")
    assert first.text == "Line one\nline two\n\nnew paragraph; with a semicolon"
    assert first.author == "Ann"
    assert first.date_text == "2022-05-01 11:00"
    assert first.posted_at == datetime(2022, 5, 1, 11, 0)
    assert thread.get("2").text == 'She said "no".'
    assert thread.get("3").date_text is None
    assert thread.get("4").text == "Top"  # a short row: its missing last column is empty
    assert thread.source_format == "csv"
    assert thread.warnings == ()


def test_csv_custom_column_names() -> None:
    columns = Columns(id="Nr", parent="Antwort_auf", text="Kommentar", author="Verfasser")
    data = (EXPORTS / "custom_columns.tsv").read_bytes()
    thread = records.parse_csv(data, ParseOptions(columns=columns))
    assert _edges(thread) == [("k1", None, 0), ("k2", "k1", 1), ("k3", "k2", 2)]
    assert [c.author for c in thread.comments] == ["Ann", "Bo", "Cy"]
    assert thread.get("k1").text == "Erster Kommentar"


def test_csv_unknown_names_are_listed() -> None:
    data = (EXPORTS / "custom_columns.tsv").read_bytes()
    with pytest.raises(ParseError, match=r"no id column found .*columns seen: 'Nr', 'Antwort_auf'"):
        records.parse_csv(data, ParseOptions())


def test_header_names_match_loosely() -> None:
    data = b"\n\nComment ID,Parent-ID,Body\n1,,top,\n\n2,1,reply\n"
    thread = records.parse_csv(data, ParseOptions())
    assert _edges(thread) == [("1", None, 0), ("2", "1", 1)]


def test_cycle_is_broken() -> None:
    thread = records.parse_json((EXPORTS / "cycle.json").read_bytes(), ParseOptions())
    assert _edges(thread) == [("a", None, 0), ("b", "a", 1), ("c", "b", 2)]
    assert [(w.code, w.comment_id) for w in thread.warnings] == [("cycle", "a")]


def test_duplicate_ids_are_renamed() -> None:
    thread = records.parse_jsonl((EXPORTS / "duplicates.jsonl").read_bytes(), ParseOptions())
    assert _edges(thread) == [("x", None, 0), ("y", "x", 1), ("x~2", None, 0)]
    assert [(w.code, w.comment_id) for w in thread.warnings] == [("duplicate_id", "x~2")]


@pytest.mark.parametrize(
    ("parser", "data", "match"),
    [
        (records.parse_json, b"[{]", r"invalid JSON at line 1 column 3"),
        (records.parse_json, b"42", r"JSON is a number; expected an array"),
        (records.parse_json, b'{"posts": []}', r"no 'comments', 'data' or 'items' .*'posts'"),
        (
            records.parse_json,
            b'[{"id": 1, "text": "a"}, [2]]',
            r"record 2 is an array, not an object",
        ),
        (
            records.parse_json,
            b'[{"id": 1, "text": "a"}, {"id": 2, "text": {"html": "b"}}]',
            r"record 2: the text field 'text' is an object, not text",
        ),
        (
            records.parse_json,
            b'[{"id": 1, "text": 5}]',
            r"record 1: the text field 'text' is a number, not text",
        ),
        (records.parse_json, b'[{"id": null, "text": "a"}]', r"record 1 has no id"),
        (
            records.parse_json,
            b'[{"id": [1], "text": "a"}]',
            r"record 1: the id field 'id' is an array",
        ),
        (records.parse_json, b'[{"id": 1, "words": "a"}]', r"no text column found .*'id', 'words'"),
        (records.parse_json, b"[" * 100_000 + b"]" * 100_000, r"nested too deeply"),
        (
            records.parse_jsonl,
            b'{"id": 1, "text": "a"}\n\n{"id": 2, "text": \n',
            r"line 3 is not valid JSON",
        ),
        (
            records.parse_jsonl,
            b'{"id": 1, "text": "a"}\n"just text"\n',
            r"line 2 is a string, not an object",
        ),
        (records.parse_csv, b"", r"CSV is empty"),
        (records.parse_csv, b"id,text\n1,a\n2,b,extra\n", r"row 2 \(line 3\) has 3 fields"),
        (records.parse_csv, b"id,text\n1,a\n,b\n", r"row 2 \(line 3\) has no id"),
        (records.parse_csv, b"\xff\xfei", r"invalid UTF-16"),
        (records.parse_csv, b"id,text\n\xff\n", r"not UTF-8"),
    ],
)
def test_malformed_input(parser: Parser, data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        parser(data, ParseOptions())


def test_a_named_column_must_exist() -> None:
    options = ParseOptions(columns=Columns(parent="reply_to_id"))
    with pytest.raises(ParseError, match=r"the parent column 'reply_to_id' is not in the data"):
        records.parse_csv(b"id,text\n1,a\n", options)


def _chain_rows(n: int) -> list[dict[str, object]]:
    # Ids from 1: a parent of 0 means the article.
    return [{"id": i, "parent_id": i - 1, "text": f"c{i}"} for i in range(1, n + 1)]


def _as_csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "parent_id", "text"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _as_jsonl(rows: list[dict[str, object]]) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


@pytest.mark.parametrize(
    ("parser", "render"),
    [
        (records.parse_json, lambda rows: json.dumps(rows).encode()),
        (records.parse_jsonl, _as_jsonl),
        (records.parse_csv, _as_csv),
    ],
)
def test_ten_thousand_level_reply_chain(
    parser: Parser, render: Callable[[list[dict[str, object]]], bytes]
) -> None:
    thread = parser(render(_chain_rows(10_000)), ParseOptions())
    assert len(thread.comments) == 10_000
    assert thread.comments[-1].comment_id == "10000"
    assert thread.comments[-1].depth == 9999


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé,;\"'", min_size=1, max_size=6)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
TEXT = st.lists(st.lists(LINE, min_size=1, max_size=3).map("\n".join), min_size=1, max_size=3).map(
    "\n\n".join
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=30), TEXT), max_size=25),
    st.sampled_from(["json", "jsonl", "csv"]),
)
def test_random_trees_round_trip(spec: list[tuple[int, str]], form: str) -> None:
    # Record n replies to record n - 1 - k when there is one; ids start at 1 ("0" is top).
    rows: list[dict[str, object]] = [
        {"id": n, "parent_id": n - 1 - k if k < n - 1 else "", "text": text}
        for n, (k, text) in enumerate(spec, 1)
    ]
    if form == "json":
        thread = records.parse_json(json.dumps({"comments": rows}).encode(), ParseOptions())
    elif form == "jsonl":
        thread = records.parse_jsonl(_as_jsonl(rows), ParseOptions())
    else:
        thread = records.parse_csv(_as_csv(rows), ParseOptions())
    got = {c.comment_id: (c.parent_id, c.text) for c in thread.comments}
    assert got == {
        str(row["id"]): (str(row["parent_id"]) if row["parent_id"] != "" else None, row["text"])
        for row in rows
    }

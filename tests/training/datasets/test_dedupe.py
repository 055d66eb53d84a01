"""Tests for dedupe keys and the leakage/duplicate rules."""

from __future__ import annotations

import pytest

from tests.training.datasets.frames import make_frame
from training.datasets.dedupe import STEPS, dedupe, dedupe_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Hello,   World!!", "hello world"),
        ("@user RT: look https://t.co/x1 now", "rt look now"),
        ("see www.example.com/a?b=c ok", "see ok"),
        ("ＦＵＬＬＷＩＤＴＨ text", "fullwidth text"),
        ("STRASSE vs straße", "strasse vs strasse"),
        ("snake_case__words", "snake case words"),
        ("Ünïcödé wörds", "ünïcödé wörds"),
        ("!!! ... ???", ""),
        ("@only @mentions", ""),
    ],
)
def test_dedupe_key(text: str, key: str) -> None:
    assert dedupe_key(text) == key


def test_test_text_is_removed_from_train_and_val_of_every_source() -> None:
    frame = make_frame(
        [
            {"text": "Same words.", "source": "a", "split": "test"},
            {"text": "same WORDS", "source": "b", "split": "train"},
            {"text": "same words!", "source": "a", "split": "val"},
            {"text": "other words", "source": "b", "split": "train"},
        ]
    )
    out, report = dedupe(frame)
    assert list(out["text"]) == ["Same words.", "other words"]
    assert report.count("test_leak") == 2
    assert report.removed == {"a": {"test_leak": 1}, "b": {"test_leak": 1}}


def test_val_text_is_removed_from_train_only() -> None:
    frame = make_frame(
        [
            {"text": "seen in val", "source": "a", "split": "val"},
            {"text": "Seen in val", "source": "b", "split": "train"},
            {"text": "seen in val", "source": "c", "split": "val"},
        ]
    )
    out, report = dedupe(frame)
    assert list(out["source"]) == ["a", "c"]
    assert report.count("val_leak") == 1
    assert report.count("duplicate") == 0  # same text, different sources: both kept


def test_duplicates_collapse_within_source_and_split_unless_topic_or_parent_differ() -> None:
    frame = make_frame(
        [
            {"text": "keep me", "doc_id": "first"},
            {"text": "Keep me!", "doc_id": "second"},
            {"text": "keep me", "source": "other", "doc_id": "other source"},
            {"text": "keep me", "topic": "coal", "doc_id": "topic"},
            {"text": "keep me", "topic": "coal", "doc_id": "same topic"},
            {"text": "keep me", "parent_text": "a parent", "doc_id": "parent"},
            {"text": "keep me", "parent_text": "A parent.", "doc_id": "same parent"},
        ]
    )
    out, report = dedupe(frame)
    assert list(out["doc_id"]) == ["first", "other source", "topic", "parent"]
    assert report.removed == {"toy": {"duplicate": 3}}


def test_empty_keys_are_dropped_and_counted() -> None:
    frame = make_frame(
        [
            {"text": "@someone https://x.y", "source": "a"},
            {"text": "a real comment", "source": "a"},
        ]
    )
    out, report = dedupe(frame)
    assert list(out["text"]) == ["a real comment"]
    assert report.count("empty_key", source="a") == 1
    assert (report.rows_in, report.rows_out) == (2, 1)


def test_report_table_and_summary() -> None:
    frame = make_frame(
        [
            {"text": "x y", "source": "a", "split": "test"},
            {"text": "x y", "source": "b"},
            {"text": "!!!", "source": "b"},
        ]
    )
    _, report = dedupe(frame)
    table = report.to_frame()
    assert list(table.columns) == [*STEPS, "total"]
    assert table.loc["b"].to_dict() == {
        "empty_key": 1,
        "test_leak": 1,
        "val_leak": 0,
        "duplicate": 0,
        "total": 2,
    }
    assert str(report) == (
        "dedupe: 3 rows in, 1 out (empty_key 1, test_leak 1, val_leak 0, duplicate 0)"
    )

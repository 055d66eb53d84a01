"""Tests for the unified schema and its validator."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.training.datasets.frames import make_frame
from training.datasets.schema import (
    COLUMNS,
    DTYPES,
    HATE_TARGETS,
    SchemaError,
    empty_frame,
    validate,
)


def valid() -> pd.DataFrame:
    return make_frame(
        [
            {"text": "they are vermin", "hate": 1.0, "hate_target": "jewish", "group": "jewish"},
            {"text": "nice day", "hate": 0.0, "toxic": 0.0, "split": "val"},
            {"text": "probe", "toxic": 0.0, "split": "test", "eval_only": True},
            {"text": "you idiot", "toxic": 1.0, "spans": [[4, 9]], "split": "test"},
            {"text": "reply", "parent_text": "post", "reply_stance": "agree"},
            {"text": "stance", "topic": "Atheism", "stance": "none", "tag": "critical"},
        ]
    )


def test_columns_and_dtypes_cover_each_other() -> None:
    assert set(COLUMNS) == set(DTYPES)
    assert len(COLUMNS) == len(set(COLUMNS))


def test_hate_targets_are_the_design_list() -> None:
    assert HATE_TARGETS[0] == "jewish"
    assert HATE_TARGETS[-1] == "other"
    assert len(HATE_TARGETS) == 13


def test_valid_frame_and_empty_frame_pass() -> None:
    validate(valid())
    validate(empty_frame())


def test_missing_column_is_named() -> None:
    with pytest.raises(SchemaError, match=r"toy: missing column topic") as info:
        validate(valid().drop(columns=["topic"]))
    assert info.value.field == "topic"


def test_unexpected_column_is_named() -> None:
    with pytest.raises(SchemaError, match=r"mine: unexpected column extra"):
        validate(valid().assign(extra=1), dataset="mine")


def test_wrong_dtype_is_named() -> None:
    frame = valid()
    frame["hate"] = frame["hate"].astype("object")
    with pytest.raises(SchemaError, match=r"toy: column hate: dtype object, expected float64"):
        validate(frame)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("split", "dev", r"column split: value not in train, val, test in 1 row\(s\), e.g. 'dev'"),
        ("hate", 0.5, r"column hate: value not 0.0, 1.0 or NaN"),
        ("toxic", 2.0, r"column toxic: value not 0.0, 1.0 or NaN"),
        ("stance", "pro", r"column stance: value not in favor, against, none"),
        ("reply_stance", "support", r"column reply_stance: value not in agree"),
        ("tag", "spam", r"column tag: value not in critical"),
        ("hate_target", "martians", r"column hate_target: value not in jewish"),
        ("text", "   ", r"column text: empty after strip"),
    ],
)
def test_bad_values_name_dataset_and_column(column: str, value: object, message: str) -> None:
    frame = valid()
    frame.loc[1, column] = value
    with pytest.raises(SchemaError, match=f"hatex: {message}") as info:
        validate(frame, dataset="hatex")
    assert info.value.field == column


def test_missing_required_value_names_the_source_of_the_bad_row() -> None:
    frame = pd.concat(
        [
            make_frame([{"text": "a", "source": "one"}]),
            make_frame([{"text": "b", "source": "two"}]),
        ],
        ignore_index=True,
    )
    frame.loc[1, "doc_id"] = float("nan")
    with pytest.raises(SchemaError, match=r"^two: column doc_id: missing value"):
        validate(frame)


def test_hate_target_needs_a_hate_row() -> None:
    frame = valid()
    frame.loc[1, "hate_target"] = "jewish"
    with pytest.raises(SchemaError, match=r"column hate_target: set on a row whose hate is not 1"):
        validate(frame)


def test_eval_only_rows_must_be_test() -> None:
    frame = valid()
    frame.loc[0, "eval_only"] = True
    with pytest.raises(
        SchemaError, match=r"column eval_only: eval-only row outside the test split"
    ):
        validate(frame)


@pytest.mark.parametrize("spans", [[[5, 2]], [(1, 2)], "0-4", [[1, 2, 3]], [[-1, 2]]])
def test_bad_spans(spans: object) -> None:
    frame = valid()
    frame.at[3, "spans"] = spans
    with pytest.raises(SchemaError, match=r"column spans: not None or a list of \[start, end\]"):
        validate(frame)

"""The one schema every dataset loader returns, and the check that a frame follows it.

Every loader maps its source onto the same columns so that training can mix datasets and
evaluation can slice them (by source, split, group or tag) without knowing where a row came
from. A label head a dataset says nothing about is NaN (floats) or missing (strings), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from app.errors import AppError
from app.heads import HATE_TARGETS as _HATE_TARGETS
from app.heads import REPLY_LABELS, STANCE_LABELS

COLUMNS: tuple[str, ...] = (
    "text",
    "parent_text",
    "topic",
    "source",
    "split",
    "split_basis",
    "doc_id",
    "hate",
    "toxic",
    "conspiracy",
    "hate_target",
    "stance",
    "reply_stance",
    "group",
    "tag",
    "eval_only",
    "spans",
)

STRING = "str"  # pandas' own string dtype (missing values are NaN)
DTYPES: dict[str, str] = {
    "text": STRING,
    "parent_text": STRING,
    "topic": STRING,
    "source": STRING,
    "split": STRING,
    "split_basis": STRING,
    "doc_id": STRING,
    "hate": "float64",
    "toxic": "float64",
    "conspiracy": "float64",
    "hate_target": STRING,
    "stance": STRING,
    "reply_stance": STRING,
    "group": STRING,
    "tag": STRING,
    "eval_only": "bool",
    "spans": "object",
}

REQUIRED: tuple[str, ...] = ("text", "source", "split", "split_basis", "doc_id")
LABEL_HEADS: tuple[str, ...] = ("hate", "toxic", "conspiracy")

SPLITS: tuple[str, ...] = ("train", "val", "test")
# The label schema is the runtime's (app.heads); the loaders must produce exactly its values.
HATE_TARGETS: tuple[str, ...] = _HATE_TARGETS
STANCES: tuple[str, ...] = STANCE_LABELS
REPLY_STANCES: tuple[str, ...] = REPLY_LABELS
TAGS: tuple[str, ...] = (
    "critical",
    "counter_speech",
    "political",
    "identity_mention",
    "perturbation",
)

_ALLOWED: dict[str, tuple[str, ...]] = {
    "split": SPLITS,
    "hate_target": HATE_TARGETS,
    "stance": STANCES,
    "reply_stance": REPLY_STANCES,
    "tag": TAGS,
}


class DatasetError(AppError):
    """A dataset cannot be loaded: its data dir or a file is missing or unreadable."""

    code = "dataset_error"


class SchemaError(DatasetError):
    """A loader returned a frame that breaks the unified schema."""

    code = "schema_error"


def empty_frame() -> pd.DataFrame:
    """A frame with the schema's columns and dtypes and no rows."""
    return pd.DataFrame({column: pd.Series([], dtype=DTYPES[column]) for column in COLUMNS})


def validate(frame: pd.DataFrame, *, dataset: str | None = None) -> None:
    """Check that `frame` has exactly the schema's columns, dtypes and allowed values.

    `dataset` names the loader in messages; without it, the sources of the bad rows are named.

    Raises:
        SchemaError: a column is missing, unexpected, of the wrong dtype, or holds a bad value.
    """
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        name = dataset or _sources(frame, None)
        raise SchemaError(f"{name}: missing column {', '.join(missing)}", field=missing[0])
    extra = [str(column) for column in frame.columns if column not in DTYPES]
    if extra:
        name = dataset or _sources(frame, None)
        raise SchemaError(f"{name}: unexpected column {', '.join(extra)}", field=extra[0])
    for column in COLUMNS:
        if str(frame[column].dtype) != DTYPES[column]:
            _fail(
                frame,
                None,
                dataset,
                column,
                f"dtype {frame[column].dtype}, expected {DTYPES[column]}",
            )

    for column in REQUIRED:
        _check(frame, frame[column].isna(), dataset, column, "missing value")
    blank = frame["text"].str.strip().eq("")
    _check(frame, blank, dataset, "text", "empty after strip")
    for column, allowed in _ALLOWED.items():
        values = frame[column]
        bad = values.notna() & ~values.isin(allowed)
        _check(frame, bad, dataset, column, f"value not in {', '.join(allowed)}")
    for column in LABEL_HEADS:
        values = frame[column]
        bad = values.notna() & ~values.isin((0.0, 1.0))
        _check(frame, bad, dataset, column, "value not 0.0, 1.0 or NaN")
    loose_target = frame["hate_target"].notna() & frame["hate"].ne(1.0)
    _check(frame, loose_target, dataset, "hate_target", "set on a row whose hate is not 1")
    leaked = frame["eval_only"] & frame["split"].ne("test")
    _check(frame, leaked, dataset, "eval_only", "eval-only row outside the test split")
    bad_spans = ~frame["spans"].map(_valid_spans).astype(bool)
    _check(frame, bad_spans, dataset, "spans", "not None or a list of [start, end] pairs")


def _valid_spans(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, list):
        return False
    return all(
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(bound, int) for bound in pair)
        and 0 <= pair[0] < pair[1]
        for pair in value
    )


def _check(
    frame: pd.DataFrame, bad: pd.Series, dataset: str | None, column: str, problem: str
) -> None:
    if bool(bad.any()):
        _fail(frame, bad, dataset, column, problem)


def _fail(
    frame: pd.DataFrame,
    bad: pd.Series | None,
    dataset: str | None,
    column: str,
    problem: str,
) -> None:
    name = dataset or _sources(frame, bad)
    if bad is None:
        raise SchemaError(f"{name}: column {column}: {problem}", field=column)
    rows = frame.index[bad.to_numpy(dtype=bool)]
    sample = _preview(frame.loc[rows[:3], column])
    raise SchemaError(
        f"{name}: column {column}: {problem} in {len(rows)} row(s), e.g. {sample}",
        field=column,
    )


def _sources(frame: pd.DataFrame, bad: pd.Series | None) -> str:
    if "source" not in frame.columns:
        return "dataset"
    sources = frame["source"] if bad is None else frame.loc[bad.to_numpy(dtype=bool), "source"]
    names = sorted({str(name) for name in sources.dropna().unique()})
    return ", ".join(names) if names else "dataset"


def _preview(values: Iterable[object]) -> str:
    shown = []
    for value in values:
        text = repr(value)
        shown.append(text if len(text) <= 40 else text[:37] + "...")
    return ", ".join(shown)

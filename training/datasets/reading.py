"""File reading and frame-finishing helpers shared by the dataset loaders.

Every read goes through here so that a missing or unreadable file, or a file without the
columns a loader needs, becomes a `DatasetError` naming the path instead of a pandas
traceback, and every loader's output ends in the same columns, dtypes and order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from training.datasets import labels
from training.datasets.dedupe import dedupe_key
from training.datasets.schema import COLUMNS, DTYPES, DatasetError
from training.datasets.splits import OFFICIAL

_TEXT_COLUMNS = tuple(column for column in COLUMNS if DTYPES[column] == "str")


def require_file(data_dir: Path, relative: str) -> Path:
    """`data_dir / relative`, checked to be an existing file.

    Raises:
        DatasetError: the data dir or the file does not exist.
    """
    if not data_dir.is_dir():
        raise DatasetError(f"data dir does not exist or is not a directory: {data_dir}")
    path = data_dir / relative
    if not path.is_file():
        raise DatasetError(f"missing dataset file: {path}", field=relative)
    return path


def read_csv(
    data_dir: Path, relative: str, *, columns: Iterable[str] = (), **options: Any
) -> pd.DataFrame:
    """Read a CSV under `data_dir`, checking it has `columns`.

    Raises:
        DatasetError: the file is missing, unreadable, not CSV, or lacks a needed column.
    """
    path = require_file(data_dir, relative)
    try:
        frame = pd.read_csv(path, **options)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}", field=relative) from exc
    return require_columns(frame, columns, path)


def read_json_lines(data_dir: Path, relative: str, *, columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a JSON-lines file under `data_dir` with every value kept as read (ids stay text).

    Raises:
        DatasetError: the file is missing, unreadable, not JSON lines, or lacks a needed key.
    """
    path = require_file(data_dir, relative)
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    records.append(_record(json.loads(line), path, number))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}", field=relative) from exc
    return require_columns(pd.DataFrame.from_records(records), columns, path)


def read_json_records(
    data_dir: Path, relative: str, *, columns: Iterable[str] = ()
) -> pd.DataFrame:
    """Read a JSON file holding a list of objects under `data_dir`.

    Raises:
        DatasetError: the file is missing, unreadable, not a JSON list of objects, or lacks
            a needed key.
    """
    path = require_file(data_dir, relative)
    try:
        with path.open(encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}", field=relative) from exc
    if not isinstance(raw, list):
        raise DatasetError(f"{path}: expected a JSON list of objects", field=relative)
    records = [_record(item, path, number) for number, item in enumerate(raw, start=1)]
    return require_columns(pd.DataFrame.from_records(records), columns, path)


def _record(item: object, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DatasetError(f"{path}: record {number} is not a JSON object")
    return item


def read_lines(data_dir: Path, relative: str) -> list[str]:
    """The lines of a UTF-8 text file under `data_dir`, without the final empty line.

    Only "\\n" ends a line: tweets may hold other Unicode line separators.

    Raises:
        DatasetError: the file is missing or unreadable.
    """
    path = require_file(data_dir, relative)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}", field=relative) from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_tweeteval(data_dir: Path, folder: str, split: str) -> tuple[list[str], list[str]]:
    """The aligned (texts, labels) lines of one TweetEval split file pair.

    Raises:
        DatasetError: a file is missing, or the two files differ in length.
    """
    texts = read_lines(data_dir, f"tweeteval/{folder}/{split}_text.txt")
    values = [
        line.strip() for line in read_lines(data_dir, f"tweeteval/{folder}/{split}_labels.txt")
    ]
    if len(texts) != len(values):
        raise DatasetError(
            f"{data_dir / 'tweeteval' / folder}: {split}_text.txt has {len(texts)} lines "
            f"but {split}_labels.txt has {len(values)}",
            field=f"tweeteval/{folder}",
        )
    return texts, values


def tweeteval_task(data_dir: Path, folder: str, name: str) -> pd.DataFrame:
    """One TweetEval classification task (hate, offensive) with its official splits."""
    parts = []
    for split in ("train", "val", "test"):
        texts, values = read_tweeteval(data_dir, folder, split)
        frame = pd.DataFrame(
            {
                "text": texts,
                "doc_id": [f"{split}:{number}" for number in range(1, len(texts) + 1)],
                "split": split,
                "split_basis": OFFICIAL,
            }
        )
        parts.append(labels.map_labels(frame, name, pd.Series(values, dtype="str")))
    return pd.concat(parts, ignore_index=True)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], path: Path) -> pd.DataFrame:
    """`frame` unchanged, after checking it has every one of `columns`.

    Raises:
        DatasetError: a column is missing.
    """
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DatasetError(f"{path}: missing column {', '.join(missing)}", field=missing[0])
    return frame


def text_id(text: str) -> str:
    """A stable id for a row whose source has none: a short sha256 of its text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def text_keys(texts: pd.Series) -> pd.Series:
    """Hash-split keys for rows that only their text identifies: their dedupe keys."""
    # Near-copies (case, punctuation, URLs) then share a split instead of leaking across.
    return texts.fillna("").astype("str").map(dedupe_key)


def blank(values: pd.Series) -> pd.Series:
    """True where a text value is missing or only whitespace."""
    return values.isna() | values.astype("str").str.strip().eq("")


def finish(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """`frame` in schema form: every column, in order, cast; rows with blank text dropped."""
    out = frame.loc[~blank(frame["text"])].copy()
    out["source"] = source
    for column in ("parent_text", "topic"):
        # An empty parent or topic is no parent or topic at all.
        if column in out.columns:
            out[column] = out[column].where(~blank(out[column]))
    for column in COLUMNS:
        if column not in out.columns:
            out[column] = _default(column)
    for column in _TEXT_COLUMNS:
        out[column] = out[column].astype("str")
    for column in ("hate", "toxic", "conspiracy"):
        out[column] = out[column].astype("float64")
    out["eval_only"] = out["eval_only"].astype("bool")
    out["spans"] = out["spans"].astype("object")
    return out.loc[:, list(COLUMNS)].reset_index(drop=True)


def _default(column: str) -> float | bool | None:
    if column == "eval_only":
        return False
    if column == "spans":
        return None
    return float("nan")

"""Moderator decisions (`threadguard queue export`) as one more training source.

The export is a JSON-lines log in decision order (schema ``threadguard.feedback/1``). For
each `doc_id` only its last line counts, and a doc whose last line has no label at all was
withdrawn (a reopen or an escalation) and is no training row. Every row lands in the `train`
split: the public test sets stay the yardstick for old and new models alike, so a moderator
row whose text is a public test (or validation) text is dropped by the same leakage rule the
public datasets go through (`training.datasets.dedupe`), and counted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.errors import AppError
from training.datasets.dedupe import STEPS, DedupeReport, dedupe
from training.datasets.reading import finish
from training.datasets.schema import (
    HATE_TARGETS,
    LABEL_HEADS,
    REPLY_STANCES,
    STANCES,
    validate,
)

SCHEMA = "threadguard.feedback/1"
SOURCE = "feedback"
SPLIT_BASIS = "feedback"
LABELS: tuple[str, ...] = (*LABEL_HEADS, "hate_target", "stance", "reply_stance")
_CHOICES: dict[str, tuple[str, ...]] = {
    "hate_target": HATE_TARGETS,
    "stance": STANCES,
    "reply_stance": REPLY_STANCES,
}


class FeedbackError(AppError):
    """A moderator feedback file cannot be used for training."""

    code = "feedback_error"


@dataclass(frozen=True)
class FeedbackFile:
    """One feedback file read into training rows, with what reading it kept and dropped."""

    path: Path
    sha256: str
    bytes: int
    decisions: int  # non-blank lines
    docs: int  # distinct doc_ids
    withdrawn: int  # docs whose last line has every label null
    frame: pd.DataFrame  # one row per remaining doc, in the order of their last decision

    def record(self, folded: DedupeReport | None = None) -> dict[str, Any]:
        """The manifest entry: the file, its sha256 and row counts (after `fold_feedback`)."""
        dropped = {step: folded.count(step, SOURCE) if folded is not None else 0 for step in STEPS}
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "decisions": self.decisions,
            "docs": self.docs,
            "withdrawn": self.withdrawn,
            "rows": len(self.frame),
            "dropped": dropped,
            "used": len(self.frame) - sum(dropped.values()),
            "labelled": {
                head: int(self.frame[head].notna().sum()) for head in LABELS if head in self.frame
            },
        }


def load_feedback(path: Path) -> pd.DataFrame:
    """The training rows of a moderator feedback file, in the datasets' schema.

    Raises:
        FeedbackError: the file is missing, unreadable, empty, or a line is not a valid
            decision (the message names the file and the line).
    """
    return read_feedback(path).frame


def read_feedback(path: Path) -> FeedbackFile:
    """`load_feedback` with the file's sha256 and how many decisions and docs it held.

    Raises:
        FeedbackError: the file is missing, unreadable, empty, or a line is not a valid
            decision (the message names the file and the line).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedbackError(f"cannot read feedback file {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = raw[: exc.start].count(b"\n") + 1
        raise FeedbackError(f"{path} line {at}: not UTF-8 text") from exc

    last: dict[str, dict[str, Any]] = {}
    decisions = 0
    # Only "\n" ends a line: comment texts may hold other Unicode line separators, and
    # json.dumps escapes a newline inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        decisions += 1
        row = _parse_line(line, path, number)
        # Re-inserting moves the doc to the end, so rows come out in last-decision order.
        last.pop(row["doc_id"], None)
        last[row["doc_id"]] = row
    if decisions == 0:
        raise FeedbackError(f"{path} is empty: it holds no moderator decisions")

    kept = [row for row in last.values() if any(row[label] is not None for label in LABELS)]
    frame = _frame(kept)
    validate(frame, dataset=str(path))
    return FeedbackFile(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        bytes=len(raw),
        decisions=decisions,
        docs=len(last),
        withdrawn=len(last) - len(kept),
        frame=frame,
    )


def fold_feedback(frame: pd.DataFrame, feedback: pd.DataFrame) -> tuple[pd.DataFrame, DedupeReport]:
    """`frame` (loaded datasets) plus the feedback rows that survive the leakage rules.

    A feedback row is dropped when its text matches a test or validation text of `frame`,
    or repeats another feedback row (same text, topic and parent: the latest decision is
    kept). `frame`'s own rows are never dropped; the report counts the feedback rows removed.
    """
    checked = frame.loc[frame["split"].isin(("test", "val"))]
    # dedupe keeps the first of a set of duplicates; newest first makes that the latest.
    newest_first = feedback.iloc[::-1]
    combined = pd.concat([checked, newest_first], ignore_index=True)
    deduped, report = dedupe(combined)
    survivors = deduped.loc[deduped["source"].eq(SOURCE)].iloc[::-1]
    merged = pd.concat([frame, survivors], ignore_index=True)
    return merged, report


def _parse_line(line: str, path: Path, number: int) -> dict[str, Any]:
    where = f"{path} line {number}"
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FeedbackError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(item, dict):
        raise FeedbackError(f"{where}: not a JSON object")
    schema = item.get("schema")
    if schema != SCHEMA:
        raise FeedbackError(f"{where}: schema {schema!r}, expected {SCHEMA!r}", field="schema")
    doc_id = item.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise FeedbackError(f"{where}: missing doc_id", field="doc_id")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FeedbackError(f"{where}: missing text (doc_id {doc_id})", field="text")
    row: dict[str, Any] = {"doc_id": doc_id, "text": text}
    for column in ("parent_text", "topic"):
        value = item.get(column)
        if value is not None and not isinstance(value, str):
            raise FeedbackError(f"{where}: {column} must be a string or null", field=column)
        row[column] = value if value and value.strip() else None
    for head in LABEL_HEADS:
        row[head] = _binary(item.get(head), where, head)
    for column, allowed in _CHOICES.items():
        value = item.get(column)
        if value is not None and value not in allowed:
            raise FeedbackError(
                f"{where}: unknown {column} {value!r} (expected one of "
                f"{', '.join(allowed)} or null)",
                field=column,
            )
        row[column] = value
    if row["hate_target"] is not None and row["hate"] != 1.0:
        raise FeedbackError(
            f"{where}: hate_target {row['hate_target']!r} on a decision whose hate is not 1",
            field="hate_target",
        )
    return row


def _binary(value: object, where: str, head: str) -> float | None:
    # bool is an int in Python; a JSON true is not the schema's 1.
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        return float(value)
    raise FeedbackError(
        f"{where}: unknown {head} value {value!r} (expected 1, 0 or null)", field=head
    )


def _frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    columns = ("text", "parent_text", "topic", "doc_id", *LABELS)
    frame = pd.DataFrame.from_records(list(rows), columns=list(columns))
    for head in LABEL_HEADS:
        frame[head] = frame[head].astype("float64")
    frame["split"] = "train"
    frame["split_basis"] = SPLIT_BASIS
    return finish(frame, source=SOURCE)

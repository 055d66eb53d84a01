"""Rows as the readers deliver them, the per-row checks, and scoring one chunk.

`score_frame` refuses a whole frame when one value is bad. A batch of millions of rows must
instead name the bad row and, with `--on-error skip`, score the others; so every value is
checked here first, by the same rules `score_frame` applies (plus: an empty text is an
error, since it has nothing to score), and only clean rows reach `score_frame`. Both
engines score through `score_chunk`, so they agree on what a bad row is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from app.batch.spec import Columns
from app.registry import LoadedModel
from app.scoring import MAX_TEXT_CHARS, ScoringInputError, score_frame


@dataclass(frozen=True)
class RawChunk:
    """Consecutive input rows: one list of values per configured column.

    `start` is the 0-based number of the first row in the input (the first data row of a
    CSV is row 0). `broken` maps a position in the chunk to why that row could not be read
    at all (a JSONL line that is not a JSON object); its values in the lists are None.
    """

    start: int
    text: list[Any]
    ids: list[Any] | None = None
    parents: list[Any] | None = None
    topics: list[Any] | None = None
    broken: dict[int, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.text)

    def window(self, first: int, stop: int | None = None) -> RawChunk:
        """Rows `first` to `stop` (exclusive) as a chunk of their own."""
        stop = self.size if stop is None else min(stop, self.size)

        def cut(values: list[Any] | None) -> list[Any] | None:
            return None if values is None else values[first:stop]

        return RawChunk(
            start=self.start + first,
            text=self.text[first:stop],
            ids=cut(self.ids),
            parents=cut(self.parents),
            topics=cut(self.topics),
            broken={k - first: v for k, v in self.broken.items() if first <= k < stop},
        )


@dataclass(frozen=True)
class RowProblem:
    """A row left out of the output, and why; `id` is None when the run has no id column."""

    row: int
    id: Any
    message: str

    def describe(self) -> str:
        where = f"row {self.row}" + (f" (id {self.id!r})" if self.id is not None else "")
        return f"{where}: {self.message}"

    def record(self) -> dict[str, Any]:
        """The row's line in the errors file."""
        return {"row": self.row, "id": self.id, "error": self.message}


@dataclass(frozen=True)
class ScoredChunk:
    """The outcome of one chunk: output ids and scores of the clean rows, in input order,
    and the rows left out.

    `rows` holds the row numbers of the scored rows; `ids` their id column's values, or
    again their row numbers when the run has no id column.
    """

    start: int
    size: int
    rows: list[int]
    ids: list[Any]
    scored: pd.DataFrame
    problems: list[RowProblem]

    @property
    def end(self) -> int:
        return self.start + self.size

    def shifted(self, offset: int, *, ids_are_rows: bool) -> ScoredChunk:
        """The same chunk numbered from `offset` on (a Dask partition learns its place late)."""
        return replace(
            self,
            start=self.start + offset,
            rows=[r + offset for r in self.rows],
            ids=[i + offset for i in self.ids] if ids_are_rows else self.ids,
            problems=[replace(p, row=p.row + offset) for p in self.problems],
        )


def plain(value: Any) -> Any:
    """A cell as a plain Python value: numpy scalars unwrapped, NaN/NA/NaT as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def text_problem(value: Any, name: str) -> str | None:
    """Why `value` cannot be a comment's text, or None if it can."""
    if value is None:
        return f"{name} is missing"
    if not isinstance(value, str):
        return f"{name} must be text, not {type(value).__name__}"
    if not value.strip():
        return f"{name} is empty"
    return _length_problem(value, name)


def context_problem(value: Any, name: str) -> str | None:
    """Why `value` cannot be a parent text or topic (both may be missing or empty)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be text, not {type(value).__name__}"
    return _length_problem(value, name)


def _length_problem(value: str, name: str) -> str | None:
    if len(value) > MAX_TEXT_CHARS:
        return f"{name} has {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}"
    return None


def score_chunk(
    model: LoadedModel, chunk: RawChunk, columns: Columns, *, evidence_top: int
) -> ScoredChunk:
    """Check every row of `chunk` and score the clean ones with `score_frame`, in order."""
    ids = [plain(v) for v in chunk.ids] if chunk.ids is not None else None
    parents = chunk.parents
    topics = chunk.topics
    keep: list[int] = []
    problems: list[RowProblem] = []
    for i in range(chunk.size):
        reason = chunk.broken.get(i) or _row_problem(chunk, i, columns)
        if reason is None:
            keep.append(i)
        else:
            row = chunk.start + i
            problems.append(RowProblem(row, ids[i] if ids is not None else None, reason))
    frame = pd.DataFrame({"text": pd.Series([plain(chunk.text[i]) for i in keep], dtype=object)})
    if parents is not None:
        frame["parent_text"] = pd.Series([plain(parents[i]) for i in keep], dtype=object)
    if topics is not None:
        frame["topic"] = pd.Series([plain(topics[i]) for i in keep], dtype=object)
    try:
        scored = score_frame(model, frame, evidence_top=evidence_top)
    except ScoringInputError:
        # The checks above mirror score_frame's; should they ever drift apart, isolate the
        # rows score_frame refuses instead of failing the whole chunk.
        return _score_one_by_one(model, chunk, keep, frame, ids, problems, evidence_top)
    rows = [chunk.start + i for i in keep]
    out_ids = [ids[i] for i in keep] if ids is not None else rows
    return ScoredChunk(chunk.start, chunk.size, rows, out_ids, scored, problems)


def _row_problem(chunk: RawChunk, i: int, columns: Columns) -> str | None:
    problem = text_problem(plain(chunk.text[i]), columns.text)
    if problem is None and chunk.parents is not None and columns.parent is not None:
        problem = context_problem(plain(chunk.parents[i]), columns.parent)
    if problem is None and chunk.topics is not None and columns.topic is not None:
        problem = context_problem(plain(chunk.topics[i]), columns.topic)
    return problem


def _score_one_by_one(
    model: LoadedModel,
    chunk: RawChunk,
    keep: Sequence[int],
    frame: pd.DataFrame,
    ids: list[Any] | None,
    problems: list[RowProblem],
    evidence_top: int,
) -> ScoredChunk:
    scored_rows: list[pd.DataFrame] = []
    rows: list[int] = []
    out_ids: list[Any] = []
    found = list(problems)
    for position, i in enumerate(keep):
        row = chunk.start + i
        try:
            one = score_frame(model, frame.iloc[[position]], evidence_top=evidence_top)
        except ScoringInputError as exc:
            problem_id = ids[i] if ids is not None else None
            found.append(RowProblem(row, problem_id, exc.message.removeprefix("row 0: ")))
            continue
        scored_rows.append(one)
        rows.append(row)
        out_ids.append(ids[i] if ids is not None else row)
    found.sort(key=lambda p: p.row)
    scored = (
        pd.concat(scored_rows, ignore_index=True)
        if scored_rows
        else score_frame(model, frame.iloc[[]], evidence_top=evidence_top)
    )
    return ScoredChunk(chunk.start, chunk.size, rows, out_ids, scored, found)

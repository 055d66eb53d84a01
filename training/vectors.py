"""Feature rows of every distinct string of the training data, computed once per run.

Texts, parent texts and topics repeat across heads (VAST pairs a comment with several
topics, replies share parents), so each distinct string is normalised and vectorised once.
For windowed bundles each text's sentence windows are vectorised too, exactly as the
scorer cuts them (`app.sentences.window_maps`), so validation decisions, calibration and
thresholds see the same highest-window decisions that scoring will.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from app.features import TextFeatures
from app.heads import reply_matrix, stance_matrix
from app.sentences import original_slice, window_maps

_CHUNK = 5_000


class Vectors:
    """The features of every string added, and the sentence windows of every text."""

    def __init__(self, features: TextFeatures, *, windows: int = 0) -> None:
        self.features = features
        self.windows = windows
        self.index: dict[str, int] = {}
        self.normalised: list[str] = []
        self.blocks: list[sp.csr_matrix] = []
        self.matrix: sp.csr_matrix | None = None
        # Window rows of string i: window_matrix[window_start[i]:window_start[i + 1]].
        self.window_bounds: dict[int, tuple[int, int]] = {}
        self.window_blocks: list[sp.csr_matrix] = []
        self.window_matrix: sp.csr_matrix | None = None
        self._window_count = 0

    def add(self, frame: pd.DataFrame) -> None:
        """Vectorise the new strings of `frame`'s text, parent_text and topic columns."""
        texts = set(frame["text"].dropna())
        strings: dict[str, None] = {}
        for column in ("text", "parent_text", "topic"):
            for value in frame[column].dropna():
                if value and value not in self.index:
                    strings[value] = None
        new = list(strings)
        for start in range(0, len(new), _CHUNK):
            self._add_chunk(new[start : start + _CHUNK], texts)
        self.matrix = sp.vstack(self.blocks, format="csr") if self.blocks else None
        if self.window_blocks:
            self.window_matrix = sp.vstack(self.window_blocks, format="csr")

    def _add_chunk(self, chunk: list[str], texts: set[str]) -> None:
        maps = self.features.normalise_many(chunk)
        normalised = [m.text for m in maps]
        self.blocks.append(self.features.transform_normalised(chunk, normalised))
        start = len(self.index)
        originals: list[str] = []
        window_texts: list[str] = []
        for i, (value, full) in enumerate(zip(chunk, maps, strict=True)):
            self.index[value] = start + i
            if self.windows <= 0 or value not in texts:
                continue
            parts = window_maps(full, self.windows)
            if parts:
                first = self._window_count + len(window_texts)
                self.window_bounds[start + i] = (first, first + len(parts))
                originals.extend(original_slice(value, part) for part in parts)
                window_texts.extend(part.text for part in parts)
        self.normalised.extend(normalised)
        if window_texts:
            self.window_blocks.append(self.features.transform_normalised(originals, window_texts))
            self._window_count += len(window_texts)

    def rows(self, values: Iterable[str]) -> sp.csr_matrix:
        """The feature rows of `values` (strings added before), in order."""
        assert self.matrix is not None
        return self.matrix[[self.index[v] for v in values]]

    def highest_decision(self, model: Any, values: Sequence[str]) -> np.ndarray:
        """Per text, the highest of `model.decision_function` over the text and its windows."""
        positions = [self.index[v] for v in values]
        assert self.matrix is not None
        decision = np.asarray(model.decision_function(self.matrix[positions]), dtype=np.float64)
        if self.window_matrix is None:
            return decision
        owners: list[int] = []
        rows: list[int] = []
        for i, position in enumerate(positions):
            bounds = self.window_bounds.get(position)
            if bounds is not None:
                rows.extend(range(*bounds))
                owners.extend([i] * (bounds[1] - bounds[0]))
        if rows:
            windowed = np.asarray(
                model.decision_function(self.window_matrix[rows]), dtype=np.float64
            )
            np.maximum.at(decision, np.asarray(owners), windowed)
        return decision

    def stance(self, frame: pd.DataFrame, topics: frozenset[str]) -> sp.csr_matrix:
        """The stance head's matrix for `frame`'s text and topic columns."""
        return stance_matrix(
            self.features,
            self.rows(frame["text"]),
            self.rows(frame["topic"]),
            [self.normalised[self.index[t]] for t in frame["text"]],
            list(frame["topic"]),
            topics,
        )

    def reply(self, frame: pd.DataFrame, **options: Any) -> sp.csr_matrix:
        """The reply head's matrix for `frame`'s text and parent_text columns."""
        return reply_matrix(
            self.features,
            self.rows(frame["text"]),
            self.rows(frame["parent_text"]),
            **options,
        )

    def window_rows(
        self, values: Sequence[str], weights: np.ndarray
    ) -> tuple[sp.csr_matrix | None, np.ndarray]:
        """The window rows of `values` (texts added before), each weighing its text's weight
        divided by its number of windows; None when none of them has windows."""
        if self.window_matrix is None:
            return None, np.zeros(0)
        rows: list[int] = []
        out: list[float] = []
        for value, weight in zip(values, weights, strict=True):
            bounds = self.window_bounds.get(self.index[value])
            if bounds is None:
                continue
            count = bounds[1] - bounds[0]
            rows.extend(range(*bounds))
            out.extend([float(weight) / count] * count)
        if not rows:
            return None, np.zeros(0)
        return self.window_matrix[rows], np.asarray(out, dtype=np.float64)

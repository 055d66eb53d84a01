"""Remove test leakage and duplicates from the combined frame of all datasets.

Public datasets overlap (the same tweet in two corpora, a PAN text in both train and test,
a Reddit comment labelled for two groups), so a text seen in any test split must not be
trained on, and a text seen in validation must not be trained on either, or thresholds
chosen on validation would be optimistic. Texts are compared by `dedupe_key`, which ignores
case, URLs, @mentions and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

STEPS: tuple[str, ...] = ("empty_key", "test_leak", "val_leak", "duplicate")

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_NON_ALNUM = re.compile(r"[\W_]+")


def dedupe_key(text: str) -> str:
    """The comparison key of a text: NFKC, casefolded, no URLs/@mentions, alphanumeric words."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    normal = _MENTION.sub(" ", _URL.sub(" ", normal))
    return _NON_ALNUM.sub(" ", normal).strip()


@dataclass(frozen=True)
class DedupeReport:
    """How many rows each step removed, per source; `rows_in`/`rows_out` are the totals."""

    rows_in: int
    rows_out: int
    removed: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def count(self, step: str | None = None, source: str | None = None) -> int:
        """Rows removed by `step` (all steps if None) from `source` (all sources if None)."""
        return sum(
            n
            for name, steps in self.removed.items()
            if source is None or name == source
            for kind, n in steps.items()
            if step is None or kind == step
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per source, one column per step, plus a total column."""
        table = pd.DataFrame(
            [[self.removed[source].get(step, 0) for step in STEPS] for source in self.removed],
            index=pd.Index(list(self.removed), name="source"),
            columns=list(STEPS),
            dtype="int64",
        )
        table["total"] = table.sum(axis=1)
        return table.sort_index()

    def __str__(self) -> str:
        steps = ", ".join(f"{step} {self.count(step)}" for step in STEPS)
        return f"dedupe: {self.rows_in} rows in, {self.rows_out} out ({steps})"


def dedupe(frame: pd.DataFrame) -> tuple[pd.DataFrame, DedupeReport]:
    """Drop empty keys, test leakage, val leakage, then duplicates within (source, split)."""
    rows_in = len(frame)
    keys = frame["text"].map(dedupe_key)
    removed: dict[str, dict[str, int]] = {}

    def drop(mask: pd.Series, step: str) -> None:
        nonlocal frame, keys
        for source, n in frame.loc[mask, "source"].value_counts().items():
            removed.setdefault(str(source), {})[step] = int(n)
        frame, keys = frame.loc[~mask], keys.loc[~mask]

    drop(keys.eq(""), "empty_key")
    split = frame["split"]
    test_keys = set(keys[split.eq("test")])
    drop(split.isin(("train", "val")) & keys.isin(test_keys), "test_leak")
    split = frame["split"]
    val_keys = set(keys[split.eq("val")])
    drop(split.eq("train") & keys.isin(val_keys), "val_leak")
    parent_keys = frame["parent_text"].map(
        lambda text: dedupe_key(text) if isinstance(text, str) else ""
    )
    identity = pd.DataFrame(
        {
            "source": frame["source"],
            "split": frame["split"],
            "key": keys,
            "topic": frame["topic"],
            "parent": parent_keys,
        }
    )
    drop(identity.duplicated(keep="first"), "duplicate")

    report = DedupeReport(
        rows_in=rows_in,
        rows_out=len(frame),
        removed={source: dict(steps) for source, steps in sorted(removed.items())},
    )
    return frame.reset_index(drop=True), report

"""Helpers for building small schema-valid frames in tests."""

from __future__ import annotations

import pandas as pd

from tests.conftest import DATA
from training.datasets.reading import finish

FIXTURES = DATA / "datasets"


def make_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A schema-valid frame from partial rows; unnamed columns get the schema defaults."""
    base: dict[str, object] = {"split": "train", "split_basis": "official", "doc_id": "d"}
    parts = [
        finish(pd.DataFrame([{**base, **row}]), source=str(row.get("source", "toy")))
        for row in rows
    ]
    return pd.concat(parts, ignore_index=True)

"""Deterministic train/val/test assignment for datasets that ship without (all) splits.

A row's split depends only on the dataset name and the row's key, never on row order, the
other rows or a random state, so it is stable across runs, machines and data refreshes, and
rows that share a key (sentences of one post, comments on one article) share a split.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import pandas as pd

from training.datasets.schema import SPLITS

TRAIN_VAL_TEST: dict[str, float] = {"train": 0.70, "val": 0.15, "test": 0.15}
TRAIN_VAL: dict[str, float] = {"train": 0.85, "val": 0.15}
OFFICIAL = "official"

_SCALE = float(2**64)


def hash_unit(key: str, *, salt: str) -> float:
    """sha256(salt + key) read as a number in [0, 1)."""
    digest = hashlib.sha256((salt + key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def hash_split(keys: pd.Series, fractions: Mapping[str, float], *, salt: str) -> pd.Series:
    """Each key's split: the fraction band (in `fractions` order) its hash falls into.

    Raises:
        ValueError: a split name is unknown, a fraction is not positive, or they do not sum to 1.
    """
    _check_fractions(fractions)
    names = list(fractions)
    bounds: list[float] = []
    total = 0.0
    for name in names:
        total += fractions[name]
        bounds.append(total)
    # Float sums can land just under 1; the last band must catch everything.
    bounds[-1] = 1.0

    def band(key: str) -> str:
        unit = hash_unit(key, salt=salt)
        return next(name for name, bound in zip(names, bounds, strict=True) if unit < bound)

    as_text = [str(key) for key in keys]
    bands = {key: band(key) for key in set(as_text)}
    return pd.Series([bands[key] for key in as_text], index=keys.index, dtype="str", name="split")


def hash_basis(key: str, fractions: Mapping[str, float], *, part: str | None = None) -> str:
    """The `split_basis` text for a hash split, e.g. ``hash(dev: id)->train/val 85/15``."""
    _check_fractions(fractions)
    where = f"{part}: {key}" if part else key
    names = "/".join(fractions)
    percents = "/".join(f"{round(share * 100):g}" for share in fractions.values())
    return f"hash({where})->{names} {percents}"


def _check_fractions(fractions: Mapping[str, float]) -> None:
    if not fractions:
        raise ValueError("fractions: at least one split is required")
    if unknown := sorted(set(fractions) - set(SPLITS)):
        raise ValueError(f"fractions: unknown split {', '.join(unknown)}")
    if any(not share > 0 for share in fractions.values()):
        raise ValueError("fractions: every fraction must be > 0")
    if not math.isclose(sum(fractions.values()), 1.0, abs_tol=1e-9):
        raise ValueError(f"fractions: must sum to 1, got {sum(fractions.values()):g}")

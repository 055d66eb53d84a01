"""Tests for the deterministic hash split."""

from __future__ import annotations

import pandas as pd
import pytest

from training.datasets.splits import (
    TRAIN_VAL,
    TRAIN_VAL_TEST,
    hash_basis,
    hash_split,
    hash_unit,
)

KEYS = pd.Series([f"key-{number}" for number in range(10_000)])


def test_same_keys_same_splits_on_every_call() -> None:
    first = hash_split(KEYS, TRAIN_VAL_TEST, salt="toy")
    second = hash_split(KEYS.sample(frac=1.0, random_state=1), TRAIN_VAL_TEST, salt="toy")
    pd.testing.assert_series_equal(first, second.sort_index())


def test_split_of_a_key_does_not_depend_on_other_rows() -> None:
    alone = hash_split(KEYS.iloc[[42]], TRAIN_VAL_TEST, salt="toy")
    together = hash_split(KEYS, TRAIN_VAL_TEST, salt="toy")
    assert alone.iloc[0] == together.iloc[42]


@pytest.mark.parametrize("fractions", [TRAIN_VAL_TEST, TRAIN_VAL])
def test_fractions_hold_on_ten_thousand_keys(fractions: dict[str, float]) -> None:
    shares = hash_split(KEYS, fractions, salt="toy").value_counts(normalize=True)
    assert set(shares.index) == set(fractions)
    for name, share in fractions.items():
        assert abs(shares[name] - share) < 0.015


def test_salt_changes_the_assignment() -> None:
    one = hash_split(KEYS, TRAIN_VAL_TEST, salt="dataset-a")
    two = hash_split(KEYS, TRAIN_VAL_TEST, salt="dataset-b")
    assert (one != two).mean() > 0.3


def test_equal_keys_share_a_split_and_index_is_kept() -> None:
    keys = pd.Series(["post-1", "post-2", "post-1"], index=[7, 8, 9])
    result = hash_split(keys, TRAIN_VAL_TEST, salt="toy")
    assert list(result.index) == [7, 8, 9]
    assert result[7] == result[9]
    assert str(result.dtype) == "str"


def test_hash_unit_is_sha256_of_salt_plus_key() -> None:
    # sha256("ab") starts with fb8e20fc2e4c3f24; the first 8 bytes over 2**64.
    assert hash_unit("b", salt="a") == pytest.approx(0xFB8E20FC2E4C3F24 / 2**64)
    assert 0.0 <= hash_unit("", salt="") < 1.0


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ({}, "at least one split"),
        ({"train": 0.5, "dev": 0.5}, "unknown split dev"),
        ({"train": 1.0, "val": 0.0}, "every fraction must be > 0"),
        ({"train": 0.7, "val": 0.2}, "must sum to 1, got 0.9"),
    ],
)
def test_bad_fractions(fractions: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hash_split(KEYS.head(3), fractions, salt="toy")


def test_hash_basis_says_how_the_split_was_made() -> None:
    assert hash_basis("id", TRAIN_VAL_TEST) == "hash(id)->train/val/test 70/15/15"
    assert hash_basis("id", TRAIN_VAL, part="dev") == "hash(dev: id)->train/val 85/15"

"""Tests for the label mapping table, its lookups and the group code books."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.datasets import labels
from training.datasets.catalog import LOADERS
from training.datasets.labels import (
    LABEL_MAPPINGS,
    LabelError,
    dynahate_target,
    lookup,
    map_labels,
    sbic_phrase_target,
    sbic_target,
    spell_label,
)
from training.datasets.schema import HATE_TARGETS, REPLY_STANCES, STANCES, TAGS


def test_one_row_per_dataset_and_value() -> None:
    keys = [(mapping.dataset, mapping.original) for mapping in LABEL_MAPPINGS]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("mapping", LABEL_MAPPINGS, ids=lambda m: f"{m.dataset}:{m.original}")
def test_row_is_well_formed(mapping: labels.LabelMapping) -> None:
    for head in (mapping.hate, mapping.toxic, mapping.conspiracy):
        assert head in (None, 0.0, 1.0)
    assert mapping.stance in (None, *STANCES)
    assert mapping.reply_stance in (None, *REPLY_STANCES)
    assert mapping.tag in (None, *TAGS)
    # One short sentence saying why.
    assert mapping.why.endswith(".")
    assert len(mapping.why) <= 100
    assert ". " not in mapping.why
    if mapping.drop:
        heads = (mapping.hate, mapping.toxic, mapping.conspiracy, mapping.stance)
        assert heads == (None, None, None, None)
        assert mapping.reply_stance is None


def test_every_value_in_the_fixtures_is_covered_and_every_row_is_exercised(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[tuple[str, str]] = set()
    real: Callable[[pd.DataFrame, str, pd.Series], pd.DataFrame] = labels.map_labels

    def spy(frame: pd.DataFrame, dataset: str, originals: pd.Series) -> pd.DataFrame:
        seen.update((dataset, str(value)) for value in originals)
        return real(frame, dataset, originals)

    monkeypatch.setattr(labels, "map_labels", spy)
    sources: set[str] = set()
    for loader in LOADERS.values():
        # An unmapped fixture value would raise LabelError here.
        sources.update(loader(data_dir)["source"])
    table = {(mapping.dataset, mapping.original) for mapping in LABEL_MAPPINGS}
    assert seen <= table
    assert table - seen == set(), "table rows no fixture exercises"
    assert sources == labels.datasets_in_table()


def test_lookup_and_unknown_values() -> None:
    assert lookup("hatexplain", "offensive").toxic == 1.0
    with pytest.raises(LabelError, match=r"hatexplain: label value 'spam' is not in the mapping"):
        lookup("hatexplain", "spam")
    frame = pd.DataFrame({"text": ["a", "b"]})
    with pytest.raises(
        LabelError, match=r"davidson: label value\(s\) not in the mapping table: '7'"
    ):
        map_labels(frame, "davidson", pd.Series(["0", "7"]))


def test_map_labels_sets_heads_drops_and_keeps_existing_tags() -> None:
    frame = pd.DataFrame(
        {"text": ["a", "b", "c", "d"], "tag": ["perturbation", None, "perturbation", None]}
    )
    out = map_labels(
        frame, "mhs-jewish", pd.Series(["score>0.5", "score<-1", "score<-1", "-1<=score<=0.5"])
    )
    assert list(out["hate"].fillna(-1.0)) == [1.0, 0.0, 0.0, -1.0]
    assert out["toxic"].isna().all()
    # The table's tag wins over a loader's tag only where the table has one.
    assert list(out["tag"].fillna("-")) == ["perturbation", "counter_speech", "counter_speech", "-"]
    kept = map_labels(
        pd.DataFrame({"text": ["a", "b"]}, index=[5, 6]),
        "hatexplain",
        pd.Series(["undecided", "normal"], index=[5, 6]),
    )
    assert list(kept.index) == [6]


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (1, "1"),
        (0.0, "0"),
        (np.int64(2), "2"),
        ("1.0", "1"),
        (" 0 ", "0"),
        (True, "True"),
        (np.bool_(False), "False"),
        (float("nan"), ""),
        (None, ""),
        (0.5, "0.5"),
        ("biased?", "biased?"),
        ("1 - context needed", "1 - context needed"),
    ],
)
def test_spell_label(value: object, spelled: str) -> None:
    assert spell_label(value) == spelled


def test_code_books_only_name_hate_targets() -> None:
    books = [
        labels.DYNAHATE_TARGETS.values(),
        labels.TOXIGEN_TARGETS.values(),
        labels.REDDITBIAS_GROUPS.values(),
        [target for target, _ in labels.SBIC_TARGET_PATTERNS],
    ]
    for book in books:
        assert {target for target in book if target is not None} <= set(HATE_TARGETS)


@pytest.mark.parametrize(
    ("codes", "target"),
    [
        ("jew", "jewish"),
        ("bla, jew", "black"),
        ("wc, immig", "immigrant"),
        ("nazis", "other"),
        ("martians", "other"),
        ("none", None),
        ("notgiven", None),
        (float("nan"), None),
        ("trav", "roma"),
        ("asi.chin", "asian"),
        ("gay.wom", "lgbtq"),
    ],
)
def test_dynahate_target(codes: object, target: str | None) -> None:
    assert dynahate_target(codes) == target


@pytest.mark.parametrize(
    ("phrase", "target"),
    [
        ("jewish folks", "jewish"),
        ("Holocaust victims", "jewish"),
        ("black jew", "jewish"),
        ("lesbian women", "lgbtq"),
        ("trans women", "lgbtq"),
        ("women", "women"),
        ("latino/latina folks", "hispanic"),
        ("native american/first nation folks", "other"),
        ("people from indiana", "other"),
        ("indian folks", "asian"),
        ("arabic folks", "arab"),
        ("muslim folks", "muslim"),
        ("catholics", "christian"),
        ("ethiopians", "black"),
        ("gypsies", "roma"),
        ("immigrants", "immigrant"),
        ("mentally disabled folks", "disability"),
        ("assault victims", "other"),
    ],
)
def test_sbic_phrase_target(phrase: str, target: str) -> None:
    assert sbic_phrase_target(phrase) == target


def test_sbic_target_takes_the_most_named_specific_group() -> None:
    assert sbic_target(["lesbian women, asian folks", "asian folks"]) == "asian"
    assert sbic_target(["women", "black folks"]) == "women"  # tie: first named
    assert sbic_target(["liberals", "black folks"]) == "black"
    assert sbic_target(["liberals"]) == "other"
    assert sbic_target([]) is None

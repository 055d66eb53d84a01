"""One end-to-end check of load_all on the real datasets in ../shared/datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SHARED, shared_file
from training.datasets import labels
from training.datasets.catalog import load_all
from training.datasets.dedupe import dedupe_key

ALL = {"train", "val", "test"}
EXPECTED_SPLITS: dict[str, set[str]] = {
    "hatexplain": ALL,
    "dynahate": ALL,
    "sbic": ALL,
    "redditbias": ALL,
    "stormfront": ALL,
    "davidson": ALL,
    "ethos": ALL,
    "toxigen-seeds": ALL,
    "civil-toxic-spans": ALL,
    "wiki-toxicity-identity": {"test"},
    "wiki-toxicity-fuzzed": {"test"},
    "bias-madlibs": {"test"},
    "fox-news-comments": ALL,
    "tweeteval-hate": ALL,
    "tweeteval-offensive": ALL,
    "tweeteval-stance": ALL,
    "vast": ALL,
    "pan2024-oppositional-train": {"train", "val"},
    "pan2024-oppositional": {"test"},
    "covid-vaccine-conspiracy": ALL,
    "prct-youtube": ALL,
    "rumoureval2019": ALL,
    "debagreement": ALL,
    "antisemitism-4chan-pol": ALL,
    "antisemitism-tweets-handlabeled": ALL,
    "mhs-jewish": ALL,
    "israel-palestine-reddit-stance": ALL,
}


@pytest.mark.datasets
def test_load_all_on_the_real_datasets() -> None:
    data_dir = shared_file(SHARED / "datasets")
    frame, report = load_all(data_dir)

    splits = frame.groupby("source")["split"].agg(lambda values: set(values)).to_dict()
    assert splits == EXPECTED_SPLITS

    counts = frame.groupby(["source", "split"]).size()
    assert counts["hatexplain", "train"] > 15_000
    assert counts["hatexplain", "val"] > 1_850
    assert counts["bias-madlibs", "test"] > 76_000
    assert counts["davidson"].sum() > 23_000
    assert counts["rumoureval2019"].sum() > 7_000
    assert report.count() < 0.03 * report.rows_in
    assert 200_000 < report.rows_out == len(frame)

    # No text of any test row is trained or validated on, and no val text is trained on.
    keys = frame["text"].map(dedupe_key)
    test_keys = set(keys[frame["split"].eq("test")])
    val_keys = set(keys[frame["split"].eq("val")])
    assert not test_keys & set(keys[frame["split"].isin(["train", "val"])])
    assert not val_keys & set(keys[frame["split"].eq("train")])
    assert frame.loc[frame["eval_only"], "split"].eq("test").all()

    heads = frame.groupby("source")[["hate", "toxic", "conspiracy"]].count()
    assert heads.loc["hatexplain", "hate"] > 18_000
    assert heads.loc["civil-toxic-spans", "toxic"] > 15_000
    assert heads.loc["pan2024-oppositional-train", "conspiracy"] > 3_900
    jewish = frame["hate_target"].eq("jewish")
    assert jewish.sum() > 5_000
    assert frame.loc[frame["source"].eq("vast"), "topic"].notna().all()
    assert frame.loc[frame["source"].eq("debagreement"), "parent_text"].notna().all()

    # Every DynaHate target code and ToxiGen group in the files is mapped on purpose.
    codes = {
        code.strip()
        for part in ("dev", "test")
        for field in pd.read_csv(data_dir / f"dynahate/dynahate_{part}.csv")["target"].dropna()
        for code in str(field).split(",")
    }
    assert codes <= set(labels.DYNAHATE_TARGETS)
    groups = set(
        pd.read_csv(data_dir / "toxigen-seeds/toxigen_seed_statements.csv")["target_group"]
    )
    assert groups <= set(labels.TOXIGEN_TARGETS)

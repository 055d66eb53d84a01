import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.registry import LoadedModel, bundle_digest, load, load_current
from tests.conftest import SHARED, shared_file
from training.fitting import tune_bias
from training.severity import severity_rows
from training.train import THRESHOLD_RULES, TrainConfig, _cap_critical


def test_the_manifest_records_what_loading_and_auditing_need(tiny_model: LoadedModel) -> None:
    manifest = tiny_model.manifest
    for key in (
        "version",
        "created_at",
        "sklearn_version",
        "python_version",
        "feature_schema",
        "label_schema",
        "normalisation_steps",
        "model_sha256",
        "model_bytes",
    ):
        assert manifest[key], key
    for head in ("hate", "toxic", "conspiracy"):
        entry = manifest["thresholds"][head]
        assert entry["rule"].startswith(THRESHOLD_RULES[head])
        assert 0.0 <= entry["threshold"] <= 1.0
        assert entry["validation"]["n"] > 0
    assert manifest["metrics"]["validation"]["hate"]["auroc"] > 0.5
    assert manifest["training"]["rows"]["stance"]["topics"] == 2


def test_thresholds_come_from_the_manifest(tiny_model: LoadedModel) -> None:
    for head, value in tiny_model.thresholds.items():
        assert value == tiny_model.manifest["thresholds"][head]["threshold"]


def test_tune_bias_recovers_a_shifted_class() -> None:
    # Class "b" is always under-predicted by 0.3 in probability: a bias must fix it.
    truth = ["a"] * 50 + ["b"] * 50
    probs = np.array([[0.8, 0.2]] * 50 + [[0.6, 0.4]] * 50)
    bias = tune_bias(probs, truth, ["a", "b"])
    assert bias["a"] == 0.0
    assert np.log(0.4) + bias["b"] > np.log(0.6)
    assert np.log(0.2) + bias["b"] < np.log(0.8)


def test_grouped_bias_serves_the_small_source_too() -> None:
    # A large source where "b" is rare and a small one where it is common: pooled macro-F1
    # barely moves with b's offset, the mean of the two sources' figures does.
    big_truth = ["a"] * 900 + ["b"] * 10
    big = np.array([[0.9, 0.1]] * 900 + [[0.7, 0.3]] * 10)
    small_truth = ["a"] * 20 + ["b"] * 80
    small = np.array([[0.75, 0.25]] * 20 + [[0.65, 0.35]] * 80)
    probs = np.vstack([big, small])
    truth = big_truth + small_truth
    groups = [np.arange(1010) < 910, np.arange(1010) >= 910]
    grouped = tune_bias(probs, truth, ["a", "b"], groups=groups)
    # b must win wherever its probability is .3 or .35, and lose at .1.
    assert np.log(0.3) + grouped["b"] > np.log(0.7)
    assert np.log(0.1) + grouped["b"] < np.log(0.9)


def test_the_conspiracy_threshold_is_raised_until_few_critical_rows_are_flagged() -> None:
    # 10 critical negatives scored .1 .. 1.0, 2 positives at .95; a cap of .2 allows 2 of the
    # critical rows (.9 and 1.0) to be flagged, so the threshold must exceed .8.
    critical = np.round(np.arange(1, 11) / 10, 2)
    p = np.concatenate([critical, [0.95, 0.95]])
    y = np.array([0] * 10 + [1, 1])
    rows = pd.DataFrame({"tag": ["critical"] * 10 + [None, None]})
    config = TrainConfig(critical_fpr_cap=0.2)
    threshold, at, rule = _cap_critical(rows, y, p, 0.5, {"threshold": 0.5}, "best_f1", config)
    assert 0.8 < threshold <= 0.9
    assert at["critical_fpr"] == pytest.approx(0.2)
    assert rule.startswith("best_f1, raised")
    # A threshold already above the floor stays.
    kept, _, _ = _cap_critical(rows, y, p, 0.95, {"threshold": 0.95}, "best_f1", config)
    assert kept == 0.95


def test_severity_rows_read_three_classes_from_hate_and_toxic() -> None:
    rows = pd.DataFrame(
        {
            "source": ["hatexplain", "hatexplain", "hatexplain", "davidson", "ethos", "davidson"],
            "hate": [1.0, 0.0, 0.0, 1.0, 1.0, None],
            "toxic": [1.0, 1.0, 0.0, 1.0, 1.0, 1.0],
        }
    )
    out = severity_rows(rows, ("hatexplain", "davidson"))
    assert out["severity"].tolist() == ["hateful", "offensive", "normal", "hateful"]


@pytest.mark.datasets
@pytest.mark.slow
def test_a_small_sample_of_the_real_datasets_trains_into_a_loadable_bundle(
    tmp_path: Path,
) -> None:
    from training.run import train_bundle

    data_dir = shared_file(SHARED / "datasets")
    config = TrainConfig(
        sample=120,
        word_max_features=3_000,
        char_max_features=6_000,
        c_grid=(1.0,),
    )
    version_dir = train_bundle(data_dir, out_dir=tmp_path, config=config, set_current=True)
    model = load(version_dir)
    # CURRENT names it with the digest of all its files, the card written last included.
    assert load_current(tmp_path).digest == bundle_digest(version_dir)
    assert (tmp_path / "CURRENT").read_text().split()[0] == model.version
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert {d["dataset"] for d in manifest["datasets"]} >= {"hatexplain", "rumoureval2019"}
    assert all(len(d["sha256"]) == 64 for d in manifest["datasets"])
    assert "hatexplain_macro_f1" in manifest["metrics"]["test"]
    assert set(manifest["decision"]["severity"]["class_bias"]) == {"normal", "offensive", "hateful"}
    assert model.compiled.severity is not None
    card = (version_dir / "card.md").read_text()
    assert "## Intended use" in card and model.version in card

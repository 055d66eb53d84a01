"""The training ablation runner on the tiny training set: every variant trains and is measured."""

import pytest

from tests.conftest import TINY_TRAINING, read_training_frame
from training.ablation_training import VARIANTS, ablate, render
from training.train import TrainConfig


@pytest.mark.slow
def test_each_variant_trains_and_is_measured_beside_the_full_pipeline() -> None:
    frame = read_training_frame(TINY_TRAINING)
    chosen = [VARIANTS[0], VARIANTS[1]]
    base = TrainConfig(min_df=1, word_max_features=2_000, char_max_features=2_000, c_grid=(1.0,))
    results = ablate(frame, frame, sample=None, variants=chosen, base=base)
    assert [r["variant"] for r in results] == [name for name, _, _ in chosen]
    assert results[0]["speed_ratio"] == 1.0
    for entry in results:
        assert 0.0 <= entry["hate_ap"] <= 1.0
        assert 0.0 <= entry["suite_overall"] <= 1.0
        assert entry["texts_per_s"] > 0
    table = render(results, sample=100)
    assert "| without sentence windows |" in table

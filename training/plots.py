"""Report figures: each function draws one small PNG from metric inputs and returns its path.

Figures are built with matplotlib's object API on an Agg canvas created inside each call,
never through pyplot: no display is needed, no backend is switched for the rest of the
process (a notebook keeps its own), and no figure is left open in a global registry.
matplotlib is imported inside the functions so that importing this module (and the report
code that imports it) does not need it.

NaN handling: rows whose score is NaN are left out of curves (the legend says how many);
NaN metric values are drawn as an empty slot labelled "n/a" rather than as a zero bar.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, precision_recall_curve

from app.errors import AppError
from training.metrics import binary_metrics, reliability_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
NA = "n/a"

PathLike = str | os.PathLike[str]
Series = tuple[ArrayLike, ArrayLike]


class PlotError(AppError, ValueError):
    """Inputs a figure cannot be drawn from (no series, mismatched labels, missing columns)."""

    code = "plot_error"


def _figure(width: float, height: float, *, rows: int = 1, ratios: Sequence[float] = ()) -> Figure:
    """A figure on its own Agg canvas, with `rows` stacked axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    if rows > 1:
        fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": list(ratios)})
    else:
        fig.add_subplot()
    return fig


def _save(fig: Figure, path: PathLike) -> Path:
    """Write `fig` as PNG to `path` (creating its folder) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=DPI)
    return out


def _finite_rows(
    y: ArrayLike, p: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """y and p without the rows where either is NaN, and how many rows were dropped."""
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_arr.shape != p_arr.shape or y_arr.ndim != 1:
        raise PlotError(f"y and p must be 1-D and equally long: {y_arr.shape}, {p_arr.shape}")
    keep = np.isfinite(y_arr) & np.isfinite(p_arr)
    y_kept = y_arr[keep]
    if not np.all((y_kept == 0) | (y_kept == 1)):
        raise PlotError("y must hold 0/1 labels")
    return y_kept, p_arr[keep], int((~keep).sum())


def _dropped(count: int) -> str:
    """Legend suffix naming rows left out for NaN."""
    return f", {count} NaN dropped" if count else ""


def _require(series: Mapping[str, Any], what: str) -> None:
    """Refuse an empty mapping: a figure without series is a caller's mistake."""
    if not series:
        raise PlotError(f"{what} needs at least one series")


def pr_curves(curves: Mapping[str, Series], path: PathLike, title: str) -> Path:
    """Precision-recall curves of several models or heads on one plot, AP in the legend."""
    _require(curves, "pr_curves")
    fig = _figure(5.5, 4.2)
    ax = fig.axes[0]
    for name, (y, p) in curves.items():
        y_ok, p_ok, dropped = _finite_rows(y, p)
        if len(y_ok) == 0 or not y_ok.any():
            # No positives: precision-recall is undefined, keep the entry so the gap shows.
            ax.plot([], [], label=f"{name} (AP {NA}{_dropped(dropped)})")
            continue
        # Scores need not be probabilities here (a peer may give margins), so no range check.
        ap = float(average_precision_score(y_ok, p_ok))
        precision, recall, _ = precision_recall_curve(y_ok, p_ok)
        ax.step(recall, precision, where="post", label=f"{name} (AP {ap:.3f}{_dropped(dropped)})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    return _save(fig, path)


def confusion_matrix_plot(
    matrix: ArrayLike, labels: Sequence[str], path: PathLike, title: str
) -> Path:
    """Confusion matrix (rows = true) with counts, shaded by each row's share."""
    counts = np.asarray(matrix, dtype=np.float64)
    k = len(labels)
    if k == 0 or counts.shape != (k, k):
        raise PlotError(f"matrix must be {k} x {k} to match labels, got shape {counts.shape}")
    row_totals = np.nansum(counts, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(row_totals > 0, counts / row_totals, np.nan)
    size = 1.6 + 0.75 * k
    fig = _figure(size + 0.8, size)
    ax = fig.axes[0]
    image = ax.imshow(np.ma.masked_invalid(shares), cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if math.isnan(counts[i, j]):
                text, dark = NA, False
            else:
                share = shares[i, j]
                pct = "" if math.isnan(share) else f"\n{share:.0%}"
                text, dark = f"{counts[i, j]:.0f}{pct}", not math.isnan(share) and share > 0.55
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color="white" if dark else "black",
            )
    ax.set_xticks(range(k), labels=list(labels), rotation=30, ha="right")
    ax.set_yticks(range(k), labels=list(labels))
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=ax, label="share of true row", shrink=0.8)
    return _save(fig, path)


def reliability_plot(series: Mapping[str, Series], path: PathLike, title: str) -> Path:
    """Reliability diagram: the diagonal, one curve per series, and a histogram of p below."""
    _require(series, "reliability_plot")
    fig = _figure(5.5, 5.2, rows=2, ratios=(3, 1))
    top, bottom = fig.axes[0], fig.axes[1]
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    edges = [i / 10 for i in range(11)]
    for name, (y, p) in series.items():
        y_ok, p_ok, dropped = _finite_rows(y, p)
        if len(y_ok) == 0:
            top.plot([], [], label=f"{name} (no scores{_dropped(dropped)})")
            continue
        if p_ok.min() < 0 or p_ok.max() > 1:
            raise PlotError(f"{name}: a reliability plot needs probabilities in [0, 1]")
        table = reliability_table(y_ok, p_ok, bins=10)
        filled = table[table["count"] > 0]
        ece = binary_metrics(y_ok, p_ok, 0.5)["ece"]
        (line,) = top.plot(
            filled["mean_p"],
            filled["frac_pos"],
            marker="o",
            label=f"{name} (ECE {ece:.3f}{_dropped(dropped)})",
        )
        bottom.hist(p_ok, bins=edges, histtype="step", color=line.get_color())
    top.set(ylabel="fraction positive", xlim=(0, 1), ylim=(0, 1.02), title=title)
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize="small")
    bottom.set(xlabel="predicted probability", ylabel="count")
    return _save(fig, path)


def _bar_labels(
    ax: Axes, positions: Sequence[float], values: Sequence[float], *, horizontal: bool
) -> None:
    """Write each bar's value at its end, or "n/a" where the value is NaN."""
    for pos, value in zip(positions, values, strict=True):
        text = NA if math.isnan(value) else f"{value:.3g}"
        at = 0.0 if math.isnan(value) else value
        if horizontal:
            ax.annotate(
                text,
                (at, pos),
                xytext=(2, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
            )
        else:
            ax.annotate(
                text,
                (pos, at),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize="x-small",
            )


def subgroup_bars(
    table: pd.DataFrame,
    path: PathLike,
    title: str,
    metrics: Sequence[str] = ("subgroup_auc", "bpsn_auc", "bnsp_auc"),
    goal: float | None = 0.94,
) -> Path:
    """Grouped horizontal bars of bias AUCs per subgroup (a `bias_metrics` table), goal line."""
    missing = [c for c in ["subgroup", *metrics] if c not in table.columns]
    if missing:
        raise PlotError(f"table has no column(s) {missing}")
    if table.empty or not metrics:
        raise PlotError("subgroup_bars needs at least one subgroup and one metric")
    names = table["subgroup"].astype(str).tolist()
    height = 0.8 / len(metrics)
    fig = _figure(6.0, 1.2 + 0.28 * len(names) * len(metrics))
    ax = fig.axes[0]
    base = np.arange(len(names), dtype=np.float64)
    for i, metric in enumerate(metrics):
        values = table[metric].astype(float).tolist()
        pos = base - 0.4 + height * (i + 0.5)
        ax.barh(pos, np.nan_to_num(values, nan=0.0), height=height, label=metric)
        _bar_labels(ax, pos.tolist(), values, horizontal=True)
    if goal is not None:
        ax.axvline(goal, color="black", linestyle="--", linewidth=1, label=f"goal {goal:g}")
    ax.set_yticks(base, labels=names)
    ax.invert_yaxis()  # first subgroup on top, as in the table
    ax.set(xlabel="AUC", xlim=(0, 1.08), title=title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="x-small")
    return _save(fig, path)


def metric_bars(
    values: Mapping[str, Mapping[str, float]],
    path: PathLike,
    title: str,
    goal: float | None = None,
) -> Path:
    """Ours vs peers: bars grouped by metric, one bar per system (outer key), goal line.

    A metric a system does not report, or reports as NaN, is an empty slot labelled "n/a".
    """
    _require(values, "metric_bars")
    metric_names: list[str] = []
    for scores in values.values():
        metric_names.extend(m for m in scores if m not in metric_names)
    if not metric_names:
        raise PlotError("metric_bars needs at least one metric value")
    systems = list(values)
    width = 0.8 / len(systems)
    fig = _figure(max(4.5, 1.2 + 0.9 * len(metric_names) * max(1, len(systems) / 2)), 3.8)
    ax = fig.axes[0]
    base = np.arange(len(metric_names), dtype=np.float64)
    finite: list[float] = [] if goal is None else [goal]
    for i, system in enumerate(systems):
        row = [float(values[system].get(m, math.nan)) for m in metric_names]
        finite.extend(v for v in row if math.isfinite(v))
        pos = base - 0.4 + width * (i + 0.5)
        ax.bar(pos, np.nan_to_num(row, nan=0.0), width=width, label=system)
        _bar_labels(ax, pos.tolist(), row, horizontal=False)
    if goal is not None:
        ax.axhline(goal, color="black", linestyle="--", linewidth=1, label=f"goal {goal:g}")
    top = max(finite, default=1.0)
    ax.set_ylim(min(0.0, min(finite, default=0.0)), (top if top > 0 else 1.0) * 1.15)
    ax.set_xticks(base, labels=metric_names, rotation=20, ha="right")
    ax.set(title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="x-small")
    return _save(fig, path)

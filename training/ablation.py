"""Which normalisation steps earn their place: the hate head with each step left out.

For every variant (all steps, no steps, all but one) the text features and an uncalibrated
hate head are fitted on the training rows and scored on the validation rows only — never
test — overall and on the antisemitism sets, where coded forms live. A step is kept when
leaving it out costs validation average precision on either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from app.features import TextFeatures
from app.textnorm import STEPS
from training.datasets import load_all

ANTISEMITISM_SOURCES = ("antisemitism-4chan-pol", "antisemitism-tweets-handlabeled", "mhs-jewish")


def variants() -> list[tuple[str, tuple[str, ...]]]:
    """(name, steps) for all, none, and all-but-one of each step."""
    out = [("all steps", STEPS), ("no steps", ())]
    out += [(f"without {step}", tuple(s for s in STEPS if s != step)) for step in STEPS]
    return out


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "ap": float(average_precision_score(y, p)),
        "auroc": float(roc_auc_score(y, p)),
    }


def run_ablation(
    data_dir: Path,
    *,
    c_value: float = 4.0,
    names: Sequence[str] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> pd.DataFrame:
    """One row per variant: validation AP and AUROC of the hate head, overall and antisemitism."""
    frame, _ = load_all(data_dir, names, include_eval_only=False)
    rows = frame[frame["hate"].notna()]
    train = rows[rows["split"] == "train"]
    val = rows[rows["split"] == "val"]
    y_tr = train["hate"].to_numpy().astype(int)
    y_va = val["hate"].to_numpy().astype(int)
    anti = val["source"].isin(ANTISEMITISM_SOURCES).to_numpy()
    results: list[dict[str, Any]] = []
    for name, steps in variants():
        started = time.perf_counter()
        features = TextFeatures(steps=steps).fit(list(train["text"]))
        model = LogisticRegression(C=c_value, solver="liblinear", max_iter=3000)
        model.fit(features.transform(list(train["text"])), y_tr)
        p = model.predict_proba(features.transform(list(val["text"])))[:, 1]
        overall = _scores(y_va, p)
        jewish = _scores(y_va[anti], p[anti])
        results.append(
            {
                "variant": name,
                "val_ap": overall["ap"],
                "val_auroc": overall["auroc"],
                "antisemitism_ap": jewish["ap"],
                "antisemitism_auroc": jewish["auroc"],
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        progress(f"{name}: AP {overall['ap']:.4f}, antisemitism AP {jewish['ap']:.4f}")
    return pd.DataFrame(results)


def render(table: pd.DataFrame) -> str:
    """The ablation as a Markdown report with the keep/drop reading of each step."""
    base = table.iloc[0]
    lines = [
        "# Normalisation ablation (hate head, validation rows only)",
        "",
        "Each variant refits the text features and a logistic-regression hate head on the",
        "training rows; figures are validation average precision (AP) and AUROC, overall and",
        "on the three antisemitism sets. Δ is the variant minus 'all steps': a negative Δ",
        "when a step is left out means the step helps.",
        "",
        "| variant | AP | AUROC | antisemitism AP | antisemitism AUROC | Δ AP | Δ antisem. AP |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.to_dict(orient="records"):
        lines.append(
            f"| {row['variant']} | {row['val_ap']:.4f} | {row['val_auroc']:.4f} | "
            f"{row['antisemitism_ap']:.4f} | {row['antisemitism_auroc']:.4f} | "
            f"{row['val_ap'] - base['val_ap']:+.4f} | "
            f"{row['antisemitism_ap'] - base['antisemitism_ap']:+.4f} |"
        )
    return "\n".join(lines) + "\n"

"""The severity head: normal, offensive or hateful, one three-class model trained where
annotators chose among those three (HateXplain, Davidson et al.; with `severity_generated`
the generated families too), its class biases tuned per source on validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from app.heads import SEVERITY_LABELS, ordered
from training.augment import is_generated
from training.fitting import (
    bias_groups,
    decide_labels,
    fit_multiclass,
    logistic,
    per_source_f1,
    source_weights,
    tune_bias,
)
from training.metrics import macro_f1
from training.vectors import Vectors

if TYPE_CHECKING:
    from training.train import TrainConfig


def severity_rows(
    rows: pd.DataFrame, sources: Sequence[str], *, generated: bool = False
) -> pd.DataFrame:
    """Rows of `sources` (and, with `generated`, of the generated families) labelled for
    both hate and toxic, with their SEVERITY_LABELS class."""
    chosen = rows["source"].isin(list(sources))
    if generated:
        chosen |= rows["source"].map(is_generated).astype(bool)
    kept = rows[chosen & rows["hate"].notna() & rows["toxic"].notna()]
    label = np.where(
        kept["hate"] == 1, "hateful", np.where(kept["toxic"] == 1, "offensive", "normal")
    )
    return kept.assign(severity=label).reset_index(drop=True)


def train_severity(
    cache: Vectors, train_rows: pd.DataFrame, val_rows: pd.DataFrame, config: TrainConfig
) -> tuple[Any, dict[str, float], dict[str, Any] | None, dict[str, int] | None]:
    """The fitted head (None when the training rows lack a class), its class biases, its
    validation figures (None when validation lacks a class) and its row counts (None
    without a head)."""
    validation: dict[str, Any] | None = None
    sev_tr = severity_rows(
        train_rows,
        config.severity_sources,
        generated=config.severity_generated and bool(config.severity_sources),
    )
    sev_va = severity_rows(val_rows, config.severity_sources)
    severity: Any = None
    severity_bias = dict.fromkeys(SEVERITY_LABELS, 0.0)
    # The head needs all three classes to learn; without them the bundle has none.
    if set(sev_tr["severity"]) == set(SEVERITY_LABELS):
        x_sev_tr = cache.rows(sev_tr["text"])
        sev_weights = source_weights(
            sev_tr, balance=config.source_balance, feedback_weight=config.feedback_weight
        )
        if set(sev_va["severity"]) != set(SEVERITY_LABELS):
            # Validation rows lack a class, so nothing can be calibrated or tuned on them:
            # the plain model at the first C, with no class biases.
            severity = logistic(config.c_grid[0], config.seed, balanced=True).fit(
                x_sev_tr, sev_tr["severity"].to_numpy(), sample_weight=sev_weights
            )
        else:
            x_sev_va = cache.rows(sev_va["text"])
            severity, severity_c, severity_search = fit_multiclass(
                x_sev_tr,
                sev_tr["severity"].to_numpy(),
                x_sev_va,
                sev_va["severity"].to_numpy(),
                c_grid=config.c_grid,
                seed=config.seed,
                weights=sev_weights,
            )
            sev_probs = ordered(
                severity.classes_, severity.predict_proba(x_sev_va), SEVERITY_LABELS
            )
            severity_bias = tune_bias(
                sev_probs,
                sev_va["severity"].tolist(),
                SEVERITY_LABELS,
                groups=bias_groups(sev_va, config.severity_sources),
            )
            decided = np.array(decide_labels(sev_probs, severity_bias, SEVERITY_LABELS))
            validation = {
                "C": severity_c,
                "C_search": severity_search,
                "macro_f1": macro_f1(sev_va["severity"].tolist(), list(decided), SEVERITY_LABELS),
                "n": int(len(sev_va)),
                "by_source": per_source_f1(sev_va, "severity", decided, SEVERITY_LABELS),
            }
    count = {"train": int(len(sev_tr)), "val": int(len(sev_va))} if severity is not None else None
    return severity, severity_bias, validation, count

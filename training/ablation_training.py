"""Which training changes of model v2 earn their place: the pipeline with each one left out.

Every variant trains every head from the same loaded rows (generated rows included unless
the variant leaves them out) and is measured on validation rows, which choose what is kept,
and on the behavioural suite, which is only read: no setting is chosen by it. Throughput is
each variant's in-process scoring rate (five heads with evidence) on the same validation
texts, as a ratio to the full pipeline's measured in the same run.

Training every variant on the full data takes as long as a release training each, so the
runner takes `sample` rows per dataset split; the figures then compare variants with one
another, not with the shipped bundle.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.registry import assemble
from app.scoring import score_frame
from training.augment import generate, is_generated
from training.behaviour import drop_suite_rows, model_outcomes, read_suite, suite_texts
from training.behaviour import summary as behaviour_summary
from training.datasets import load_all
from training.registry import REPO_ROOT
from training.train import TrainConfig, build_manifest, train

THROUGHPUT_TEXTS = 2_000
DEFAULT_OUT = REPO_ROOT / "reports" / "training-ablation.json"

# (name, config changes, why the change was made), the full pipeline first.
VARIANTS: tuple[tuple[str, Mapping[str, Any], str], ...] = (
    ("model v2 (every change)", {}, ""),
    (
        "without sentence windows",
        {"sentence_windows": 0},
        "the whole comment only: a polite opening can hide a hateful sentence",
    ),
    ("without the cross block", {"cross_version": 0}, "group-sentence words and negation scope"),
    ("without generated rows", {"generated": False}, "templates, SBIC statements, swaps"),
    ("shape v1", {"shape_version": 1}, "no word count or letterless-text features"),
    (
        "reply head as before v2",
        {"reply_cues": False, "reply_parent_weight": 1.0},
        "no structure cues, parent block at full weight",
    ),
    ("without per-topic stance heads", {"topic_head_rows": 10**9}, "one joint stance model"),
    ("without the severity head", {"severity_sources": ()}, "HateXplain read off hate+toxic"),
)


def _validation_figures(validation: Mapping[str, Any]) -> dict[str, float | None]:
    def get(*path: str) -> float | None:
        node: Any = validation
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                return None
            node = node[key]
        return float(node) if isinstance(node, int | float) else None

    return {
        "hate_ap": get("hate", "average_precision"),
        "toxic_ap": get("toxic", "average_precision"),
        "conspiracy_ap": get("conspiracy", "average_precision"),
        "severity_f1": get("severity", "macro_f1"),
        "stance_f1": get("stance", "macro_f1"),
        "reply_rumoureval_f1": get("reply_stance", "by_source", "rumoureval2019"),
        "reply_debagreement_f1": get("reply_stance", "by_source", "debagreement"),
    }


def run_training_ablation(
    data_dir: Path,
    *,
    sample: int = 3_000,
    names: Sequence[str] | None = None,
    variants: Sequence[tuple[str, Mapping[str, Any], str]] = VARIANTS,
    progress: Callable[[str], None] = lambda message: None,
) -> list[dict[str, Any]]:
    """One entry per variant: validation figures, suite accuracy, training time, throughput."""
    frame, _ = load_all(data_dir, names)
    frame, _ = drop_suite_rows(frame)
    with_generated, _ = generate(
        frame,
        data_dir,
        seed=0,
        held_out_texts=suite_texts(),
        include_sbic="sbic" in set(frame["source"]),
    )
    return ablate(frame, with_generated, sample=sample, variants=variants, progress=progress)


def ablate(
    frame: pd.DataFrame,
    with_generated: pd.DataFrame,
    *,
    sample: int | None,
    variants: Sequence[tuple[str, Mapping[str, Any], str]] = VARIANTS,
    progress: Callable[[str], None] = lambda message: None,
    base: TrainConfig | None = None,
) -> list[dict[str, Any]]:
    """The variants trained on `frame` (or `with_generated`, which adds generated rows)."""
    val = frame[(frame["split"] == "val") & ~frame["eval_only"]]
    texts = val["text"].sample(min(THROUGHPUT_TEXTS, len(val)), random_state=0).tolist()
    cases = read_suite()
    results: list[dict[str, Any]] = []
    for name, changes, why in variants:
        config = replace(base or TrainConfig(), sample=sample, **changes)
        data = with_generated if config.generated else frame
        if not config.generated:
            data = data[~data["source"].map(is_generated)]
        started = time.perf_counter()
        fitted = train(data, config)
        seconds = time.perf_counter() - started
        version = f"ablation-{len(results)}"
        manifest = build_manifest(
            fitted, config, version=version, data_files=[], repo=REPO_ROOT, dedupe={}
        )
        model = assemble(Path("."), manifest, fitted.bundle)
        suite = behaviour_summary(model_outcomes(model, cases))
        score_frame(model, pd.DataFrame({"text": texts[:50]}))  # warm caches
        begun = time.perf_counter()
        score_frame(model, pd.DataFrame({"text": texts}))
        rate = len(texts) / (time.perf_counter() - begun)
        entry: dict[str, Any] = {
            "variant": name,
            **_validation_figures(fitted.validation),
            "suite_overall": suite["overall"],
            "train_seconds": round(seconds, 1),
            "texts_per_s": round(rate, 1),
            "note": why,
        }
        results.append(entry)
        progress(f"{name}: {json.dumps({k: v for k, v in entry.items() if k != 'note'})}")
    reference = results[0]["texts_per_s"]
    for entry in results:
        entry["speed_ratio"] = round(entry["texts_per_s"] / reference, 3)
    return results


def render(results: Sequence[Mapping[str, Any]], *, sample: int) -> str:
    """The ablation as Markdown: each variant beside the full pipeline, Δ on validation."""
    keys = [k for k in results[0] if k not in ("variant", "note")]
    lines = [
        "# Training ablation (validation rows and the behavioural suite; never test)",
        "",
        f"Each variant trains every head on at most {sample:,} rows per dataset split and",
        "leaves one change of model v2 out. AP is validation average precision of the",
        "highest window decision; F1s are validation macro-F1; `suite_overall` is read from",
        "the behavioural suite and chose nothing; `speed_ratio` is scoring throughput (five",
        "heads with evidence) over the full pipeline's, measured in the same run.",
        "",
        "| variant | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for entry in results:
        cells = [cell(entry.get(k)) for k in keys]
        lines.append(f"| {entry['variant']} | " + " | ".join(cells) + " |")
    lines += ["", *[f"- {e['variant']}: {e['note']}" for e in results if e.get("note")], ""]
    return "\n".join(lines)


def cell(value: Any) -> str:
    """A table cell: — for a missing figure, three digits under 10."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3f}"
    return str(value)

"""Does an encoder earn its place? HateXplain's three classes read six ways on the same rows.

Every reader learns from HateXplain's train split and is measured on its validation split
(never test) and on the behavioural suite's hate cases, which are only read. The readers:
the project's TF-IDF features with one three-class logistic regression (the linear
reference), a static embedding distilled here from all-MiniLM-L6-v2, frozen MiniLM
embeddings, MiniLM fine-tuned end to end and run as int8 ONNX, and the two averages of a
dense reader with the linear one (fixed weight .5, so nothing is chosen on the rows that are
reported). The shipped bundle's severity head, trained on more sources, is the last row for
reference. Throughput is texts per second on one thread, each reader on the same texts in
the same run, and `speed_ratio` its ratio to the linear reader's.

The suite's hate cases are flagged when a reader's most likely class is "hateful": the
same rule for every reader, so the column compares readers, not thresholds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from app.heads import SEVERITY_LABELS
from app.registry import load_current
from app.scoring import score_frame
from training.ablation_training import cell
from training.behaviour import drop_suite_rows, read_suite
from training.datasets.hate import load_hatexplain
from training.fitting import fit_multiclass
from training.metrics import HATEXPLAIN_LABELS, hatexplain_class_metrics, macro_f1
from training.registry import REPO_ROOT
from training.severity import severity_rows
from training.train import TrainConfig, text_features

DEFAULT_OUT = REPO_ROOT / "reports" / "encoder-ablation.json"
THROUGHPUT_TEXTS = 1_000
DENSE_C_GRID = (0.3, 1.0, 3.0, 10.0)
_TO_HATEXPLAIN = dict(zip(SEVERITY_LABELS, HATEXPLAIN_LABELS, strict=True))

Reader = Callable[[Sequence[str]], np.ndarray]  # texts -> probabilities, SEVERITY_LABELS order


def _figures(
    y_val: Sequence[str], proba: np.ndarray, suite_expected: Sequence[bool], suite_proba: np.ndarray
) -> dict[str, float]:
    decided = [SEVERITY_LABELS[i] for i in proba.argmax(1)]
    hx = hatexplain_class_metrics(
        [_TO_HATEXPLAIN[y] for y in y_val], proba, [_TO_HATEXPLAIN[d] for d in decided]
    )
    out = {
        "val_macro_f1": round(float(hx["macro_f1"]), 4),
        "val_auroc": round(float(hx["auroc"]), 4),
    }
    if not len(suite_expected):
        return out
    flagged = suite_proba.argmax(1) == SEVERITY_LABELS.index("hateful")
    expected = np.asarray(suite_expected, dtype=bool)
    correct = flagged == expected
    return {
        **out,
        "suite_hate_accuracy": round(float(correct.mean()), 4),
        "suite_hateful_recall": round(float(flagged[expected].mean()), 4),
        "suite_benign_flagged": round(float(flagged[~expected].mean()), 4),
    }


def _rate(reader: Reader, texts: Sequence[str]) -> float:
    reader(texts[:20])  # warm caches and lazy allocations
    started = time.perf_counter()
    reader(texts)
    return len(texts) / (time.perf_counter() - started)


def _ordered(model: Any, x: Any) -> np.ndarray:
    proba = np.asarray(model.predict_proba(x), dtype=np.float64)
    index = [list(model.classes_).index(label) for label in SEVERITY_LABELS]
    return proba[:, index]


def _dense_lr(
    x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray, y_va: Sequence[str], seed: int
) -> LogisticRegression:
    """Balanced three-class LR on dense vectors, C chosen by validation macro-F1."""
    best: tuple[float, LogisticRegression] | None = None
    for c_value in DENSE_C_GRID:
        model = LogisticRegression(
            C=c_value, class_weight="balanced", max_iter=2_000, random_state=seed
        ).fit(x_tr, y_tr)
        score = macro_f1(list(y_va), list(model.predict(x_va)), SEVERITY_LABELS)
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None
    return best[1]


def hatexplain_splits(data_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HateXplain's train and validation rows with their severity class (suite texts out)."""
    frame, _ = drop_suite_rows(load_hatexplain(data_dir))
    rows = severity_rows(frame, ("hatexplain",))
    train = rows[rows["split"] == "train"].reset_index(drop=True)
    val = rows[rows["split"] == "val"].reset_index(drop=True)
    return train, val


def run_encoder_ablation(
    data_dir: Path,
    *,
    work_dir: Path,
    epochs: int = 3,
    sample: int | None = None,
    seed: int = 0,
    model_dir: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Every reader's figures (see the module docstring) and the run's conditions."""
    import torch

    from training.encoder import (
        OnnxClassifier,
        distil_static,
        embed,
        fine_tune,
        load_minilm,
        minilm_dir,
    )

    train, val = hatexplain_splits(data_dir)
    if sample:
        train = train.sample(min(sample, len(train)), random_state=seed).reset_index(drop=True)
        val = val.sample(min(sample, len(val)), random_state=seed).reset_index(drop=True)
    tr_texts, va_texts = train["text"].tolist(), val["text"].tolist()
    y_tr, y_va = train["severity"].to_numpy(), val["severity"].tolist()
    cases = [c for c in read_suite() if c.head == "hate"]
    suite = [c.text for c in cases]
    expected = [c.expected == "flag" for c in cases]
    speed_texts = val["text"].sample(min(THROUGHPUT_TEXTS, len(val)), random_state=seed).tolist()
    progress(f"{len(train):,} train, {len(val):,} validation rows, {len(suite):,} suite cases")
    results: list[dict[str, Any]] = []
    threads = torch.get_num_threads()

    def record(
        name: str, reader: Reader, seconds: float | None, megabytes: float | None, note: str
    ) -> None:
        figures = _figures(y_va, reader(va_texts), expected, reader(suite))
        torch.set_num_threads(1)  # the timing only: every reader on one thread
        rate = _rate(reader, speed_texts)
        torch.set_num_threads(threads)
        entry: dict[str, Any] = {
            "reader": name,
            **figures,
            "train_seconds": None if seconds is None else round(seconds, 1),
            "texts_per_s": round(rate, 1),
            "megabytes": None if megabytes is None else round(megabytes, 1),
            "note": note,
        }
        results.append(entry)
        progress(json.dumps({k: v for k, v in entry.items() if k != "note"}))

    config = TrainConfig()
    started = time.perf_counter()
    features = text_features(config).fit(tr_texts)
    linear, _, _ = fit_multiclass(
        features.transform(tr_texts),
        y_tr,
        features.transform(va_texts),
        np.asarray(y_va),
        c_grid=config.c_grid,
        seed=seed,
    )

    def linear_reader(texts: Sequence[str]) -> np.ndarray:
        return _ordered(linear, features.transform(list(texts)))

    record(
        "TF-IDF + LR (the bundle's features)",
        linear_reader,
        time.perf_counter() - started,
        None,
        "word and character n-grams, one balanced three-class LR",
    )

    weights_dir = minilm_dir()
    tokenizer, encoder = load_minilm(weights_dir)
    started = time.perf_counter()
    static = distil_static(tokenizer, encoder, tr_texts, seed=seed)
    static_lr = _dense_lr(static.encode(tr_texts), y_tr, static.encode(va_texts), y_va, seed)

    def static_reader(texts: Sequence[str]) -> np.ndarray:
        return _ordered(static_lr, static.encode(texts))

    record(
        "static MiniLM distillate + LR",
        static_reader,
        time.perf_counter() - started,
        static.megabytes,
        "a vector per word piece (MiniLM on the piece alone, PCA 256), SIF-weighted mean",
    )
    record(
        "TF-IDF LR averaged with the static reader",
        lambda t: (linear_reader(t) + static_reader(t)) / 2,
        0.0,
        static.megabytes,
        "probabilities averaged at weight .5",
    )

    started = time.perf_counter()
    frozen_lr = _dense_lr(
        embed(tokenizer, encoder, tr_texts), y_tr, embed(tokenizer, encoder, va_texts), y_va, seed
    )

    def frozen_reader(texts: Sequence[str]) -> np.ndarray:
        return _ordered(frozen_lr, embed(tokenizer, encoder, texts))

    record(
        "frozen MiniLM + LR (torch fp32)",
        frozen_reader,
        time.perf_counter() - started,
        (weights_dir / "model.safetensors").stat().st_size / 1e6,
        "mean-pooled sentence embeddings, the transformer untouched",
    )

    labels = np.array([SEVERITY_LABELS.index(y) for y in y_tr])

    def val_score(proba: np.ndarray) -> float:
        return _figures(y_va, proba, [], proba[:0])["val_macro_f1"]

    tuned = fine_tune(
        tokenizer,
        encoder,
        tr_texts,
        labels,
        va_texts,
        val_score,
        classes=len(SEVERITY_LABELS),
        epochs=epochs,
        seed=seed,
        progress=progress,
    )
    started = time.perf_counter()
    onnx = OnnxClassifier(tokenizer, tuned.module, work_dir)
    export_seconds = time.perf_counter() - started
    record(
        "MiniLM fine-tuned (int8 ONNX)",
        lambda t: onnx.predict(t).astype(np.float64),
        tuned.seconds + export_seconds,
        onnx.megabytes,
        f"mean pool + linear, {epochs} epochs (validation macro-F1 by epoch: "
        + ", ".join(f"{s:.3f}" for s in tuned.epoch_scores)
        + f"; epoch {tuned.best_epoch} kept), exported and quantised to int8",
    )
    record(
        "fine-tuned int8 averaged with TF-IDF LR",
        lambda t: (onnx.predict(t).astype(np.float64) + linear_reader(t)) / 2,
        0.0,
        onnx.megabytes,
        "probabilities averaged at weight .5",
    )

    bundle = load_current(model_dir or REPO_ROOT / "models")
    columns = [f"p_severity_{label}" for label in SEVERITY_LABELS]

    def bundle_reader(texts: Sequence[str]) -> np.ndarray:
        scored = score_frame(bundle, pd.DataFrame({"text": list(texts)}))
        return scored[columns].to_numpy(dtype=np.float64)

    record(
        f"shipped bundle {bundle.version} (severity head)",
        bundle_reader,
        None,
        None,
        "reference: trained on HateXplain and Davidson with every other head's features; "
        "its speed is all five heads with evidence",
    )
    reference = results[0]["texts_per_s"]
    for entry in results:
        entry["speed_ratio"] = round(entry["texts_per_s"] / reference, 4)
    return {
        "readers": results,
        "rows": {"train": len(train), "validation": len(val), "suite_hate_cases": len(suite)},
        "epochs": epochs,
        "sample": sample,
    }


def render(result: Mapping[str, Any]) -> str:
    """The encoder ablation as Markdown."""
    readers: Sequence[Mapping[str, Any]] = result["readers"]
    keys = [k for k in readers[0] if k not in ("reader", "note")]
    rows = result["rows"]
    lines = [
        "# Encoder ablation (HateXplain validation and the suite's hate cases; never test)",
        "",
        f"Each reader learns HateXplain's three classes from {rows['train']:,} train rows and",
        f"is measured on {rows['validation']:,} validation rows and the behavioural suite's",
        f"{rows['suite_hate_cases']:,} hate cases (flag = most likely class is hateful; the",
        "suite chose nothing). Throughput is texts per second on one thread, every reader on",
        "the same validation texts in the same run; `speed_ratio` is over the TF-IDF reader.",
        "",
        "| reader | " + " | ".join(keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    for entry in readers:
        lines.append(
            f"| {entry['reader']} | " + " | ".join(cell(entry.get(k)) for k in keys) + " |"
        )
    lines += ["", *[f"- {e['reader']}: {e['note']}" for e in readers if e.get("note")], ""]
    if result.get("caveat"):
        lines += [f"**Caveat:** {result['caveat']}", ""]
    return "\n".join(lines)

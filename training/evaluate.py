"""Test-set evaluation of a bundle, side by side with offline peers, and the seed thread.

`headline_metrics` is what a training run writes into the manifest (the one look at the
test rows); `evaluate` adds the peers, the identity-fairness tables, the seed thread and the
plots, and `training.report` turns the result into `reports/<version>/`. The bundle is always
read through `app.registry.load`, so the evaluation also exercises the serving loader.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.heads import REPLY_LABELS, SEVERITY_LABELS, STANCE_LABELS
from app.registry import LoadedModel
from app.scoring import score_frame, score_thread
from app.threads import parse
from training.behaviour import (
    Case,
    failures,
    model_outcomes,
    peer_outcomes,
    read_suite,
)
from training.behaviour import summary as behaviour_summary
from training.evasion import run_probe
from training.metrics import (
    HATEXPLAIN_LABELS,
    IDENTITY_TERMS,
    bias_metrics,
    binary_metrics,
    final_bias_score,
    hatexplain_class_metrics,
    hatexplain_metrics,
    identity_columns,
    macro_f1_of,
    multiclass_metrics,
    tweeteval_stance_metric,
)

CHUNK = 5_000
# Goals of the model issue (v2), beside the published figures they are measured against.
# "max" goals are ceilings (lower is better).
GOALS = {
    "hatexplain_macro_f1": 0.68,
    "hatexplain_auroc": 0.85,
    "tweeteval_stance": 68.0,
    "rumoureval_macro_f1": 0.55,
    "bias_auc": 0.94,
    "behaviour_overall": 0.90,
    "behaviour_min_functionality": 0.80,
    "madlibs_neutral_hate_max": 0.03,
    "conspiracy_critical_fpr": 0.08,
    "pan_conspiracy_f1": 0.78,
    "antisemitism_auroc_min": 0.90,
}
CEILINGS = frozenset({"madlibs_neutral_hate_max", "conspiracy_critical_fpr"})
ANTISEMITISM_SOURCES = ("antisemitism-4chan-pol", "antisemitism-tweets-handlabeled", "mhs-jewish")
PUBLISHED = {
    "hatexplain": "BERT-HateXplain: accuracy .698, macro-F1 .687, AUROC .851 (Mathew et al. 2021)",
    "tweeteval_stance": "best published 72.9; SVM 67.3 (Barbieri et al. 2020)",
    "rumoureval": "best ≈ .62 macro-F1; baseline ≈ .49 (Gorrell et al. 2019)",
}
SEED_EXPECTED_HATE = ("DarkEyes", "Jozo Magoc")
SEED_EXPECTED_CONSPIRACY = ("DarkEyes",)
# Identity terms that name a group the hate head is meant to protect, for the madlibs probe.
MADLIBS_SUBGROUPS = tuple(IDENTITY_TERMS)


def test_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The test split, training sets and evaluation-only sets alike."""
    return frame[frame["split"] == "test"].reset_index(drop=True)


def score_rows(
    model: LoadedModel,
    frame: pd.DataFrame,
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> pd.DataFrame:
    """`frame` with every score column of `score_frame` added (no evidence, in chunks)."""
    parts = []
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start : start + CHUNK]
        parts.append(score_frame(model, chunk[["text", "parent_text", "topic"]], evidence_top=0))
        progress(min(start + CHUNK, len(frame)), len(frame))
    scores = pd.concat(parts) if parts else pd.DataFrame()
    return pd.concat([frame, scores.add_prefix("pred_")], axis=1)


def _binary(scored: pd.DataFrame, head: str, threshold: float, score: str) -> dict[str, Any]:
    rows = scored[scored[head].notna()]
    if rows.empty:
        return {}
    y = rows[head].to_numpy().astype(int)
    p = rows[score].to_numpy().astype(np.float64)
    out: dict[str, Any] = {"all": binary_metrics(y, p, threshold)}
    for source, group in rows.groupby("source"):
        gy = group[head].to_numpy().astype(int)
        gp = group[score].to_numpy().astype(np.float64)
        out[str(source)] = binary_metrics(gy, gp, threshold)
    return out


def _flag_rate(scored: pd.DataFrame, mask: pd.Series, flag: str) -> dict[str, float]:
    rows = scored[mask]
    return {
        "n": int(len(rows)),
        "flagged": int(rows[flag].sum()),
        "rate": float(rows[flag].mean()) if len(rows) else math.nan,
    }


def headline_metrics(model: LoadedModel, scored: pd.DataFrame) -> dict[str, Any]:
    """Per-head test metrics of our model on already-scored test rows."""
    thresholds = model.thresholds
    trainable = scored[~scored["eval_only"]]
    out: dict[str, Any] = {}
    for head in ("hate", "toxic", "conspiracy"):
        out[head] = _binary(trainable, head, thresholds[head], f"pred_{head}")

    hx = trainable[trainable["source"] == "hatexplain"]
    if len(hx):
        truth = np.where(
            hx["hate"] == 1, "hatespeech", np.where(hx["toxic"] == 1, "offensive", "normal")
        )
        from_binary = hatexplain_metrics(
            truth.tolist(), hx["pred_hate"], hx["pred_toxic"], thresholds
        )
        out["hatexplain"] = from_binary
        severity = hx[[f"pred_p_severity_{label}" for label in SEVERITY_LABELS]]
        if "pred_p_severity_normal" in hx and severity.notna().all().all():
            # The bundle's own three-class head answers HateXplain's question directly;
            # the figures read off the two binary heads stay beside it.
            names = dict(zip(SEVERITY_LABELS, HATEXPLAIN_LABELS, strict=True))
            out["hatexplain"] = {
                **hatexplain_class_metrics(
                    truth.tolist(),
                    severity.to_numpy(dtype=np.float64),
                    [names[str(label)] for label in hx["pred_severity"]],
                ),
                "from": "severity head",
                "binary_heads": from_binary,
            }

    out["hate_hard_negatives"] = {
        tag: _flag_rate(
            trainable, (trainable["tag"] == tag) & (trainable["hate"] == 0), "pred_hate_flag"
        )
        for tag in ("counter_speech", "political")
    }
    out["conspiracy_critical"] = _flag_rate(
        trainable, trainable["tag"] == "critical", "pred_conspiracy_flag"
    )
    target_rows = trainable[(trainable["hate"] == 1) & trainable["hate_target"].notna()]
    flagged = target_rows[target_rows["pred_hate_flag"]]
    if len(flagged):
        out["hate_target"] = {
            "n_flagged": int(len(flagged)),
            "accuracy": float((flagged["pred_hate_target"] == flagged["hate_target"]).mean()),
        }

    st = trainable[trainable["stance"].notna() & trainable["pred_stance"].notna()]
    tw = st[st["source"] == "tweeteval-stance"]
    if len(tw):
        out["tweeteval_stance"] = {
            "official": tweeteval_stance_metric(tw["stance"].tolist(), tw["pred_stance"].tolist()),
            **multiclass_metrics(tw["stance"].tolist(), tw["pred_stance"].tolist(), STANCE_LABELS),
            "by_topic": {
                str(topic): tweeteval_stance_metric(g["stance"].tolist(), g["pred_stance"].tolist())
                for topic, g in tw.groupby("topic")
            },
        }
    vast = st[st["source"] == "vast"]
    if len(vast):
        out["vast_stance"] = multiclass_metrics(
            vast["stance"].tolist(), vast["pred_stance"].tolist(), STANCE_LABELS
        )
    rp = trainable[trainable["reply_stance"].notna() & trainable["pred_reply_stance"].notna()]
    for source, group in rp.groupby("source"):
        reply_truth = [str(v) for v in group["reply_stance"]]
        predicted = [str(v) for v in group["pred_reply_stance"]]
        used = [label for label in REPLY_LABELS if label in set(reply_truth)]
        out[f"reply_stance_{source}"] = {
            **multiclass_metrics(reply_truth, predicted, REPLY_LABELS),
            # Over the labels the source uses: DEBAGREEMENT has no "query".
            "macro_f1_own_labels": macro_f1_of(reply_truth, predicted, REPLY_LABELS, used),
        }
    return out


def fairness(scored: pd.DataFrame, *, score: str, label: str = "toxic") -> dict[str, Any]:
    """Jigsaw bias metrics per identity term on the identity sets (Dixon et al. 2018)."""
    out: dict[str, Any] = {}
    for source in ("wiki-toxicity-identity", "bias-madlibs"):
        rows = scored[(scored["source"] == source) & scored[label].notna()].reset_index(drop=True)
        if rows.empty:
            continue
        ids = identity_columns(rows["text"].tolist(), IDENTITY_TERMS)
        present = [term for term in IDENTITY_TERMS if ids[term].sum() >= 10]
        frame = pd.concat([rows[[label, score]], ids[present]], axis=1)
        frame[label] = frame[label].astype(bool)
        table = bias_metrics(frame, subgroups=present, label=label, score=score)
        y = rows[label].to_numpy().astype(int)
        overall = binary_metrics(y, rows[score].to_numpy(), 0.5)["auroc"]
        out[source] = {
            "overall_auroc": overall,
            "final_bias_score": final_bias_score(overall, table),
            "table": table.to_dict(orient="records"),
        }
    return out


def neutral_identity_false_positives(scored: pd.DataFrame) -> dict[str, Any]:
    """How often a harmless templated identity sentence ("i am jewish") gets any flag."""
    rows = scored[(scored["source"] == "bias-madlibs") & (scored["toxic"] == 0)].reset_index(
        drop=True
    )
    if rows.empty:
        return {}
    ids = identity_columns(rows["text"].tolist(), IDENTITY_TERMS)
    out: dict[str, Any] = {}
    for flag in ("pred_hate_flag", "pred_toxic_flag"):
        per_term = {}
        for term in IDENTITY_TERMS:
            mask = ids[term].to_numpy()
            if mask.sum() >= 10:
                per_term[term] = float(rows.loc[mask, flag].mean())
        out[flag.removeprefix("pred_")] = {
            "overall": float(rows[flag].mean()),
            "n": int(len(rows)),
            "by_term": per_term,
        }
    return out


def seed_table(model: LoadedModel, seed_page: Path) -> pd.DataFrame:
    """Every comment of the seed thread with its labels (the first real test case)."""
    thread = parse(seed_page.read_bytes())
    return score_thread(model, thread)


def seed_checks(table: pd.DataFrame) -> dict[str, Any]:
    """What a good model does on the seed thread, and whether ours does it."""
    hate_authors = sorted(set(table.loc[table["hate_flag"], "author"].dropna()))
    targets = {str(row.author): row.hate_target for row in table.itertuples() if row.hate_flag}
    conspiracy_authors = sorted(set(table.loc[table["conspiracy_flag"], "author"].dropna()))
    ok_hate = set(hate_authors) == set(SEED_EXPECTED_HATE)
    ok_target = all(targets.get(a) == "jewish" for a in SEED_EXPECTED_HATE)
    ok_conspiracy = set(SEED_EXPECTED_CONSPIRACY) <= set(conspiracy_authors)
    return {
        "hate_authors": hate_authors,
        "hate_targets": targets,
        "conspiracy_authors": conspiracy_authors,
        "expected_hate_only": ok_hate,
        "expected_targets": ok_target,
        "expected_conspiracy": ok_conspiracy,
        "passed": ok_hate and ok_target and ok_conspiracy,
    }


def peer_metrics(
    peers: Sequence[Any], scored: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Each peer's binary metrics on the hate and toxic test rows, at its own 0.5 cut-off."""
    out: dict[str, Any] = {}
    raw: dict[str, np.ndarray] = {}
    texts = scored["text"].tolist()
    for peer in peers:
        started = time.perf_counter()
        p = np.asarray(peer.score(texts), dtype=np.float64)
        raw[peer.name] = p
        column = f"peer_{peer.name}"
        frame = scored.assign(**{column: p})
        trainable = frame[~frame["eval_only"]]
        entry: dict[str, Any] = {
            "version": peer.version,
            "task": peer.task,
            "trained_on": list(getattr(peer, "trained_on", ())),
            "seconds": round(time.perf_counter() - started, 2),
        }
        for head in ("hate", "toxic"):
            entry[head] = _binary(trainable, head, 0.5, column)
        hx = trainable[trainable["source"] == "hatexplain"]
        if len(hx):
            truth = np.where(
                hx["hate"] == 1, "hatespeech", np.where(hx["toxic"] == 1, "offensive", "normal")
            )
            # A single-score peer stands in for both heads; the table says so.
            entry["hatexplain"] = hatexplain_metrics(
                truth.tolist(), hx[column], hx[column], {"hate": 0.5, "toxic": 0.5}
            )
        entry["fairness"] = fairness(frame, score=column)
        fp = frame[(frame["source"] == "bias-madlibs") & (frame["toxic"] == 0)]
        entry["madlibs_neutral_flag_rate"] = float((fp[column] >= 0.5).mean()) if len(fp) else None
        out[peer.name] = entry
    return out, raw


def evaluate(
    model: LoadedModel,
    frame: pd.DataFrame,
    *,
    peers: Sequence[Any] = (),
    seed_page: Path | None = None,
    baseline: LoadedModel | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Everything the report shows, as one JSON-ready dict (plus the scored rows).

    With `baseline`, that model's headline metrics on the very same test rows are added
    under "baseline", computed by the same functions as ours.
    """
    tests = test_rows(frame)
    progress(f"scoring {len(tests):,} test rows")
    started = time.perf_counter()
    scored = score_rows(model, tests)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "version": model.version,
        "thresholds": dict(model.thresholds),
        "goals": GOALS,
        "published": PUBLISHED,
        "scoring_seconds": round(seconds, 2),
        "test_rows": int(len(tests)),
        "headline": headline_metrics(model, scored),
        "fairness": {
            "toxic": fairness(scored, score="pred_toxic"),
            "hate": fairness(scored, score="pred_hate"),
        },
        "neutral_identity": neutral_identity_false_positives(scored),
    }
    progress("the behavioural suite and the evasion probe")
    cases = read_suite()
    result["behaviour"] = {"threadguard": behaviour_result(model, cases)}
    result["evasion"] = run_probe(model)
    if baseline is not None:
        progress(f"scoring the same rows with baseline {baseline.version}")
        old_scored = score_rows(baseline, tests)
        old = {
            "headline": headline_metrics(baseline, old_scored),
            "neutral_identity": neutral_identity_false_positives(old_scored),
            "behaviour": {"threadguard": behaviour_result(baseline, cases)},
        }
        result["baseline"] = {
            "version": baseline.version,
            "thresholds": dict(baseline.thresholds),
            "headline": old["headline"],
            "summary": summary(old),
            "behaviour": old["behaviour"]["threadguard"],
            "evasion": run_probe(baseline),
            "feedback": list(baseline.manifest.get("feedback", [])),
        }
    if peers:
        progress("scoring the same rows with " + ", ".join(p.name for p in peers))
        result["peers"], _ = peer_metrics(peers, scored)
        for peer in peers:
            outcomes = peer_outcomes(peer, cases)
            result["behaviour"][peer.name] = {**behaviour_summary(outcomes), "task": peer.task}
    if seed_page is not None and seed_page.exists():
        table = seed_table(model, seed_page)
        result["seed"] = {
            "checks": seed_checks(table),
            "rows": [
                {
                    "comment_id": r["comment_id"],
                    "author": r["author"],
                    "depth": int(r["depth"]),
                    "hate": round(float(r["hate"]), 3),
                    "hate_flag": bool(r["hate_flag"]),
                    "hate_target": r["hate_target"],
                    "toxic": round(float(r["toxic"]), 3),
                    "toxic_flag": bool(r["toxic_flag"]),
                    "conspiracy": round(float(r["conspiracy"]), 3),
                    "conspiracy_flag": bool(r["conspiracy_flag"]),
                    "stance": r["stance"],
                    "thread_stance": r["thread_stance"],
                    "reply_stance": r["reply_stance"],
                }
                for r in table.to_dict(orient="records")
            ],
        }
    result["_scored"] = scored
    return result


def behaviour_result(model: LoadedModel, cases: list[Case]) -> dict[str, Any]:
    """The suite's per-functionality accuracy of `model`, with its failed cases."""
    outcomes = model_outcomes(model, cases)
    return {**behaviour_summary(outcomes), "failures": failures(outcomes, cases)}


def summary(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The few numbers that have goals, for the manifest and the closing table."""
    head = metrics.get("headline", metrics)
    out: dict[str, float] = {}
    hx = head.get("hatexplain") or {}
    for key in ("accuracy", "macro_f1", "auroc"):
        if key in hx:
            out[f"hatexplain_{key}"] = float(hx[key])
    if "tweeteval_stance" in head:
        out["tweeteval_stance"] = float(head["tweeteval_stance"]["official"])
    if "reply_stance_rumoureval2019" in head:
        out["rumoureval_macro_f1"] = float(head["reply_stance_rumoureval2019"]["macro_f1"])
    if "reply_stance_debagreement" in head:
        entry = head["reply_stance_debagreement"]
        out["debagreement_macro_f1"] = float(entry.get("macro_f1_own_labels", entry["macro_f1"]))
    for name in ("hate", "toxic", "conspiracy"):
        entry = head.get(name, {}).get("all")
        if entry:
            out[f"{name}_auroc"] = float(entry["auroc"])
            out[f"{name}_f1"] = float(entry["f1"])
    if "conspiracy_critical" in head:
        out["conspiracy_critical_fpr"] = float(head["conspiracy_critical"]["rate"])
    pan = head.get("conspiracy", {}).get("pan2024-oppositional")
    if pan:
        out["pan_conspiracy_f1"] = float(pan["f1"])
    anti = [head.get("hate", {}).get(source, {}).get("auroc") for source in ANTISEMITISM_SOURCES]
    for source, auroc in zip(ANTISEMITISM_SOURCES, anti, strict=True):
        if auroc is not None:
            out[f"hate_auroc_{source}"] = float(auroc)
    if all(a is not None for a in anti):
        out["antisemitism_auroc_min"] = float(min(a for a in anti if a is not None))
    neutral = metrics.get("neutral_identity", {}).get("hate_flag")
    if neutral and neutral.get("by_term"):
        out["madlibs_neutral_hate"] = float(neutral["overall"])
        out["madlibs_neutral_hate_max"] = float(max(neutral["by_term"].values()))
    behaviour = metrics.get("behaviour", {}).get("threadguard")
    if behaviour:
        out["behaviour_overall"] = float(behaviour["overall"])
        out["behaviour_min_functionality"] = float(
            min(f["accuracy"] for f in behaviour["by_functionality"].values())
        )
    return out

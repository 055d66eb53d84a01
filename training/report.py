"""`reports/<version>/`: metrics.json, report.md and the PNG plots, from one evaluation."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.heads import REPLY_LABELS, STANCE_LABELS
from app.registry import LoadedModel
from training import plots
from training.evaluate import ANTISEMITISM_SOURCES, CEILINGS, GOALS, PUBLISHED, summary
from training.report_behaviour import (
    ablation_lines,
    behaviour_lines,
    encoder_lines,
    evasion_lines,
)

# The headline figures compared with a baseline: summary() key, label, where its n lives.
# Higher is better except where the label says lower.
BASELINE_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hatexplain_macro_f1", "HateXplain macro-F1", ("hatexplain",)),
    ("hatexplain_auroc", "HateXplain AUROC", ("hatexplain",)),
    ("hatexplain_accuracy", "HateXplain accuracy", ("hatexplain",)),
    ("tweeteval_stance", "TweetEval stance (F1 avg of favor, against)", ("tweeteval_stance",)),
    (
        "rumoureval_macro_f1",
        "RumourEval 2019 reply stance macro-F1",
        ("reply_stance_rumoureval2019",),
    ),
    (
        "debagreement_macro_f1",
        "DEBAGREEMENT (Reddit) reply stance macro-F1, agree/disagree/neutral",
        ("reply_stance_debagreement",),
    ),
    ("hate_auroc", "hate AUROC", ("hate", "all")),
    ("hate_f1", "hate F1", ("hate", "all")),
    ("toxic_auroc", "toxic AUROC", ("toxic", "all")),
    ("toxic_f1", "toxic F1", ("toxic", "all")),
    ("conspiracy_auroc", "conspiracy AUROC", ("conspiracy", "all")),
    ("conspiracy_f1", "conspiracy F1", ("conspiracy", "all")),
    (
        "conspiracy_critical_fpr",
        "conspiracy flags on PAN CRITICAL rows (lower is better)",
        ("conspiracy_critical",),
    ),
    ("pan_conspiracy_f1", "conspiracy F1 on PAN 2024 test", ("conspiracy", "pan2024-oppositional")),
    *(
        (f"hate_auroc_{source}", f"hate AUROC on {source}", ("hate", source))
        for source in ANTISEMITISM_SOURCES
    ),
    ("madlibs_neutral_hate", "neutral madlibs flagged hate, all (lower is better)", ()),
    ("madlibs_neutral_hate_max", "neutral madlibs flagged hate, worst group (lower is better)", ()),
    ("behaviour_overall", "behavioural suite, overall", ()),
    ("behaviour_min_functionality", "behavioural suite, lowest functionality", ()),
)


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value.is_integer() and abs(value) >= 2:
            return f"{int(value):,}"  # counts arrive as floats from the metric dicts
        return f"{value:.{digits}f}"
    return str(value)


def _clean(value: Any) -> Any:
    """JSON-ready copy: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [
        "| " + " | ".join(_f(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows
    ]
    return lines + [""]


def write_report(model: LoadedModel, result: Mapping[str, Any], out_dir: Path) -> Path:
    """Write metrics.json, the plots and report.md; return `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scored: pd.DataFrame = result["_scored"]
    metrics = {k: v for k, v in result.items() if not k.startswith("_")}
    (out_dir / "metrics.json").write_text(
        json.dumps(_clean(metrics), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    images = _plots(result, scored, out_dir)
    (out_dir / "report.md").write_text(_markdown(model, metrics, images), encoding="utf-8")
    return out_dir


def _plots(result: Mapping[str, Any], scored: pd.DataFrame, out_dir: Path) -> dict[str, str]:
    images: dict[str, str] = {}
    trainable = scored[~scored["eval_only"]]
    peers = result.get("peers", {})
    for head in ("hate", "toxic", "conspiracy"):
        rows = trainable[trainable[head].notna()]
        if rows.empty:
            continue
        y = rows[head].to_numpy().astype(float)
        curves = {"threadguard": (y, rows[f"pred_{head}"].to_numpy())}
        path = plots.pr_curves(
            curves, out_dir / f"pr_{head}.png", f"{head}: precision-recall (test)"
        )
        images[f"pr_{head}"] = path.name
    calib = {
        head: (
            trainable.loc[trainable[head].notna(), head].to_numpy().astype(float),
            trainable.loc[trainable[head].notna(), f"pred_{head}"].to_numpy(),
        )
        for head in ("hate", "toxic", "conspiracy")
        if trainable[head].notna().any()
    }
    if calib:
        images["calibration"] = plots.reliability_plot(
            calib, out_dir / "calibration.png", "Reliability on the test rows"
        ).name
    headline = result["headline"]
    for key, labels, title in (
        ("hatexplain", ["normal", "offensive", "hatespeech"], "HateXplain test (3-class)"),
        ("tweeteval_stance", list(STANCE_LABELS), "TweetEval stance test"),
        ("reply_stance_rumoureval2019", list(REPLY_LABELS), "RumourEval 2019 reply stance test"),
    ):
        entry = headline.get(key)
        if entry and "confusion_matrix" in entry:
            images[f"cm_{key}"] = plots.confusion_matrix_plot(
                entry["confusion_matrix"], labels, out_dir / f"cm_{key}.png", title
            ).name
    for head in ("toxic", "hate"):
        for source, entry in result.get("fairness", {}).get(head, {}).items():
            table = pd.DataFrame(entry["table"])
            if table.empty:
                continue
            name = f"bias_{head}_{source}"
            images[name] = plots.subgroup_bars(
                table, out_dir / f"{name}.png", f"{head} head: bias AUCs on {source}"
            ).name
    if peers:
        bars: dict[str, dict[str, float]] = {"threadguard": {}}
        ours = summary(result)
        for key in ("hatexplain_macro_f1", "hatexplain_auroc", "hate_auroc", "toxic_auroc"):
            if key in ours:
                bars["threadguard"][key] = ours[key]
        for name, entry in peers.items():
            bars[name] = {
                "hatexplain_macro_f1": entry.get("hatexplain", {}).get("macro_f1", math.nan),
                "hatexplain_auroc": entry.get("hatexplain", {}).get("auroc", math.nan),
                "hate_auroc": entry.get("hate", {}).get("all", {}).get("auroc", math.nan),
                "toxic_auroc": entry.get("toxic", {}).get("all", {}).get("auroc", math.nan),
            }
        images["peers"] = plots.metric_bars(
            bars, out_dir / "peers.png", "threadguard vs offline peers (test)"
        ).name
    return images


def _markdown(model: LoadedModel, metrics: Mapping[str, Any], images: Mapping[str, str]) -> str:
    head = metrics["headline"]
    ours = summary(metrics)
    peers = metrics.get("peers", {})
    lines = [
        f"# Evaluation of threadguard model {model.version}",
        "",
        f"{metrics['test_rows']:,} test rows scored in {metrics['scoring_seconds']} s. Every",
        "figure is on the official test split of its dataset (or the held-out hash split the",
        "registry names); thresholds were chosen on validation data and are in the manifest.",
        "",
        *_feedback_lines(model.manifest.get("feedback", []), "This model"),
        "## Goals",
        "",
    ]
    goal_rows = [
        ["HateXplain 3-class macro-F1", "hatexplain_macro_f1", PUBLISHED["hatexplain"]],
        ["HateXplain AUROC (ovo)", "hatexplain_auroc", ""],
        ["RumourEval 2019 reply-stance macro-F1", "rumoureval_macro_f1", PUBLISHED["rumoureval"]],
        [
            "TweetEval stance (F1 avg of favor, against)",
            "tweeteval_stance",
            PUBLISHED["tweeteval_stance"],
        ],
        ["behavioural suite, overall", "behaviour_overall", ""],
        ["behavioural suite, lowest functionality", "behaviour_min_functionality", ""],
        ["neutral madlibs sentences flagged hate, worst group", "madlibs_neutral_hate_max", ""],
        ["conspiracy flags on PAN CRITICAL texts", "conspiracy_critical_fpr", ""],
        ["conspiracy F1 on PAN 2024 test", "pan_conspiracy_f1", ""],
        ["hate AUROC, lowest of the three antisemitism sets", "antisemitism_auroc_min", ""],
    ]
    table_rows = []
    for name, key, published in goal_rows:
        value, goal = ours.get(key), GOALS[key]
        if not isinstance(value, float):
            met = "n/a"
        elif key in CEILINGS:
            met = "met" if value <= goal else "missed"
        else:
            met = "met" if value >= goal else "missed"
        shown_goal = f"≤ {_f(goal)}" if key in CEILINGS else f"≥ {_f(goal)}"
        table_rows.append([name, _f(value), shown_goal, met, published])
    lines += _table(["metric", "threadguard", "goal", "", "published"], table_rows)
    if "baseline" in metrics:
        lines += _baseline_section(model, metrics)
    lines += behaviour_lines(metrics, _table, _f)
    lines += evasion_lines(metrics, _table, _f)
    lines += ablation_lines(
        metrics.get("ablation"), _table, _f, conditions=metrics.get("ablation_conditions")
    )
    lines += encoder_lines(metrics.get("encoder_ablation"), _table, _f)

    lines += ["## Per head (test)", ""]
    rows = []
    for name in ("hate", "toxic", "conspiracy"):
        entry = head.get(name, {})
        for source, m in sorted(entry.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            rows.append(
                [
                    name,
                    source,
                    m["n"],
                    m["positives"],
                    m["auroc"],
                    m["average_precision"],
                    m["precision"],
                    m["recall"],
                    m["f1"],
                    m["ece"],
                ]
            )
    lines += _table(
        ["head", "source", "n", "pos", "AUROC", "AP", "precision", "recall", "F1", "ECE"], rows
    )
    hx = head.get("hatexplain")
    if hx:
        lines += ["### HateXplain (3 classes from the hate and toxic heads)", ""]
        lines += _table(
            ["accuracy", "macro-F1", "AUROC (ovo, as the paper)", "AUROC (ovr)"],
            [[hx["accuracy"], hx["macro_f1"], hx["auroc"], hx.get("auroc_ovr")]],
        )
    lines += ["### Hard negatives", ""]
    neg_rows = []
    for tag, entry in head.get("hate_hard_negatives", {}).items():
        neg_rows.append([f"hate flags on {tag} rows", entry["n"], entry["flagged"], entry["rate"]])
    crit = head.get("conspiracy_critical")
    if crit:
        neg_rows.append(
            ["conspiracy flags on PAN CRITICAL rows", crit["n"], crit["flagged"], crit["rate"]]
        )
    lines += _table(["probe", "n", "flagged", "rate"], neg_rows)
    if "hate_target" in head:
        t = head["hate_target"]
        lines += [
            f"Target group correct on {t['accuracy']:.3f} of {t['n_flagged']:,} flagged "
            "hate rows whose source names the group.",
            "",
        ]
    lines += ["## Stance and reply stance (test)", ""]
    st_rows = []
    for key in (
        "tweeteval_stance",
        "vast_stance",
        "reply_stance_rumoureval2019",
        "reply_stance_debagreement",
    ):
        entry = head.get(key)
        if entry:
            st_rows.append(
                [key, entry["accuracy"], entry["macro_f1"], entry.get("official", math.nan)]
            )
    lines += _table(["set", "accuracy", "macro-F1", "official metric"], st_rows)
    tw = head.get("tweeteval_stance", {}).get("by_topic")
    if tw:
        lines += _table(
            ["TweetEval topic", "F1 avg (favor, against)"], [[k, _f(v, 1)] for k, v in tw.items()]
        )
    lines += ["## Identity fairness (Jigsaw bias AUCs, goal ≥ 0.94 each)", ""]
    for name, per_source in metrics.get("fairness", {}).items():
        for source, entry in per_source.items():
            table = entry["table"]
            below = [
                r["subgroup"]
                for r in table
                if any(
                    (r.get(k) is not None and not math.isnan(r[k]) and r[k] < 0.94)
                    for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
                )
            ]
            lines += [
                f"**{name} head on {source}**: overall AUROC {_f(entry['overall_auroc'])}, "
                f"final bias score {_f(entry['final_bias_score'])}; "
                f"{len(below)} of {len(table)} identity terms below 0.94 on some AUC.",
                "",
            ]
            lines += _table(
                ["term", "n", "subgroup AUC", "BPSN", "BNSP"],
                [
                    [r["subgroup"], r["size"], r["subgroup_auc"], r["bpsn_auc"], r["bnsp_auc"]]
                    for r in table
                ],
            )
    neutral = metrics.get("neutral_identity", {})
    if neutral:
        lines += ["### Flags on neutral identity statements (madlibs NOT_BAD)", ""]
        lines += _table(
            ["flag", "rows", "rate"], [[k, v["n"], v["overall"]] for k, v in neutral.items()]
        )
    if peers:
        lines += ["## Offline peers on the same test rows", ""]
        peer_rows = [
            [
                "threadguard",
                model.version,
                ours.get("hatexplain_macro_f1"),
                ours.get("hatexplain_auroc"),
                ours.get("hate_auroc"),
                ours.get("toxic_auroc"),
            ]
        ]
        for name, entry in peers.items():
            peer_rows.append(
                [
                    name,
                    entry["version"],
                    entry.get("hatexplain", {}).get("macro_f1"),
                    entry.get("hatexplain", {}).get("auroc"),
                    entry.get("hate", {}).get("all", {}).get("auroc"),
                    entry.get("toxic", {}).get("all", {}).get("auroc"),
                ]
            )
        lines += _table(
            [
                "system",
                "version",
                "HateXplain macro-F1",
                "HateXplain AUROC",
                "hate AUROC",
                "toxic AUROC",
            ],
            peer_rows,
        )
        lines += [
            "Peers give one score; it stands in for both heads in the HateXplain rows, ",
            "at their own 0.5 cut-off.",
            "",
        ]
        by_source = []
        for name, entry in {"threadguard": {"hate": head.get("hate", {})}, **peers}.items():
            for source, m in sorted(entry.get("hate", {}).items()):
                if source.startswith("antisemitism") or source in ("mhs-jewish", "all"):
                    by_source.append([name, source, m["n"], m["auroc"], m["f1"]])
        lines += ["### Hate on the antisemitism sets", ""]
        lines += _table(["system", "source", "n", "AUROC", "F1"], by_source)
        fair_rows = []
        for name, entry in peers.items():
            for source, f in entry.get("fairness", {}).items():
                fair_rows.append([name, source, f["overall_auroc"], f["final_bias_score"]])
        for source, f in metrics.get("fairness", {}).get("toxic", {}).items():
            fair_rows.insert(
                0, ["threadguard (toxic)", source, f["overall_auroc"], f["final_bias_score"]]
            )
        lines += _table(["system", "set", "overall AUROC", "final bias score"], fair_rows)
    seed = metrics.get("seed")
    if seed:
        c = seed["checks"]
        lines += [
            "## The seed thread",
            "",
            f"Expected: hate (target jewish) exactly on DarkEyes and Jozo Magoc, conspiracy on "
            f"DarkEyes. Hate flagged on: {', '.join(c['hate_authors']) or 'nobody'}; "
            f"conspiracy on: {', '.join(c['conspiracy_authors']) or 'nobody'}; "
            f"passed: {_f(c['passed'])}.",
            "",
        ]
        lines += _table(
            [
                "id",
                "author",
                "depth",
                "hate",
                "target",
                "toxic",
                "conspiracy",
                "stance",
                "thread stance",
                "reply stance",
            ],
            [
                [
                    r["comment_id"],
                    r["author"] or "",
                    r["depth"],
                    f"{r['hate']:.2f}{' ⚑' if r['hate_flag'] else ''}",
                    r["hate_target"] or "",
                    f"{r['toxic']:.2f}{' ⚑' if r['toxic_flag'] else ''}",
                    f"{r['conspiracy']:.2f}{' ⚑' if r['conspiracy_flag'] else ''}",
                    r["stance"] or "",
                    r["thread_stance"] or "",
                    r["reply_stance"] or "",
                ]
                for r in seed["rows"]
            ],
        )
    if images:
        lines += ["## Plots", ""]
        lines += [f"![{name}]({file})" for name, file in images.items()]
        lines.append("")
    return "\n".join(lines)


def _difference(new: Any, old: Any) -> str:
    if not isinstance(new, float) or not isinstance(old, float):
        return "n/a"
    if math.isnan(new) or math.isnan(old):
        return "n/a"
    return f"{new - old:+.3f}"


def _dig(tree: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _feedback_lines(records: Sequence[Mapping[str, Any]], who: str) -> list[str]:
    lines = []
    for r in records:
        dropped = sum(r.get("dropped", {}).values())
        lines += [
            f"{who} was trained with moderator feedback from `{r['path']}` (sha256 "
            f"{str(r['sha256'])[:12]}…): {_f(r['used'])} rows used, {_f(dropped)} dropped as "
            f"test/validation leaks or repeats, {_f(r['withdrawn'])} withdrawn.",
            "",
        ]
    return lines


def _baseline_section(model: LoadedModel, metrics: Mapping[str, Any]) -> list[str]:
    """Headline test figures of this model beside the baseline's, on the same rows."""
    base = metrics["baseline"]
    old_head, new_head = base["headline"], metrics["headline"]
    old, new = base["summary"], summary(metrics)
    lines = [
        f"## Against baseline {base['version']}",
        "",
        f"Both models scored the same {metrics['test_rows']:,} test rows with the same code, "
        "each at its own thresholds (from its manifest); difference = this model − baseline. "
        "Moderator feedback never enters a test split, so these rows say whether the "
        "corrections helped or hurt on the public test sets; small differences on a few "
        "hundred rows are within noise (no significance test is made here).",
        "",
        *_feedback_lines(base.get("feedback", []), f"The baseline {base['version']}"),
    ]
    rows = []
    for key, label, where in BASELINE_ROWS:
        if key not in old and key not in new:
            continue
        n = _dig(new_head, [*where, "n"])
        rows.append([label, n, old.get(key), new.get(key), _difference(new.get(key), old.get(key))])
    lines += _table(
        ["metric", "n", f"baseline {base['version']}", f"this model {model.version}", "difference"],
        rows,
    )
    per_source = []
    for head in ("hate", "toxic", "conspiracy"):
        sources = sorted(set(new_head.get(head, {})) | set(old_head.get(head, {})))
        for source in sorted(sources, key=lambda name: (name != "all", name)):
            o = old_head.get(head, {}).get(source, {})
            m = new_head.get(head, {}).get(source, {})
            per_source.append(
                [
                    head,
                    source,
                    m.get("n", o.get("n")),
                    o.get("auroc"),
                    m.get("auroc"),
                    _difference(m.get("auroc"), o.get("auroc")),
                    o.get("f1"),
                    m.get("f1"),
                    _difference(m.get("f1"), o.get("f1")),
                ]
            )
    if per_source:
        lines += ["### Per head and source, against the baseline (test)", ""]
        lines += _table(
            ["head", "source", "n", "AUROC before", "AUROC now", "Δ", "F1 before", "F1 now", "Δ"],
            per_source,
        )
    return lines

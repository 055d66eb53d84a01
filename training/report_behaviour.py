"""The report's behavioural sections: the suite per functionality, the evasion probe and the
training ablation, each beside the baseline where there is one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from training.behaviour import GATE, read_functionalities

FAILURES_SHOWN = 3


def behaviour_lines(metrics: Mapping[str, Any], table: Any, fmt: Any) -> list[str]:
    """The suite's table: one row per functionality, threadguard, baseline and peers."""
    behaviour = metrics.get("behaviour", {})
    ours = behaviour.get("threadguard")
    if not ours:
        return []
    base = metrics.get("baseline", {}).get("behaviour")
    peers = {k: v for k, v in behaviour.items() if k != "threadguard"}
    described = read_functionalities()
    columns = ["functionality", "head", "n", "threadguard"]
    if base:
        columns.append(f"baseline {metrics['baseline']['version']}")
    columns += list(peers)
    rows: list[list[Any]] = []
    for name, entry in ours["by_functionality"].items():
        accuracy = entry["accuracy"]
        mark = "" if accuracy >= GATE["per_functionality"] else " ✗"
        row: list[Any] = [
            name,
            described.get(name, {}).get("head", ""),
            entry["n"],
            f"{fmt(accuracy, 2)}{mark}",
        ]
        if base:
            row.append(fmt(base["by_functionality"].get(name, {}).get("accuracy"), 2))
        for peer in peers.values():
            value = peer["by_functionality"].get(name, {}).get("accuracy")
            row.append("n/a" if value is None or value != value else fmt(value, 2))
        rows.append(row)
    overall: list[Any] = ["**overall**", "", ours["n"], f"**{fmt(ours['overall'])}**"]
    if base:
        overall.append(fmt(base["overall"]))
    overall += [fmt(p["overall"]) for p in peers.values()]
    rows.append(overall)
    lines = [
        "## Behavioural suite (tests/behaviour, never trained or tuned on)",
        "",
        f"{len(ours['by_functionality'])} functionalities, {ours['n']:,} hand-written cases. "
        f"The shipped bundle is held to every functionality ≥ {GATE['per_functionality']:.2f} "
        f"and overall ≥ {GATE['overall']:.2f} (tests/test_shipped_model.py); ✗ marks a "
        f"functionality below it. Gate {'held' if ours['passes_gate'] else 'NOT held'}.",
        "Peers answer every binary head with their one score at 0.5 and have no conspiracy "
        "or reply-stance head (n/a; their overall is over the cases they answer).",
        "",
    ]
    lines += table(columns, rows)
    failed = ours.get("failures", [])
    if failed:
        lines += ["### Failed cases (at most three per functionality)", ""]
        shown: dict[str, int] = {}
        fail_rows = []
        for case in failed:
            count = shown.get(case["functionality"], 0)
            if count >= FAILURES_SHOWN:
                continue
            shown[case["functionality"]] = count + 1
            text = case["text"].replace("|", "\\|").replace("\n", " ")
            text = "".join(c if c.isprintable() else f"U+{ord(c):04X}" for c in text)
            fail_rows.append(
                [case["functionality"], case["expected"], case["answer"], case["score"], text[:120]]
            )
        lines += table(["functionality", "expected", "answer", "score", "text"], fail_rows)
    return lines


def evasion_lines(metrics: Mapping[str, Any], table: Any, fmt: Any) -> list[str]:
    """The evasion probe: per evasion, how far the hate score moves from the plain text."""
    probe = metrics.get("evasion")
    if not probe:
        return []
    base = metrics.get("baseline", {}).get("evasion")
    lines = [
        "## Evasion probe",
        "",
        f"{probe['n']} hateful suite sentences (derogation, dehumanisation), each rewritten "
        f"the ways filter dodgers write; the goal is a hate score within "
        f"{probe['tolerance']:.2f} of the plain sentence's. Plain: mean hate "
        f"{fmt(probe['plain_mean'])}, {probe['plain_flagged']} of {probe['n']} flagged.",
        "",
    ]
    columns = ["evasion", "mean |Δ|", "max |Δ|", "within .10", "flags kept"]
    if base:
        columns += ["baseline mean |Δ|", "baseline within .10"]
    rows = []
    for name, entry in probe["evasions"].items():
        row: list[Any] = [
            name,
            fmt(entry["mean_abs_change"]),
            fmt(entry["max_abs_change"]),
            fmt(entry["within_tolerance"], 2),
            f"{entry['flags_kept']} / {probe['plain_flagged']}",
        ]
        if base:
            old = base["evasions"].get(name, {})
            row += [fmt(old.get("mean_abs_change")), fmt(old.get("within_tolerance"), 2)]
        rows.append(row)
    lines += table(columns, rows)
    nonsense_rows = [
        [name, ", ".join(entry["raised"]) or "none", fmt(entry["max_score"])]
        for name, entry in probe["nonsense"].items()
    ]
    lines += ["Nonsense input must raise no flag:", ""]
    lines += table(["input", "flags raised", "highest score"], nonsense_rows)
    return lines


def ablation_lines(
    ablation: Sequence[Mapping[str, Any]] | None,
    table: Any,
    fmt: Any,
    *,
    conditions: Mapping[str, Any] | None = None,
) -> list[str]:
    """The training ablation (validation rows and the suite), if one was run for this model."""
    if not ablation:
        return []
    sample = (conditions or {}).get("sample")
    lines = [
        "## Ablation (validation rows and the behavioural suite; never test)",
        "",
        "Each row trains the full pipeline with one change left out"
        + (f", on at most {sample:,} rows per dataset split" if sample else "")
        + " (`python -m training ablate-training`); throughput is comments per second on "
        "one thread, with evidence, in the same run, and `speed_ratio` its ratio to the "
        "full pipeline's.",
        "",
    ]
    caveat = (conditions or {}).get("caveat")
    if caveat:
        lines += [f"**Caveat:** {caveat}", ""]
    return lines + _entries(ablation, "variant", table, fmt)


def encoder_lines(result: Mapping[str, Any] | None, table: Any, fmt: Any) -> list[str]:
    """The encoder ablation (HateXplain validation and the suite's hate cases), if run."""
    if not result or not result.get("readers"):
        return []
    rows = result.get("rows", {})
    lines = [
        "## Encoder ablation (HateXplain validation and the suite's hate cases; never test)",
        "",
        f"Each reader learns HateXplain's three classes from {rows.get('train', 0):,} train "
        f"rows (`python -m training ablate-encoder`, {result.get('epochs')} fine-tuning "
        "epochs); the suite's hate cases count as flagged when the most likely class is "
        "hateful. Throughput is texts per second on one thread in the same run; "
        "`speed_ratio` is over the TF-IDF reader.",
        "",
    ]
    if result.get("caveat"):
        lines += [f"**Caveat:** {result['caveat']}", ""]

    def cell(value: Any) -> str:
        # Seconds, rates and sizes read better whole; figures under 10 keep fmt's digits.
        if isinstance(value, float) and abs(value) >= 10:
            return f"{value:,.0f}"
        return str(fmt(value))

    return lines + _entries(result["readers"], "reader", table, cell)


def _entries(entries: Sequence[Mapping[str, Any]], name: str, table: Any, cell: Any) -> list[str]:
    """An ablation's table (one row per entry, its `name` first) and the entries' notes."""
    keys = [key for key in entries[0] if key not in (name, "note")]
    lines: list[str] = table(
        [name, *keys], [[e[name], *[cell(e.get(k)) for k in keys]] for e in entries]
    )
    notes = [f"- {e[name]}: {e['note']}" for e in entries if e.get("note")]
    return lines + notes + ([""] if notes else [])

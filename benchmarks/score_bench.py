"""Scoring benchmark: the committed model on real comments beside alt-profanity-check, HateSonar.

Everything runs in one process pinned to one core (`sched_setaffinity`), on the same texts,
in the same run; the figures that matter are the ratios of throughputs (threadguard
computes five heads with evidence for every flag, the peers one score each). Two sets:
10,000 distinct comments from the comment-like datasets as they come, and 10,000 of
150-250 characters (issue 12's "200-char comments" row). Also single-comment latency (a
batch of one, as the API scores it): median and p95, with and without parent and topic.

    python benchmarks/score_bench.py [--data-dir ../shared/datasets] [--comments 10000]

Writes benchmarks/out/score_bench.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.registry import (  # noqa: E402
    LoadedModel,  # noqa: E402
    default_model_dir,
    load_current,
)
from app.scoring import score_frame, score_rows  # noqa: E402
from training.datasets import load_all  # noqa: E402

OUT = HERE / "out"
# Comment-like sources (news sites, Reddit, forums, YouTube), not tweets or templates.
SOURCES = (
    "civil-toxic-spans",
    "fox-news-comments",
    "redditbias",
    "israel-palestine-reddit-stance",
    "debagreement",
    "stormfront",
    "vast",
    "prct-youtube",
)


def comments(data_dir: Path, n: int, *, short: bool = False) -> list[str]:
    """`n` distinct real comments from the comment-like datasets, a fixed sample (of
    150-250 characters when `short`)."""
    frame, _ = load_all(data_dir, SOURCES)
    texts = frame["text"].drop_duplicates()
    if short:
        lengths = texts.str.len()
        texts = texts[(lengths >= 150) & (lengths <= 250)]
    return texts.sample(min(n, len(texts)), random_state=0).tolist()


def best_of(repeat: int, run: object) -> float:
    """The fastest of `repeat` timed calls of `run` (seconds)."""
    assert callable(run)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def peers() -> dict[str, Callable[[list[str]], object]]:
    """The offline peers installed here (the `compare` extra), by name."""
    from training.peers import HATESONAR_OFFENSIVE, PEER_NAMES, PeerError, get_peer

    found: dict[str, Callable[[list[str]], object]] = {}
    for name in PEER_NAMES:
        if name == HATESONAR_OFFENSIVE:  # the same model as hatesonar-hate, run once
            continue
        try:
            found[name] = get_peer(name).score
        except PeerError as error:
            print(f"{name} is not available: {error}")
    return found


def throughput(
    model: LoadedModel,
    texts: list[str],
    scorers: dict[str, Callable[[list[str]], object]],
    repeat: int,
) -> dict[str, object]:
    """Comments/s of threadguard (with and without evidence) and of each peer on `texts`."""
    frame = pd.DataFrame({"text": texts})
    score_frame(model, frame.head(500))  # warm the per-word memories before timing
    ours = best_of(repeat, lambda: score_frame(model, frame))
    bare = best_of(repeat, lambda: score_frame(model, frame, evidence_top=0))
    result: dict[str, object] = {
        "comments": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "threadguard_per_second": round(len(texts) / ours),
        "threadguard_no_evidence_per_second": round(len(texts) / bare),
        "peers": {},
    }
    for name, score in scorers.items():
        score(texts[:200])
        seconds = best_of(repeat, lambda score=score: score(texts))  # type: ignore[misc]
        result["peers"][name] = {  # type: ignore[index]
            "per_second": round(len(texts) / seconds),
            "ratio": round(seconds / ours, 3),
        }
    return result


def latencies(model: LoadedModel, texts: list[str]) -> dict[str, float]:
    """Median and p95 of one comment scored alone (ms), without and with parent and topic."""
    for text in texts[:50]:
        score_rows(model, [text], [None], [None])
    alone = []
    for text in texts[:1000]:
        started = time.perf_counter()
        score_rows(model, [text], [None], [None])
        alone.append(time.perf_counter() - started)
    with_context = []
    for text, parent in zip(texts[:500], texts[500:1000], strict=True):
        started = time.perf_counter()
        score_rows(model, [text], [parent], ["Sanctions on North Korea"])
        with_context.append(time.perf_counter() - started)

    def ms(values: list[float], q: int) -> float:
        return round(1000 * statistics.quantiles(values, n=100)[q - 1], 2)

    return {
        "single_ms_median": ms(alone, 50),
        "single_ms_p95": ms(alone, 95),
        "single_with_context_ms_median": ms(with_context, 50),
        "single_with_context_ms_p95": ms(with_context, 95),
    }


def _goal(ok: bool) -> str:
    return "met" if ok else "missed"


def main() -> None:
    """Run the benchmark and write its report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    model = load_current(default_model_dir())
    scorers = peers()
    sets = {
        "real": comments(args.data_dir, args.comments),
        "200-char": comments(args.data_dir, args.comments, short=True),
    }
    result: dict[str, object] = {
        "model_version": model.version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": 1,
    }
    for name, texts in sets.items():
        result[name] = throughput(model, texts, scorers, args.repeat)
        print(name, json.dumps(result[name]))
    result.update(latencies(model, sets["200-char"]))

    OUT.mkdir(exist_ok=True)
    (OUT / "score_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Scoring benchmark",
        "",
        f"Model {model.version}; one process on one core; best of {args.repeat}; every "
        "system on the same texts in the same run.",
        "",
        "| comments | system | comments/s | peer time / threadguard time |",
        "|---|---|---|---|",
    ]
    for name in sets:
        row = result[name]
        assert isinstance(row, dict)
        label = f"{name} ({row['comments']:,}, {row['mean_chars']} chars)"
        lines.append(
            f"| {label} | threadguard, 5 heads, evidence for every flag | "
            f"{row['threadguard_per_second']:,} | |"
        )
        lines.append(
            f"| {label} | threadguard, 5 heads, no evidence | "
            f"{row['threadguard_no_evidence_per_second']:,} | |"
        )
        for peer, figures in row["peers"].items():
            lines.append(f"| {label} | {peer} | {figures['per_second']:,} | {figures['ratio']} |")
    short = result["200-char"]
    assert isinstance(short, dict)
    rate = short["threadguard_per_second"]
    peer_rows = short["peers"]
    lines += ["", "Goals (issue 12), 200-char comments with evidence:", ""]
    lines.append(f"- ≥ 5,000 comments/s: {rate:,} ({_goal(rate >= 5_000)})")
    if "hatesonar-hate" in peer_rows:
        ratio = peer_rows["hatesonar-hate"]["ratio"]
        lines.append(f"- ≥ 2× HateSonar: {ratio}× ({_goal(ratio >= 2)})")
    if "alt-profanity-check" in peer_rows:
        ratio = peer_rows["alt-profanity-check"]["ratio"]
        lines.append(f"- ≥ 0.1× alt-profanity-check: {ratio}× ({_goal(ratio >= 0.1)})")
    p95 = result["single_ms_p95"]
    assert isinstance(p95, float)
    lines += [
        "",
        f"Single 200-char comment in-process: median {result['single_ms_median']} ms, p95 "
        f"{p95} ms (goal p95 ≤ 2 ms: {_goal(p95 <= 2)}); with parent and topic: median "
        f"{result['single_with_context_ms_median']} ms, p95 "
        f"{result['single_with_context_ms_p95']} ms.",
        "",
    ]
    (OUT / "score_bench.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

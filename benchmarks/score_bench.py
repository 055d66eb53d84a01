"""Scoring benchmark: the committed model on 10,000 real comments, beside alt-profanity-check.

Both score the same texts in the same process and run; the figure that matters is the
ratio of throughputs (threadguard computes five heads, the peer one score). Also measures
single-comment latency (a batch of one, as the API scores it), with and without a parent
and topic.

    python benchmarks/score_bench.py [--data-dir ../shared/datasets] [--comments 10000]

Writes benchmarks/out/score_bench.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.registry import default_model_dir, load_current  # noqa: E402
from app.scoring import score_frame, score_texts  # noqa: E402
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


def comments(data_dir: Path, n: int) -> list[str]:
    """`n` distinct real comments from the comment-like datasets, a fixed sample."""
    frame, _ = load_all(data_dir, SOURCES)
    texts = frame["text"].drop_duplicates()
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


def main() -> None:
    """Run the benchmark and write its report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    model = load_current(default_model_dir())
    texts = comments(args.data_dir, args.comments)
    frame = pd.DataFrame({"text": texts})
    chars = sum(len(t) for t in texts)
    print(f"{len(texts):,} comments, {chars / len(texts):.0f} characters on average")

    score_frame(model, frame.head(200))  # warm caches before timing
    ours = best_of(args.repeat, lambda: score_frame(model, frame))
    bare = best_of(args.repeat, lambda: score_frame(model, frame, evidence_top=0))
    result: dict[str, object] = {
        "comments": len(texts),
        "mean_chars": round(chars / len(texts), 1),
        "model_version": model.version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threadguard_seconds": round(ours, 3),
        "threadguard_per_second": round(len(texts) / ours, 1),
        "threadguard_no_evidence_seconds": round(bare, 3),
        "threadguard_no_evidence_per_second": round(len(texts) / bare, 1),
    }
    try:
        from profanity_check import predict_prob
    except ImportError:
        print("alt-profanity-check is not installed (pip install -e '.[compare]')")
    else:
        predict_prob(texts[:200])
        peer = best_of(args.repeat, lambda: predict_prob(texts))
        result["peer"] = "alt-profanity-check"
        result["peer_seconds"] = round(peer, 3)
        result["peer_per_second"] = round(len(texts) / peer, 1)
        result["throughput_ratio"] = round(peer / ours, 3)

    singles = texts[:200]
    latencies = []
    for text in singles:
        started = time.perf_counter()
        score_texts(model, [text])
        latencies.append(time.perf_counter() - started)
    with_context = []
    for text, parent in zip(singles[:100], singles[100:], strict=True):
        started = time.perf_counter()
        score_texts(model, [text], parent_texts=[parent], topics=["Sanctions on North Korea"])
        with_context.append(time.perf_counter() - started)
    result["single_ms_median"] = round(1000 * statistics.median(latencies), 2)
    result["single_ms_p95"] = round(1000 * statistics.quantiles(latencies, n=20)[-1], 2)
    result["single_with_context_ms_median"] = round(1000 * statistics.median(with_context), 2)

    OUT.mkdir(exist_ok=True)
    (OUT / "score_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Scoring benchmark",
        "",
        f"Model {model.version}; {len(texts):,} real comments "
        f"({result['mean_chars']} characters on average); one process; best of {args.repeat}.",
        "",
        "| system | heads | seconds | comments/s |",
        "|---|---|---|---|",
        f"| threadguard | 5, evidence for every flag | {ours:.2f} | {len(texts) / ours:,.0f} |",
        f"| threadguard | 5, no evidence | {bare:.2f} | {len(texts) / bare:,.0f} |",
    ]
    if "peer" in result:
        lines.append(
            f"| alt-profanity-check | 1 | {result['peer_seconds']} | "
            f"{result['peer_per_second']:,} |"
        )
        lines += [
            "",
            f"Throughput ratio threadguard / peer: {result['throughput_ratio']} (goal ≥ 0.5).",
        ]
    lines += [
        "",
        f"Single comment: median {result['single_ms_median']} ms, p95 "
        f"{result['single_ms_p95']} ms (goal ≤ 5 ms); with parent and topic: median "
        f"{result['single_with_context_ms_median']} ms.",
        "",
    ]
    (OUT / "score_bench.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

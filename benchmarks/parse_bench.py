"""Parse benchmark: a generated WordPress page with many comments of mixed depth.

Reports parse time, peak memory and the ratio to a bare `lxml.html.fromstring` of the same
bytes, measured in the same run; then peak memory at several sizes to show how it grows.
Each measurement runs in a fresh subprocess so peak RSS belongs to that parse alone.

    python benchmarks/parse_bench.py [--comments 100000] [--repeat 3]

Writes benchmarks/out/parse_bench.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import time
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
WORDS = (
    "the sanctions council vote draft russia china north korea talks trump veto empire "
    "workers rail textiles nuclear freeze humanitarian resolution ambassador pyongyang"
).split()


def generate_page(n: int, *, seed: int = 0, max_depth: int = 10) -> tuple[bytes, list[int]]:
    """A WordPress classic page with `n` comments; returns the bytes and each comment's depth.

    Parents are drawn among the last few comments so depths vary from 0 to `max_depth`.
    """
    rng = random.Random(seed)
    parents: list[int | None] = []
    depths: list[int] = []
    for i in range(n):
        parent: int | None = None
        if i and rng.random() < 0.6:
            candidate = rng.randrange(max(0, i - 8), i)
            if depths[candidate] < max_depth:
                parent = candidate
        parents.append(parent)
        depths.append(0 if parent is None else depths[parent] + 1)
    children: dict[int | None, list[int]] = {}
    for i, parent in enumerate(parents):
        children.setdefault(parent, []).append(i)

    out: list[str] = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Bench post</title></head>"
        "<body><article class='post'><h1 class='entry-title'>Bench post</h1>"
        "<div class='entry-content'><p>An article about the sanctions vote.</p></div>"
        "</article><div id='comments' class='comments-area'><ol class='comment-list'>"
    ]
    # Explicit stack: ("open", i) writes a comment and schedules its replies and its close.
    stack: list[tuple[str, int]] = [("open", i) for i in reversed(children.get(None, []))]
    while stack:
        action, i = stack.pop()
        if action == "close_children":
            out.append("</ol></li>")
            continue
        if action == "close":
            out.append("</li>")
            continue
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        out.append(
            f"<li id='comment-{i + 1}' class='comment depth-{depths[i] + 1}'>"
            f"<article id='div-comment-{i + 1}' class='comment-body'>"
            "<footer class='comment-meta'><div class='comment-author vcard'>"
            f"<b class='fn'>{escape(f'user{rng.randrange(5000)}')}</b> "
            "<span class='says'>says:</span></div><div class='comment-metadata'>"
            f"<a href='https://blog.test/post/#comment-{i + 1}'>"
            f"<time datetime='2019-12-17T10:{i % 60:02d}:00+00:00'>December 17, 2019</time>"
            "</a></div></footer>"
            f"<div class='comment-content'><p>{escape(text)}</p></div>"
            f"<div class='reply'><a class='comment-reply-link' href='#'>Reply</a></div>"
            "</article>"
        )
        kids = children.get(i, [])
        if kids:
            out.append("<ol class='children'>")
            stack.append(("close_children", i))
            stack.extend(("open", k) for k in reversed(kids))
        else:
            stack.append(("close", i))
    out.append("</ol></div></body></html>")
    return "".join(out).encode("utf-8"), depths


def measure(kind: str, path: Path, repeat: int) -> dict[str, float | int]:
    """Run in a child process: time `kind` over the page and report peak RSS."""
    import lxml.html

    from app.threads import ParseOptions, parse

    data = path.read_bytes()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times: list[float] = []
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        if kind == "lxml":
            root = lxml.html.fromstring(data)
            count = len(root)
            del root
        else:
            thread = parse(data, format="html", options=ParseOptions(max_bytes=len(data) + 1))
            count = len(thread.comments)
            del thread
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "best_s": min(times),
        "median_s": sorted(times)[len(times) // 2],
        "peak_rss_mb": peak_kb / 1024,
        "added_rss_mb": (peak_kb - base_rss) / 1024,
        "count": count,
    }


def run_child(kind: str, path: Path, repeat: int) -> dict[str, float | int]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    value: dict[str, float | int] = json.loads(result.stdout)
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]), args.repeat)))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    sizes = sorted({args.comments // 4, args.comments // 2, args.comments})
    for n in sizes:
        page, depths = generate_page(n)
        path = OUT / f"wordpress_{n}.html"
        path.write_bytes(page)
        lxml_result = run_child("lxml", path, args.repeat)
        ours = run_child("threadguard", path, args.repeat)
        if ours["count"] != n:
            print(f"error: parsed {ours['count']} comments, generated {n}", file=sys.stderr)
            return 1
        rows.append(
            {
                "comments": n,
                "bytes": len(page),
                "max_depth": max(depths),
                "lxml_s": lxml_result["best_s"],
                "threadguard_s": ours["best_s"],
                "ratio": ours["best_s"] / lxml_result["best_s"],
                "lxml_added_rss_mb": lxml_result["added_rss_mb"],
                "threadguard_added_rss_mb": ours["added_rss_mb"],
                "threadguard_peak_rss_mb": ours["peak_rss_mb"],
                "rss_kb_per_comment": ours["added_rss_mb"] * 1024 / n,
            }
        )
        path.unlink()

    header = (
        "| comments | MB | max depth | lxml s | threadguard s | ratio | lxml +MB | "
        "threadguard +MB | KB/comment |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r['comments']:,} | {r['bytes'] / 1e6:.1f} | {r['max_depth']} | {r['lxml_s']:.2f} | "
        f"{r['threadguard_s']:.2f} | {r['ratio']:.2f} | {r['lxml_added_rss_mb']:.0f} | "
        f"{r['threadguard_added_rss_mb']:.0f} | {r['rss_kb_per_comment']:.2f} |"
        for r in rows
    ]
    largest = rows[-1]
    verdict = "meets" if largest["ratio"] <= 2 else "misses"
    report = "\n".join(
        [
            "# Parse benchmark",
            "",
            f"Python {platform.python_version()} on {platform.machine()}, best of "
            f"{args.repeat}; each size in fresh processes. Goal: ratio ≤ 2 ({verdict} it at "
            f"{largest['comments']:,} comments: {largest['ratio']:.2f}).",
            "",
            header,
            *lines,
            "",
            "`+MB` is the peak resident memory a process added while parsing (after imports "
            "and reading the file). KB/comment staying flat across sizes means memory grows "
            "linearly.",
        ]
    )
    print(report)
    (OUT / "parse_bench.md").write_text(report + "\n", encoding="utf-8")
    (OUT / "parse_bench.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

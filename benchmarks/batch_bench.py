"""Batch CLI benchmark: `threadguard score` on N synthetic comments, local engine vs Dask.

Generates N comment rows (id, text, parent text for replies, the thread's topic) into a
temporary CSV, then times `threadguard score --parent-column --topic-column` with the
committed model: once with `--engine local`, once with `--engine dask --workers 2`.
Reports comments/s (wall time of the whole command: start-up, model loading, cluster
start-up and all), the command's own scoring rate, and peak memory: `ru_maxrss` of the
largest process of each run (every run goes through a small measuring subprocess that
waits for it, so `RUSAGE_CHILDREN` covers that run alone), and the tree sampled with psutil
every 0.2 s for the main process, the largest Dask worker and the whole tree. The two
outputs must be byte-identical. Goals (issue 12): ≥ 3,000 comments/s local, Dask ≥ 1.8×.

A Dask speed-up needs idle cores: before and after the runs, the machine's parallel
capacity is probed (a CPU-bound loop in `--workers` processes at once against one alone)
and reported beside the ratio, so a figure taken on a busy machine reads as such.

Comments are built from sentences of a generator written here; with `--data-dir`, half of
the sentences come from the texts of the comment-like public datasets instead. The CSV
lives in a temporary folder that is deleted at the end: dataset rows never enter the
repository.

    python benchmarks/batch_bench.py [--rows 1000000] [--data-dir ../shared/datasets]
        [--workers 2] [--timeout 7200]

Writes benchmarks/out/batch_bench.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped, unused-ignore]
from score_bench import SOURCES  # the same comment-like datasets as the scoring benchmark

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SAMPLE_SECONDS = 0.2

TOPICS = (
    "New sanctions on North Korea",
    "The city council votes on the bike lane plan",
    "Vaccination rates fall among school children",
    "Central bank raises interest rates again",
    "Ceasefire talks resume in Geneva",
    "Heat wave breaks records across Europe",
    "Local newspaper closes after 120 years",
    "Parliament debates the new immigration bill",
    "Tech giant fined over privacy breaches",
    "Teachers strike over pay and class sizes",
    "Football club sold to foreign investors",
    "Study links social media use to poor sleep",
)
SUBJECTS = (
    "the council",
    "this government",
    "the article",
    "the author",
    "the minister",
    "the new plan",
    "the mainstream media",
    "the experts",
    "my neighbours",
    "the opposition",
    "the bank",
    "these so-called journalists",
    "the report",
    "the mayor",
    "the union",
)
TEMPLATES = (
    "I agree with {s}, this is long overdue.",
    "Completely wrong, {s} ignores the actual numbers.",
    "Has anyone read the full report on {t}?",
    "Thanks for writing this, it explains {t} better than anything else I have read.",
    "{S} has no idea what ordinary people are dealing with.",
    "Where is the source for the claim about {t}?",
    "This is exactly what they want you to believe about {t}.",
    "{S} is run by a handful of people who decide everything behind closed doors.",
    "Wake up, the whole thing about {t} was planned years ago.",
    "What a clown, {s} should resign today.",
    "You are an idiot if you believe a word {s} says.",
    "Shut up, nobody asked for your stupid opinion.",
    "Those people are ruining this country and {s} lets them.",
    "Send them all back where they came from.",
    "Good point, although I think {s} could have gone further.",
    "My family has lived here for forty years and I have never seen anything like {t}.",
    "Lovely photos, and a fair summary of {t}.",
    "Disagree. {S} made the right call, the alternatives were worse.",
    "Why does nobody mention the cost of {t}?",
    "Typical, {s} blames everyone except themselves.",
    "Pathetic excuse for journalism.",
    "I used to support {s}, not any more.",
    "Can someone explain how this affects pensions?",
    "LOL, as if {s} ever kept a promise.",
    "The comments here are more informative than the article.",
    "Follow the money and you will see who really profits from {t}.",
    "Moderators, please remove the spam above.",
    "Well said. {S} deserves credit for once.",
    "This has nothing to do with {t}, stop changing the subject.",
    "Any real scientist would laugh at {s}.",
)
LENGTHS = ((1, 0.35), (2, 0.25), (3, 0.15), (4, 0.1), (6, 0.08), (10, 0.05), (20, 0.02))


def generated_sentences(rng: random.Random, n: int) -> list[str]:
    """`n` sentences from the templates, with subjects and topics filled in."""
    out = []
    for _ in range(n):
        subject = rng.choice(SUBJECTS)
        topic = rng.choice(TOPICS).lower()
        template = rng.choice(TEMPLATES)
        out.append(template.format(s=subject, S=subject[0].upper() + subject[1:], t=topic))
    return out


def dataset_sentences(data_dir: Path, rng: random.Random, n: int) -> list[str]:
    """Up to `n` sentences cut from texts of the comment-like datasets (kept in memory)."""
    sys.path.insert(0, str(ROOT))
    from training.datasets import load_all

    frame, _ = load_all(data_dir, SOURCES)
    texts = frame["text"].drop_duplicates().tolist()
    rng.shuffle(texts)
    sentences: list[str] = []
    for text in texts:
        for piece in re.split(r"(?<=[.!?])\s+", " ".join(str(text).split())):
            if 3 <= len(piece) <= 600:
                sentences.append(piece)
        if len(sentences) >= n:
            break
    return sentences[:n]


def comments(rows: int, pool: Sequence[str], *, seed: int) -> Iterator[list[str]]:
    """Rows of (comment_id, text, parent_text, topic): threads of 5-60 comments, about
    40% of them replies quoting their parent's text."""
    rng = random.Random(seed)
    sizes, weights = zip(*LENGTHS, strict=True)
    made = 0
    thread = 0
    while made < rows:
        topic = rng.choice(TOPICS)
        texts: list[str] = []
        for _ in range(min(rng.randint(5, 60), rows - made)):
            count = rng.choices(sizes, weights)[0]
            text = " ".join(rng.choice(pool) for _ in range(count))
            parent = rng.choice(texts) if texts and rng.random() < 0.4 else ""
            texts.append(text)
            yield [f"t{thread}-c{len(texts)}", text, parent, topic]
            made += 1
        thread += 1


def write_comments(
    path: Path, rows: int, data_dir: Path | None, *, seed: int = 0
) -> dict[str, Any]:
    """Write the benchmark CSV; returns what it holds."""
    rng = random.Random(seed)
    pool = generated_sentences(rng, 5_000)
    source = "generated sentences"
    if data_dir is not None:
        pool += dataset_sentences(data_dir, rng, 5_000)
        source = f"generated sentences + sentences of {len(SOURCES)} comment datasets"
    chars = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["comment_id", "text", "parent_text", "topic"])
        for row in comments(rows, pool, seed=seed):
            chars += len(row[1])
            writer.writerow(row)
    return {
        "rows": rows,
        "mean_chars": round(chars / max(rows, 1), 1),
        "bytes": path.stat().st_size,
        "sentences": source,
    }


def spin(iterations: int) -> float:
    """CPU-bound work of a fixed size; returns its wall time."""
    started = time.perf_counter()
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return time.perf_counter() - started


def parallel_capacity(processes: int, iterations: int = 20_000_000) -> float:
    """How many times more work `processes` processes do at once than one (ideal: that
    number). Other load on the machine lowers it, and with it any Dask speed-up."""
    from multiprocessing import get_context

    context = get_context("spawn")
    with context.Pool(1) as pool:
        alone = pool.map(spin, [iterations])[0]
    with context.Pool(processes) as pool:
        together = max(pool.map(spin, [iterations] * processes))
    return round(processes * alone / together, 2)


def score_argv() -> list[str]:
    """`threadguard score` as a command line."""
    return [sys.executable, "-m", "app.cli", "score"]


def measure_child(command: list[str]) -> None:
    """Run `command`, then print its tree's largest ru_maxrss (KiB) as JSON on stdout."""
    code = subprocess.call(command, stdout=subprocess.DEVNULL)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"returncode": code, "maxrss_kib": usage.ru_maxrss, "cpu_seconds": cpu}))


def run_engine(command: list[str], timeout: float) -> dict[str, Any]:
    """Run one scoring command through the measuring subprocess; time and sample it."""
    wrapper = subprocess.Popen(
        [sys.executable, __file__, "--measure", "--", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    peak_main = peak_worker = peak_tree = 0
    main_cpu = 0.0
    me = psutil.Process(wrapper.pid)
    timed_out = False
    while wrapper.poll() is None:
        if time.perf_counter() - started > timeout:
            timed_out = True
            for child in me.children(recursive=True):
                child.kill()
            wrapper.kill()
            break
        try:
            direct = me.children()
            rss = {p.pid: p.memory_info().rss for p in me.children(recursive=True)}
            if direct:
                times = direct[0].cpu_times()
                main_cpu = times.user + times.system
        except psutil.Error:
            direct, rss = [], {}
        if direct:
            main = direct[0].pid  # the scoring command; the rest are its children
            peak_main = max(peak_main, rss.get(main, 0))
            peak_worker = max([peak_worker, *(v for k, v in rss.items() if k != main)])
            peak_tree = max(peak_tree, sum(rss.values()))
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - started
    out, err = wrapper.communicate(timeout=60)
    measured = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    summary = re.search(r"scored ([\d,]+) rows.* in ([\d,.]+) s \(([\d,]+) rows/s\)", err)
    return {
        "timed_out": timed_out,
        "returncode": measured.get("returncode"),
        "seconds": round(seconds, 2),
        "scored": int(summary.group(1).replace(",", "")) if summary else None,
        "command_seconds": float(summary.group(2).replace(",", "")) if summary else None,
        "maxrss_mib": round(measured.get("maxrss_kib", 0) / 1024, 1),
        "cpu_seconds": round(measured.get("cpu_seconds", 0.0), 1),
        "main_cpu_seconds": round(main_cpu, 1),
        "peak_main_mib": round(peak_main / 2**20, 1),
        "peak_worker_mib": round(peak_worker / 2**20, 1),
        "peak_tree_mib": round(peak_tree / 2**20, 1),
        "stderr_tail": err.strip().splitlines()[-60:],
    }


def main() -> None:
    """Run the benchmark and write its report."""
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure_child(sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=2_000)
    parser.add_argument("--timeout", type=float, default=7_200, help="seconds per run")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--blocksize", type=int, default=None, help="Dask bytes per partition")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="threadguard-bench-") as folder:
        work = Path(folder)
        source = work / "comments.csv"
        started = time.perf_counter()
        data = write_comments(source, args.rows, args.data_dir)
        print(
            f"{data['rows']:,} comments, {data['mean_chars']} characters on average, "
            f"{data['bytes'] / 2**20:,.1f} MiB, written in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        capacity_before = parallel_capacity(args.workers)
        options = ["--text-column", "text", "--id-column", "comment_id"]
        options += ["--parent-column", "parent_text", "--topic-column", "topic"]
        options += ["--chunk-size", str(args.chunk_size), "--model-dir", str(args.model_dir)]
        runs: dict[str, dict[str, Any]] = {}
        outputs: dict[str, Path] = {}
        for engine in ("local", "dask"):
            outputs[engine] = work / f"{engine}.csv"
            command = [*score_argv(), str(source), "-o", str(outputs[engine]), *options]
            command += ["--engine", engine]
            if engine == "dask":
                command += ["--workers", str(args.workers)]
                if args.blocksize:
                    command += ["--blocksize", str(args.blocksize)]
            print(f"running --engine {engine} …", flush=True)
            runs[engine] = run_engine(command, args.timeout)
            run = runs[engine]
            print(f"  {run['seconds']} s, return code {run['returncode']}", flush=True)
        identical = all(p.exists() for p in outputs.values()) and (
            outputs["local"].read_bytes() == outputs["dask"].read_bytes()
        )

    for run in runs.values():
        ok = run["returncode"] == 0 and not run["timed_out"]
        run["comments_per_second"] = round(args.rows / run["seconds"], 1) if ok else None
        run["command_rate"] = (
            round(run["scored"] / run["command_seconds"], 1)
            if ok and run["scored"] and run["command_seconds"]
            else None
        )
    capacity = [capacity_before, parallel_capacity(args.workers)]
    local, dask = runs["local"]["comments_per_second"], runs["dask"]["comments_per_second"]
    result: dict[str, Any] = {
        "input": data,
        "chunk_size": args.chunk_size,
        "dask_workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs": runs,
        "outputs_identical": identical,
        "ratio_dask_local": round(dask / local, 3) if local and dask else None,
        "parallel_capacity": capacity,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "batch_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Batch CLI benchmark",
        "",
        f"`threadguard score` on {data['rows']:,} synthetic comments ({data['sentences']}; "
        f"{data['mean_chars']} characters on average, {data['bytes'] / 2**20:,.1f} MiB of CSV; "
        "replies carry their parent's text, every row its thread's topic), evidence on, "
        f"chunks of {args.chunk_size:,} rows, committed model, {os.cpu_count()} CPUs.",
        "",
        "| engine | wall s | comments/s | scoring rows/s | CPU s (main) | ru_maxrss MiB "
        "(largest process) | peak RSS main MiB | peak RSS largest worker MiB | "
        "peak RSS all MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, run in runs.items():
        label = "local" if engine == "local" else f"dask, {args.workers} workers"
        rate = run["comments_per_second"]
        lines.append(
            f"| {label} | {run['seconds']:,} | {f'{rate:,.0f}' if rate else 'failed'} | "
            f"{run['command_rate'] or '–'} | {run['cpu_seconds']} ({run['main_cpu_seconds']}) | "
            f"{run['maxrss_mib']} | {run['peak_main_mib']} | "
            f"{run['peak_worker_mib'] or '–'} | {run['peak_tree_mib']} |"
        )
    ratio = result["ratio_dask_local"]
    local_rate = runs["local"]["comments_per_second"]
    lines += [
        "",
        f"Local engine: {f'{local_rate:,.0f}' if local_rate else 'failed'} comments/s "
        "(goal ≥ 3,000).",
        f"Ratio Dask / local (comments/s, wall time): {ratio} (goal ≥ 1.8). "
        f"Outputs byte-identical: {'yes' if identical else 'NO'}.",
        "",
        f"Parallel capacity of the machine before and after: {capacity[0]}, {capacity[1]} "
        f"(work done by "
        f"{args.workers} CPU-bound processes at once over one alone; the ideal is "
        f"{args.workers}: other load lowers it, and the Dask speed-up with it). Load "
        f"average at the end: {', '.join(str(x) for x in result['load_average'])}.",
        "",
        "Wall time covers the whole command (start-up, model loading and, for Dask, starting "
        "the local cluster); the scoring rate is the command's own summary (rows over its run "
        "time). CPU s: user + system seconds of every process of the run (of the command's "
        "own process in brackets). Memory is sampled every 0.2 s with psutil, except "
        "ru_maxrss.",
        "",
    ]
    (OUT / "batch_bench.md").write_text("\n".join(lines))
    print("\n".join(lines))
    failed = [e for e, r in runs.items() if r["returncode"] != 0 or r["timed_out"]]
    if failed:
        for engine in failed:
            print(f"{engine} failed: {runs[engine]['stderr_tail']}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""HTTP benchmark: single-comment POST /v1/score over loopback, beside a bare FastAPI endpoint.

Both servers run as uvicorn subprocesses started the same way (the committed model and a
fresh migrated SQLite database for threadguard, anonymous scoring on loopback; the constant
endpoint of `bare_app.py` for the baseline) and take the same load from the same client:
`--requests` generated comments of 1-400 words, at concurrency 1 and 32, with 1 and 2
uvicorn workers. The figures that matter are threadguard's over the bare endpoint's.

The client is wrk (one thread, keep-alive, a Lua script that posts the comments in turn and
stops after `--requests` responses); when wrk is missing it is installed with
`apt-get install -y wrk`, or an httpx client is used instead (`--client python`).

    python benchmarks/http_bench.py [--requests 5000] [--timeout 300] [--client auto]

Then the worst request the default budget allows (tests/api/worstcase.py: a /v1/score
batch and a /v1/threads page of flagged comments filling THREADGUARD_MAX_REQUEST_TEXT_BYTES),
sent three times each to a fresh 1-worker server: seconds per request against the 2 s
budget, and the server's RSS before and after. Every HTTP row of issue 12's goal table is
printed with its reference.

Writes benchmarks/out/http_bench.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.registry import current_version, default_model_dir  # noqa: E402
from tests.api.serverutil import Server, serve, threadguard_server  # noqa: E402
from tests.api.worstcase import worst_batch, worst_page  # noqa: E402

OUT = HERE / "out"
PATH = "/v1/score"
# Issue 12's goals.
GOAL_P95_MS = 5.0
GOAL_P95_BARE_RATIO = 4.0
GOAL_RPS = 600.0
GOAL_LOADED_P95_MS = 50.0
GOAL_WORST_S = 2.0
WORST_REPEATS = 3
# Requests sent before each server is measured: imports, caches and both workers warm.
WARMUP = 300
# (workers, concurrencies) measured for each server, in this order.
PLAN: tuple[tuple[int, tuple[int, ...]], ...] = ((1, (1, 32)), (2, (1, 32)))
LUA = r"""
-- POST one prepared body after another; stop after `limit` responses.
local prepared = {}
local count, nth, seen, limit = 0, 0, 0, 0

function init(args)
  limit = tonumber(args[2])
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    count = count + 1
    prepared[count] = wrk.format("POST", args[3], headers, line)
  end
end

function request()
  nth = nth % count + 1
  return prepared[nth]
end

function response(status, headers, body)
  seen = seen + 1
  if seen == limit then
    -- wrk's main thread sleeps for --duration: the caller interrupts it on this line.
    io.write("HTTPBENCH-DONE\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'HTTPBENCH {"requests": %d, "duration_us": %.0f, "p50_us": %.1f, "p95_us": %.1f, ' ..
    '"p99_us": %.1f, "mean_us": %.1f, "max_us": %.1f, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write, e.status,
    e.timeout))
end
"""


# --- Comments -------------------------------------------------------------------------------

TOPICS = (
    "the new bridge",
    "the school budget",
    "the mayor's housing plan",
    "electric buses",
    "the stadium deal",
    "rent control",
    "the bike lanes on Main Street",
    "the hospital merger",
    "the water rate increase",
    "the library closures",
    "the airport expansion",
    "the new speed cameras",
)
SHORT = (
    "Agreed.",
    "lol",
    "This.",
    "Nonsense!",
    "Source?",
    "Well said.",
    "Exactly right",
    "Ridiculous.",
    "Why though?",
    "Thank you!",
    "Pathetic.",
    "Spot on",
    "Fake news.",
    "Great piece",
)
SENTENCES = (
    "{Topic} is going to cost us far more than anyone at city hall admits.",
    "I read the whole article and I still can't tell who pays for {topic}.",
    "My neighbours have been complaining about {topic} for {n} years and nothing changes.",
    "Anyone who supports {topic} clearly hasn't looked at the numbers.",
    "This is the best news I have heard all week, well done to everyone involved.",
    "Where exactly did the {n} million go?",
    "The council should publish the full report before they vote on {topic}.",
    "You are an idiot if you believe a single word of this.",
    "What a stupid waste of money, again.",
    "They are all in on it and the media will never tell you who is really pulling the strings.",
    "Thanks for the balanced reporting, it's rare to see both sides these days.",
    "Can someone explain why the vote on {topic} was moved to {day}?",
    "I agree with the comment above, it is exactly how it went last time.",
    "Shut up and let the engineers do their job.",
    "The real story is who funded the campaign for {topic}.",
    "My kids take the number {n} bus every day and it is late more often than not.",
    "People like you are the reason nothing ever gets built in this town.",
    "I used to work for the city, and this is how every big project goes.",
    "Read the actual study before commenting; it says the opposite of the headline.",
    "Honestly I don't care either way as long as taxes don't go up again.",
    "{Name} promised the same thing during the last election and delivered nothing.",
    "Interesting that the article doesn't mention the environmental review.",
    "We moved here {n} years ago because it was affordable, and now look at it.",
    "Typical. Announce it before {day}, hide the costs until after.",
    "If you don't like it, go to the public meeting instead of whining here.",
    "These clowns couldn't organise a bake sale, let alone {topic}.",
    "Good. It's about time somebody took {topic} seriously.",
    "Does anyone know whether the plan for {topic} includes the east side?",
    "The comments on this site are a cesspool, as usual.",
    "I'm a nurse and I can tell you the staff are exhausted and nobody listens.",
    "{Name} is a liar and a crook and everybody knows it.",
    "Small businesses on our street lost half their customers during the last works.",
    "There's a reason the same three companies win every contract.",
    "Wait until you see the traffic once the lanes close in {month}.",
    "Not everything has to be a conspiracy, sometimes projects are just late.",
    "Please correct the second paragraph, the figure is {n} percent, not {m}.",
)
NAMES = ("Mayor Alvarez", "Councillor Brooks", "Mr Okafor", "the governor", "Ms Lindqvist")
DAYS = ("Friday", "the holidays", "the summer recess", "Monday night", "the long weekend")
MONTHS = ("March", "June", "September", "November")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def comment_text(rng: random.Random, words: int, topic: str) -> str:
    """A comment of about `words` words (at least 1) about `topic`, from varied sentences."""
    if words <= 2:
        return rng.choice(SHORT)
    parts: list[str] = []
    count = 0
    while count < words:
        sentence = rng.choice(SENTENCES).format(
            topic=topic,
            Topic=_capitalised(topic),
            n=rng.randint(2, 90),
            m=rng.randint(2, 90),
            day=rng.choice(DAYS),
            month=rng.choice(MONTHS),
            Name=_capitalised(rng.choice(NAMES)),
        )
        parts.append(sentence)
        count += len(sentence.split())
    tokens = " ".join(parts).split()[:words]
    text = " ".join(tokens)
    if len(tokens) > 120:
        # Long comments come in paragraphs.
        cut = len(text) // 2
        cut = text.find(". ", cut)
        if cut > 0:
            text = text[: cut + 1] + "\n\n" + text[cut + 2 :]
    return text if text.endswith((".", "!", "?")) else text + "."


def comment_words(rng: random.Random) -> int:
    """Comment lengths as on a news site: mostly short, some long, a few up to 400 words."""
    band = rng.random()
    if band < 0.45:
        return rng.randint(1, 20)
    if band < 0.80:
        return rng.randint(21, 80)
    if band < 0.95:
        return rng.randint(81, 200)
    return rng.randint(201, 400)


def comment_bodies(n: int, *, seed: int = 0, context_share: float = 0.3) -> list[dict[str, str]]:
    """`n` distinct single-comment request bodies; `context_share` of them with parent and topic."""
    rng = random.Random(seed)
    bodies: list[dict[str, str]] = []
    seen: set[str] = set()
    while len(bodies) < n:
        topic = rng.choice(TOPICS)
        text = comment_text(rng, comment_words(rng), topic)
        if text in seen and len(text.split()) > 2:
            continue
        seen.add(text)
        body = {"text": text}
        if rng.random() < context_share:
            body["parent_text"] = comment_text(rng, rng.randint(5, 80), topic)
            body["topic"] = topic
        bodies.append(body)
    return bodies


# --- Measurements ---------------------------------------------------------------------------


@dataclass
class Measurement:
    """One load run against one server."""

    server: str
    workers: int
    concurrency: int
    client: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    requests_per_s: float
    # CPU the client used over the run's wall time (1.0 = one core busy all along).
    client_cpu_share: float
    complete: bool


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    wrk: str,
    url: str,
    bodies_file: Path,
    script: Path,
    *,
    requests: int,
    concurrency: int,
    timeout: float,
    label: tuple[str, int],
) -> Measurement:
    """Load `url` with wrk until `requests` responses or `timeout` seconds, whichever first.

    Raises:
        RuntimeError: wrk failed or printed no result.
    """
    command = [
        wrk,
        "--threads",
        "1",
        "--connections",
        str(concurrency),
        "--duration",
        f"{max(1, math.ceil(timeout))}s",
        "--timeout",
        "30s",
        "--latency",
        "--script",
        str(script),
        url,
        "--",
        str(bodies_file),
        str(requests),
        PATH,
    ]
    cpu_before = _children_cpu()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    output: list[str] = []
    for line in process.stdout:
        output.append(line)
        if line.startswith("HTTPBENCH-DONE"):
            _interrupt(process)
    process.wait(timeout=60)
    cpu = _children_cpu() - cpu_before
    stdout, stderr = "".join(output), process.stderr.read()
    match = re.search(r"^HTTPBENCH (\{.*\})$", stdout, re.MULTILINE)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed (exit {process.returncode}): {stderr.strip()}\n{stdout}")
    result = json.loads(match[1])
    seconds = result["duration_us"] / 1e6
    errors = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Measurement(
        server=label[0],
        workers=label[1],
        concurrency=concurrency,
        client="wrk",
        requests=result["requests"],
        errors=errors,
        seconds=round(seconds, 3),
        p50_ms=round(result["p50_us"] / 1000, 3),
        p95_ms=round(result["p95_us"] / 1000, 3),
        p99_ms=round(result["p99_us"] / 1000, 3),
        mean_ms=round(result["mean_us"] / 1000, 3),
        max_ms=round(result["max_us"] / 1000, 3),
        requests_per_s=round(result["requests"] / seconds, 1),
        client_cpu_share=round(cpu / seconds, 3),
        complete=result["requests"] >= requests,
    )


def _interrupt(process: subprocess.Popen[str]) -> None:
    """SIGINT until wrk ends its run (it prints its summary and exits on SIGINT).

    A signal that lands before wrk's main thread starts sleeping is lost, so send again.
    """
    for _ in range(20):
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            continue
        return


async def _python_load(
    url: str, bodies: Sequence[bytes], requests: int, concurrency: int, timeout: float
) -> tuple[list[float], int, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(limits=limits, timeout=30.0, trust_env=False) as client:

        async def worker() -> None:
            nonlocal errors, sent
            while sent < requests and time.monotonic() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                started = time.perf_counter()
                try:
                    response = await client.post(url + PATH, content=body, headers=headers)
                except httpx.TransportError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - started


def run_python(
    url: str,
    bodies: Sequence[bytes],
    *,
    requests: int,
    concurrency: int,
    timeout: float,
    label: tuple[str, int],
) -> Measurement:
    """The same load as `run_wrk` from an httpx client in this process."""
    cpu_before = time.process_time()
    latencies, errors, seconds = asyncio.run(
        _python_load(url, bodies, requests, concurrency, timeout)
    )
    cpu = time.process_time() - cpu_before
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if latencies else [0.0] * 99
    return Measurement(
        server=label[0],
        workers=label[1],
        concurrency=concurrency,
        client="python-httpx",
        requests=len(latencies),
        errors=errors,
        seconds=round(seconds, 3),
        p50_ms=round(cuts[49] * 1000, 3),
        p95_ms=round(cuts[94] * 1000, 3),
        p99_ms=round(cuts[98] * 1000, 3),
        mean_ms=round(statistics.fmean(latencies) * 1000, 3) if latencies else 0.0,
        max_ms=round(max(latencies, default=0.0) * 1000, 3),
        requests_per_s=round(len(latencies) / seconds, 1) if seconds else 0.0,
        client_cpu_share=round(cpu / seconds, 3) if seconds else 0.0,
        complete=len(latencies) >= requests,
    )


class Load:
    """The client and the bodies, the same for every server and run."""

    def __init__(self, client: str, bodies: list[bytes], folder: Path, timeout: float) -> None:
        self.client = client
        self.bodies = bodies
        self.timeout = timeout
        self.bodies_file = folder / "bodies.jsonl"
        self.bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        self.script = folder / "post.lua"
        self.script.write_text(LUA, encoding="utf-8")
        self.wrk = shutil.which("wrk") or "wrk"

    def run(
        self, server: Server, requests: int, concurrency: int, label: tuple[str, int]
    ) -> Measurement:
        if self.client == "wrk":
            return run_wrk(
                self.wrk,
                server.url,
                self.bodies_file,
                self.script,
                requests=requests,
                concurrency=concurrency,
                timeout=self.timeout,
                label=label,
            )
        return run_python(
            server.url,
            self.bodies,
            requests=requests,
            concurrency=concurrency,
            timeout=self.timeout,
            label=label,
        )


def check_answer(server: Server, body: bytes, expected_key: str) -> None:
    """One request by hand: a 200 with the expected JSON, so no run measures an error page.

    Raises:
        RuntimeError: the server answered something else.
    """
    response = httpx.post(
        server.url + PATH,
        content=body,
        headers={"content-type": "application/json"},
        timeout=30.0,
        trust_env=False,
    )
    if response.status_code != 200 or expected_key not in response.json():
        raise RuntimeError(
            f"{server.url}{PATH} answered {response.status_code}: {response.text[:500]}"
        )


@contextmanager
def start(kind: str, workers: int, model_dir: Path, folder: Path) -> Iterator[Server]:
    """The server `kind` ('threadguard' or 'bare') with `workers` uvicorn workers."""
    workdir = folder / f"{kind}-{workers}"
    if kind == "threadguard":
        with threadguard_server(model_dir, workdir, workers=workers) as server:
            yield server
    else:
        with serve("bare_app:create_app", workdir=workdir, workers=workers, app_dir=HERE) as server:
            yield server


def ensure_wrk(choice: str) -> str:
    """'wrk' or 'python': the client to use, installing wrk with apt-get if it is missing."""
    if choice == "python":
        return "python"
    if shutil.which("wrk") is None and shutil.which("apt-get") is not None:
        print("wrk is missing: installing it with `apt-get install -y wrk`", file=sys.stderr)
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        install = [*sudo, "apt-get", "install", "-y", "wrk"]
        # A fresh machine may have no package lists yet: update once, then try again.
        for command in (install, [*sudo, "apt-get", "update"], install):
            subprocess.run(
                command,
                check=False,
                timeout=600,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if shutil.which("wrk"):
                break
    if shutil.which("wrk"):
        return "wrk"
    if choice == "wrk":
        sys.exit("error: wrk is missing and could not be installed (apt-get install -y wrk)")
    print("wrk could not be installed: using the httpx client instead", file=sys.stderr)
    return "python"


# --- Report ---------------------------------------------------------------------------------


def ratios(runs: list[Measurement]) -> list[dict[str, Any]]:
    """threadguard over bare for each (workers, concurrency) measured on both."""
    bare = {(m.workers, m.concurrency): m for m in runs if m.server == "bare"}
    rows = []
    for ours in runs:
        base = bare.get((ours.workers, ours.concurrency))
        if ours.server != "threadguard" or base is None:
            continue
        rows.append(
            {
                "workers": ours.workers,
                "concurrency": ours.concurrency,
                "p50": round(ours.p50_ms / base.p50_ms, 2),
                "p95": round(ours.p95_ms / base.p95_ms, 2),
                "p99": round(ours.p99_ms / base.p99_ms, 2),
                "throughput": round(ours.requests_per_s / base.requests_per_s, 3),
            }
        )
    return rows


def goals(runs: list[Measurement], worst: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 12's HTTP goals, each PASS or MISS (MISS also when a run had errors)."""
    ours = {(m.workers, m.concurrency): m for m in runs if m.server == "threadguard"}
    bare = {(m.workers, m.concurrency): m for m in runs if m.server == "bare"}
    single, single_bare = ours[(1, 1)], bare[(1, 1)]
    loaded, loaded_bare = ours[(2, 32)], bare[(2, 32)]
    ratio = single.p95_ms / single_bare.p95_ms if single_bare.p95_ms else math.inf
    rows = [
        {
            "goal": f"HTTP, concurrency 1: p95 <= {GOAL_P95_MS:g} ms (1 worker)",
            "value": single.p95_ms,
            "unit": "ms",
            "reference": f"bare endpoint p95 {single_bare.p95_ms:.2f} ms",
            "pass": single.p95_ms <= GOAL_P95_MS and not single.errors and single.complete,
        },
        {
            "goal": f"HTTP, concurrency 1: p95 <= {GOAL_P95_BARE_RATIO:g}x the bare endpoint",
            "value": round(ratio, 2),
            "unit": "x bare",
            "reference": f"bare endpoint p95 {single_bare.p95_ms:.2f} ms",
            "pass": ratio <= GOAL_P95_BARE_RATIO and not single.errors,
        },
        {
            "goal": f"HTTP, concurrency 32, 2 cores (2 workers): >= {GOAL_RPS:g} requests/s",
            "value": loaded.requests_per_s,
            "unit": "requests/s",
            "reference": f"bare endpoint {loaded_bare.requests_per_s:,.0f} requests/s "
            f"({loaded.requests_per_s / loaded_bare.requests_per_s:.2f}x)",
            "pass": loaded.requests_per_s >= GOAL_RPS and not loaded.errors and loaded.complete,
        },
        {
            "goal": f"HTTP, concurrency 32, 2 workers: p95 <= {GOAL_LOADED_P95_MS:g} ms, 0 errors",
            "value": loaded.p95_ms,
            "unit": f"ms, {loaded.errors} errors",
            "reference": f"bare endpoint p95 {loaded_bare.p95_ms:.2f} ms",
            "pass": loaded.p95_ms <= GOAL_LOADED_P95_MS and not loaded.errors,
        },
    ]
    if worst is not None:
        slowest = max(worst["seconds"][path] for path in worst["seconds"])
        grown = worst["rss_after_mb"] - worst["rss_before_mb"]
        rows.append(
            {
                "goal": f"worst allowed request <= {GOAL_WORST_S:g} s, memory back to baseline",
                "value": round(slowest, 2),
                "unit": f"s (slowest of {WORST_REPEATS}), RSS {grown:+.0f} MB",
                "reference": f"RSS {worst['rss_before_mb']:.0f} MB before, "
                f"{worst['rss_after_mb']:.0f} MB after; budget "
                f"{worst['budget_bytes']:,} bytes",
                # Back to baseline: within the worst-request test's margin.
                "pass": slowest <= GOAL_WORST_S and grown <= 48.0,
            }
        )
    return rows


def measure_worst(model_dir: Path, folder: Path) -> dict[str, Any]:
    """The worst allowed batch and page, each sent WORST_REPEATS times to a fresh server."""
    import psutil

    batch, page = worst_batch(), worst_page()
    seconds: dict[str, float] = {}
    with threadguard_server(model_dir, folder / "worst") as server:
        process = psutil.Process(server.pid)
        with httpx.Client(base_url=server.url, timeout=120.0, trust_env=False) as client:
            client.post(PATH, json={"text": "warm up"}).raise_for_status()
            before = process.memory_info().rss / 1e6
            for path, body in ((PATH, batch), ("/v1/threads?format=json", page)):
                for _ in range(WORST_REPEATS):
                    started = time.perf_counter()
                    client.post(path, json=body).raise_for_status()
                    elapsed = time.perf_counter() - started
                    seconds[path] = max(seconds.get(path, 0.0), elapsed)
            after = process.memory_info().rss / 1e6
    return {
        "budget_bytes": sum(len(c["text"].encode()) for c in batch["comments"]),
        "batch_comments": len(batch["comments"]),
        "page_comments": len(page["comments"]),
        "seconds": {path: round(value, 3) for path, value in seconds.items()},
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
    }


def markdown(result: dict[str, Any], runs: list[Measurement]) -> str:
    env = result["environment"]
    load = result["load"]
    lines = [
        "# HTTP benchmark",
        "",
        f"POST {PATH}, one comment per request, over loopback; uvicorn {env['uvicorn']} "
        f"({env['uvicorn_loop']} loop, {env['uvicorn_http']} parser, no access log); model "
        f"{env['model_version']}; {env['cpus']} CPUs shared by servers and client; client "
        f"{env['client']} (one thread, keep-alive). {load['requests']:,} requests per row, "
        f"{load['distinct_bodies']:,} distinct generated comments of 1-400 words (median "
        f"{load['median_words']}, mean {load['mean_bytes']:.0f} bytes a body), "
        f"{load['context_share']:.0%} with parent_text and topic. The bare server is FastAPI "
        "with one `def` POST route that parses the JSON body and answers a constant. "
        f"Load average (1 min) {env['load_average_before'][0]} before the runs, "
        f"{env['load_average_after'][0]} after.",
        "",
        "| server | workers | concurrency | requests | errors | p50 ms | p95 ms | p99 ms "
        "| requests/s | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        note = "" if m.complete else " (time limit)"
        lines.append(
            f"| {m.server} | {m.workers} | {m.concurrency} | {m.requests:,}{note} | {m.errors} "
            f"| {m.p50_ms:.2f} | {m.p95_ms:.2f} | {m.p99_ms:.2f} | {m.requests_per_s:,.0f} "
            f"| {m.client_cpu_share:.0%} |"
        )
    lines += [
        "",
        "threadguard / bare, same workers and load (latency: how many times slower; "
        "throughput: the share of the bare rate):",
        "",
        "| workers | concurrency | p50 | p95 | p99 | throughput |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["ratios"]:
        lines.append(
            f"| {r['workers']} | {r['concurrency']} | {r['p50']:.2f} | {r['p95']:.2f} "
            f"| {r['p99']:.2f} | {r['throughput']:.3f} |"
        )
    worst = result.get("worst")
    if worst is not None:
        lines += [
            "",
            f"Worst allowed request (fresh 1-worker server, {WORST_REPEATS} times each, the "
            f"slowest shown): a /v1/score batch of {worst['batch_comments']} flagged comments "
            f"and a /v1/threads page of {worst['page_comments']}, "
            f"{worst['budget_bytes']:,} bytes of text: "
            + ", ".join(f"{path} {value:.2f} s" for path, value in worst["seconds"].items())
            + f"; RSS {worst['rss_before_mb']:.0f} MB before, {worst['rss_after_mb']:.0f} MB "
            "after.",
        ]
    lines += ["", "Goals (issue 12):", "", "| | goal | value | reference |", "|---|---|---|---|"]
    for g in result["goals"]:
        verdict = "PASS" if g["pass"] else "MISS"
        lines.append(f"| {verdict} | {g['goal']} | {g['value']:,} {g['unit']} | {g['reference']} |")
    lines.append("")
    return "\n".join(lines)


def environment(client: str, model_dir: Path) -> dict[str, Any]:
    def has(module: str) -> bool:
        try:
            importlib.metadata.version(module)
        except importlib.metadata.PackageNotFoundError:
            return False
        return True

    wrk_version = ""
    if client == "wrk":
        shown = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk_version = (shown.stdout or shown.stderr).split("[")[0].strip()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "uvicorn": importlib.metadata.version("uvicorn"),
        "fastapi": importlib.metadata.version("fastapi"),
        "uvicorn_loop": "uvloop" if has("uvloop") else "asyncio",
        "uvicorn_http": "httptools" if has("httptools") else "h11",
        "client": wrk_version or ("httpx" if client == "python" else client),
        "model_version": current_version(model_dir),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    """Run the benchmark and write its report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=5_000, help="per measured row")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds each measured row may take at most"
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--model-dir", type=Path, default=None, help="folder with CURRENT")
    parser.add_argument("--context-share", type=float, default=0.3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--no-worst", action="store_true", help="skip the worst-allowed-request measurement"
    )
    args = parser.parse_args()
    if args.requests < 1 or args.timeout <= 0:
        parser.error("--requests and --timeout must be positive")

    model_dir: Path = (args.model_dir or default_model_dir()).resolve()
    client = ensure_wrk(args.client)
    bodies_json = comment_bodies(args.requests, context_share=args.context_share)
    bodies = [json.dumps(b, ensure_ascii=False).encode("utf-8") for b in bodies_json]
    words = [len(b["text"].split()) for b in bodies_json]
    env = environment(client, model_dir)
    runs: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="http-bench-") as tmp:
        folder = Path(tmp)
        load = Load(client, bodies, folder, args.timeout)
        for workers, concurrencies in PLAN:
            for kind, expected in (("bare", "ok"), ("threadguard", "model_version")):
                with start(kind, workers, model_dir, folder) as server:
                    check_answer(server, bodies[0], expected)
                    load.run(server, min(WARMUP, args.requests), 8, (kind, workers))
                    for concurrency in concurrencies:
                        print(
                            f"{kind}, {workers} worker(s), concurrency {concurrency} ...",
                            file=sys.stderr,
                        )
                        runs.append(load.run(server, args.requests, concurrency, (kind, workers)))
        worst = None if args.no_worst else measure_worst(model_dir, folder)

    env["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result: dict[str, Any] = {
        "environment": env,
        "load": {
            "requests": args.requests,
            "timeout_s": args.timeout,
            "distinct_bodies": len(bodies),
            "median_words": statistics.median(words),
            "max_words": max(words),
            "mean_bytes": round(statistics.fmean(len(b) for b in bodies), 1),
            "context_share": args.context_share,
            "warmup_requests": min(WARMUP, args.requests),
        },
        "runs": [asdict(m) for m in runs],
        "worst": worst,
    }
    result["ratios"] = ratios(runs)
    result["goals"] = goals(runs, worst)
    report = markdown(result, runs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "http_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "http_bench.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

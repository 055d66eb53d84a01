"""Queue benchmark: ingest rate of a 10,000-comment page, and the review API with 100,000 items.

Part 1, ingest. A generated page (a nested tree of 1-400-word comments, the generic JSON
export format) is put into the queue with `threadguard queue ingest` (the whole command:
start-up, model loading, parsing, scoring, writing), then again unchanged and with 1% of
its comments edited, on SQLite and on PostgreSQL. In-process, the same work is split into
parsing, scoring (`score_frame` of the same comments in the same run: the reference, since
scoring is what ingest cannot avoid) and writing (`ingest_thread` given those scores).

Part 2, the queue at scale. `--items` synthetic items (not scored: probabilities drawn at
random into real score records, routed by the real policy; threads of 50-300 comments of
which about half are queued, 15% of items already decided) are bulk-inserted into
PostgreSQL and into SQLite. A real uvicorn server (1 worker) on each then takes, at
concurrency 1 over loopback, `--requests` requests per row: lists (first page, deep pages
by cursor, filters), one item with its context, and decisions on distinct open items; the
reference is GET /healthz on the same server. EXPLAIN on PostgreSQL (EXPLAIN QUERY PLAN on
SQLite) shows which indexes the list and item queries use.

PostgreSQL work happens in schemas of its own, dropped at the end; when `--database-url`
does not answer, its rows are skipped and the report says so.

    python benchmarks/queue_bench.py [--items 100000] [--page-comments 10000]
        [--requests 1000] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Writes benchmarks/out/queue_bench.json and .md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from http_bench import TOPICS, comment_text, comment_words  # the 1-400-word comment generator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.auth import Role  # noqa: E402
from app.domain import Thread  # noqa: E402
from app.features import thread_frame  # noqa: E402
from app.heads import HATE_TARGETS  # noqa: E402
from app.policy import Policy, load_policy, route  # noqa: E402
from app.queue import store  # noqa: E402
from app.queue.ingest import clean_scores, ingest_thread, route_probability  # noqa: E402
from app.queue.keys import SqlKeyStore  # noqa: E402
from app.queue.review import Filters, get_item, list_items  # noqa: E402
from app.registry import LoadedModel, default_model_dir, load_current  # noqa: E402
from app.scoring import EVIDENCE_TOP, records, score_frame  # noqa: E402
from app.threads import ParseOptions, parse  # noqa: E402
from tests.api.serverutil import serve, server_environment, threadguard_environment  # noqa: E402
from tests.dbfixtures import PostgresServer  # noqa: E402

OUT = HERE / "out"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
GOAL_P95_MS = 50.0
WARMUP = 20
PAGE_URL = "https://news.example/2026/11/queue-bench"
# The synthetic queue: share of queued items already decided, of comments reported.
DECIDED_SHARE = 0.15
REPORTED_SHARE = 0.03
# Rows written per executemany while filling the queue.
FILL_CHUNK = 5_000
# EXPLAIN flags a scan or sort that reads at least this many rows.
BIG_ROWS = 5_000
# Calls of each explained function timed in-process (the median is reported).
IN_PROCESS_REPEAT = 20


# --- Part 1: ingest ---------------------------------------------------------------------------


def generate_page(n: int, *, seed: int = 0, max_depth: int = 12) -> dict[str, Any]:
    """A generic JSON export of one article with `n` comments in a nested tree.

    Replies (60%) answer one of the last 12 comments, so chains and sibling groups both occur.
    """
    rng = random.Random(seed)
    topic = rng.choice(TOPICS)
    depths: list[int] = []
    rows: list[dict[str, Any]] = []
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for i in range(n):
        parent: int | None = None
        if i and rng.random() < 0.6:
            candidate = rng.randrange(max(0, i - 12), i)
            if depths[candidate] < max_depth:
                parent = candidate
        depths.append(0 if parent is None else depths[parent] + 1)
        rows.append(
            {
                "id": f"c{i + 1}",
                "parent_id": None if parent is None else f"c{parent + 1}",
                "author": f"reader{rng.randrange(3_000)}",
                "body": comment_text(rng, comment_words(rng), topic),
                "created_at": (start + timedelta(seconds=17 * i)).isoformat(),
            }
        )
    return {
        "title": f"The council votes on {topic}",
        "url": PAGE_URL,
        "article": {
            "author": "City desk",
            "text": f"The council voted on {topic} on Monday night after a long debate.",
            "date": start.isoformat(),
        },
        "comments": rows,
    }


def edited_page(page: dict[str, Any], share: float = 0.01) -> dict[str, Any]:
    """The same page with every (1/share)-th comment's text changed."""
    step = max(1, round(1 / share))
    comments = [
        {**c, "body": c["body"] + " Edit: I stand by every word."} if i % step == step // 2 else c
        for i, c in enumerate(page["comments"])
    ]
    return {**page, "comments": comments}


def _page_bytes(page: dict[str, Any]) -> bytes:
    return json.dumps(page, ensure_ascii=False).encode("utf-8")


def run_cli_ingest(path: Path, url: str, model_dir: Path, timeout: float) -> dict[str, Any]:
    """`threadguard queue ingest PATH` in a subprocess: wall time and its JSON summary."""
    command = [sys.executable, "-m", "app.cli", "queue", "ingest", str(path)]
    command += ["--database-url", url, "--quiet"]
    env = server_environment({"THREADGUARD_MODEL_DIR": str(model_dir)})
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"queue ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": round(seconds, 3), "summary": summary}


def run_cli_floor(model_dir: Path, timeout: float) -> float:
    """Wall time of `threadguard model-info`: start-up and model loading, no queue work."""
    env = server_environment({"THREADGUARD_MODEL_DIR": str(model_dir)})
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "app.cli", "model-info"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    return round(time.perf_counter() - started, 3)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def score_reference(model: LoadedModel, thread: Thread) -> tuple[float, list[dict[str, Any]]]:
    """Seconds to score the page as ingest does (`score_frame`, records, JSON-ready), and them."""

    def run() -> list[dict[str, Any]]:
        frame = thread_frame(thread)[["text", "parent_text", "topic"]]
        scored = score_frame(model, frame, evidence_top=EVIDENCE_TOP)
        return [clean_scores(r) for r in records(scored)]

    seconds, scored = timed(run)
    return seconds, scored


def ingest_part(
    targets: dict[str, Callable[[], str]],
    model: LoadedModel,
    policy: Policy,
    model_dir: Path,
    n_comments: int,
    folder: Path,
    timeout: float,
) -> dict[str, Any]:
    """Every ingest measurement; `targets` make a fresh migrated database URL per name."""
    page = generate_page(n_comments)
    page_path, edited_path = folder / "page.json", folder / "page-edited.json"
    page_path.write_bytes(_page_bytes(page))
    edited_path.write_bytes(_page_bytes(edited_page(page)))
    options = ParseOptions(max_bytes=256 * 2**20, max_comments=1_000_000)
    parse_s, thread = timed(lambda: parse(page_path.read_bytes(), format=None, options=options))
    edited_thread = parse(edited_path.read_bytes(), format=None, options=options)
    words = [len(c.text.split()) for c in thread.comments]
    print(f"page: {len(thread.comments):,} comments, parsed in {parse_s:.2f} s", file=sys.stderr)
    score_frame(model, thread_frame(thread).head(200))  # warm caches before timing
    score_s, scored = score_reference(model, thread)
    print(f"score_frame reference: {score_s:.1f} s", file=sys.stderr)
    floor_s = run_cli_floor(model_dir, timeout)
    out: dict[str, Any] = {
        "page": {
            "comments": len(thread.comments),
            "bytes": page_path.stat().st_size,
            "max_depth": max(c.depth for c in thread.comments),
            "top_level": sum(c.parent_id is None for c in thread.comments),
            "median_words": statistics.median(words),
            "max_words": max(words),
            "edited": sum(
                a.text != b.text
                for a, b in zip(thread.comments, edited_thread.comments, strict=True)
            ),
        },
        "parse_s": round(parse_s, 3),
        "score_reference_s": round(score_s, 3),
        "cli_floor_s": floor_s,
        "databases": {},
    }
    for name, make_url in targets.items():
        print(f"ingest on {name} …", file=sys.stderr)
        cli_url = make_url()
        cli = {
            "first": run_cli_ingest(page_path, cli_url, model_dir, timeout),
            "unchanged": run_cli_ingest(page_path, cli_url, model_dir, timeout),
            "edited": run_cli_ingest(edited_path, cli_url, model_dir, timeout),
        }
        engine = store.make_engine(make_url())
        try:
            started = time.perf_counter()
            first = ingest_thread(engine, model, policy, thread, scored=scored)
            write_s = time.perf_counter() - started
            started = time.perf_counter()
            ingest_thread(engine, model, policy, thread)
            unchanged_s = time.perf_counter() - started
            started = time.perf_counter()
            edited = ingest_thread(engine, model, policy, edited_thread)
            edited_s = time.perf_counter() - started
        finally:
            engine.dispose()
        out["databases"][name] = {
            "cli": cli,
            "in_process": {
                "write_s": round(write_s, 3),
                "items_created": len(first.items_created),
                "unchanged_s": round(unchanged_s, 3),
                "edited_s": round(edited_s, 3),
                "edited_items_created": len(edited.items_created),
                "edited_items_superseded": len(edited.items_superseded),
            },
        }
    return out


# --- Part 2: the queue at scale ---------------------------------------------------------------


@dataclass
class Fill:
    """What was inserted, and the ids the measurements use."""

    threads: int = 0
    comments: int = 0
    items: int = 0
    decisions: int = 0
    reports: int = 0
    by_queue: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    open_ids: list[int] = field(default_factory=list)
    all_ids: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _draw(rng: random.Random, threshold: float, band: float, flag: float) -> float:
    """A head's probability: flagged with chance `flag`, near the threshold 8%, else low."""
    u = rng.random()
    if u < flag:
        return rng.uniform(threshold, 1.0)
    if u < flag + 0.08:
        return rng.uniform(max(0.0, threshold - band), threshold)
    return rng.uniform(0.0, max(0.0, threshold - band)) * rng.random()


def synthetic_scores(
    rng: random.Random, template: dict[str, Any], policy: Policy, queued: bool
) -> dict[str, Any]:
    """A real score record with the three head probabilities redrawn (and flags to match)."""
    scores = dict(template)
    shares = {"hate": 0.3, "toxic": 0.45, "conspiracy": 0.2} if queued else {}
    for queue in policy.heads:
        if queued:
            p = _draw(rng, queue.threshold, policy.uncertain_band, shares[queue.head])
        else:
            p = rng.uniform(0.0, max(0.0, queue.threshold - policy.uncertain_band - 1e-6))
        scores[queue.head] = p
        scores[f"{queue.head}_flag"] = p >= queue.threshold
    hate = bool(scores["hate_flag"])
    scores["hate_target"] = rng.choice(HATE_TARGETS) if hate else None
    scores["hate_target_p"] = rng.uniform(0.4, 0.99) if hate else None
    return scores


def synthetic_rows(
    n_items: int, templates: Sequence[dict[str, Any]], policy: Policy, *, seed: int = 1
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Batches of rows for threads, comments, items, decisions and reports, with ids set,
    until `n_items` items exist."""
    rng = random.Random(seed)
    texts = [comment_text(rng, comment_words(rng), rng.choice(TOPICS)) for _ in range(4_000)]
    base = datetime(2026, 10, 1, tzinfo=UTC)
    comment_id = item_id = decision_id = report_id = thread_id = 0
    while item_id < n_items:
        batch: dict[str, list[dict[str, Any]]] = {
            "threads": [],
            "comments": [],
            "items": [],
            "item_reasons": [],
            "decisions": [],
            "reports": [],
        }
        while item_id < n_items and len(batch["comments"]) < FILL_CHUNK:
            thread_id += 1
            created = base + timedelta(minutes=7 * thread_id)
            topic = rng.choice(TOPICS)
            batch["threads"].append(
                {
                    "thread_id": thread_id,
                    "source": f"https://news.example/bench/{thread_id}",
                    "url": f"https://news.example/bench/{thread_id}",
                    "title": f"The council votes on {topic}",
                    "article_text": f"The council voted on {topic} after a long debate.",
                    "source_format": "json",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            depths: list[int] = []
            for position in range(rng.randint(50, 300)):
                if item_id >= n_items:
                    break
                parent: int | None = None
                if position and rng.random() < 0.6:
                    parent = rng.randrange(max(0, position - 12), position)
                depths.append(0 if parent is None else depths[parent] + 1)
                comment_id += 1
                text = texts[rng.randrange(len(texts))]
                queued = rng.random() < 0.5
                reported = queued and rng.random() < REPORTED_SHARE / 0.5
                scores = synthetic_scores(rng, rng.choice(templates), policy, queued)
                at = created + timedelta(seconds=31 * position)
                batch["comments"].append(
                    {
                        "id": comment_id,
                        "thread_id": thread_id,
                        "comment_id": f"c{position + 1}",
                        "version": 1,
                        "parent_comment_id": None if parent is None else f"c{parent + 1}",
                        "author": f"reader{rng.randrange(3_000)}",
                        "posted_at": at,
                        "depth": depths[-1],
                        "position": position,
                        "text": text,
                        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "scores": scores,
                        "model_version": str(scores.get("model_version") or "unknown"),
                        "previous_id": None,
                        "created_at": at,
                        "superseded_at": None,
                    }
                )
                if reported:
                    report_id += 1
                    batch["reports"].append(
                        {
                            "report_id": report_id,
                            "comment_row_id": comment_id,
                            "reason": "insulting",
                            "reporter": f"reader{rng.randrange(3_000)}",
                            "created_at": at,
                        }
                    )
                flags = [h for h in ("hate", "toxic", "conspiracy") if scores[f"{h}_flag"]]
                routes = route(policy, scores, reported=reported)
                if not routes or item_id >= n_items:
                    continue
                # One case per comment version, with a reason for every queue it is in.
                item_id += 1
                decided = rng.random() < DECIDED_SHARE
                status = rng.choice(("approved", "rejected")) if decided else "open"

                top = routes[0]
                batch["items"].append(
                    {
                        "item_id": item_id,
                        "comment_row_id": comment_id,
                        "thread_id": thread_id,
                        "queue": top.queue,
                        "head": top.head,
                        "priority": top.priority,
                        "probability": route_probability(scores, top),
                        "reason": top.reason,
                        "flags": "," + ",".join(flags) + "," if flags else "",
                        "hate_target": scores["hate_target"],
                        "status": status,
                        "version": 2 if decided else 1,
                        "model_version": str(scores.get("model_version") or "unknown"),
                        "replaces_item_id": None,
                        "created_at": at,
                        "updated_at": at + timedelta(hours=2) if decided else at,
                    }
                )
                for r in routes:
                    batch["item_reasons"].append(
                        {
                            "item_id": item_id,
                            "queue": r.queue,
                            "head": r.head,
                            "priority": r.priority,
                            "probability": route_probability(scores, r),
                            "reason": r.reason,
                            "status": status,
                            "from_item_id": None,
                            "created_at": at,
                        }
                    )
                if decided:
                    decision_id += 1
                    batch["decisions"].append(
                        {
                            "decision_id": decision_id,
                            "item_id": item_id,
                            "item_version": 1,
                            "action": "approve" if status == "approved" else "reject",
                            "status_after": status,
                            "labels": None,
                            "reason": None,
                            "note": None,
                            "key_id": None,
                            "moderator": f"moderator{rng.randrange(8)}",
                            "decided_at": at + timedelta(hours=2),
                            "queue": top.queue,
                        }
                    )
        yield batch


SERIAL_COLUMNS = (
    ("threads", "thread_id"),
    ("comments", "id"),
    ("items", "item_id"),
    ("decisions", "decision_id"),
    ("reports", "report_id"),
)


def fill_queue(
    engines: dict[str, sa.Engine], n_items: int, templates: Sequence[dict[str, Any]], policy: Policy
) -> Fill:
    """Insert the same synthetic rows into every engine's (migrated, empty) database."""
    fill = Fill()
    tables = {
        "threads": store.threads,
        "comments": store.comments,
        "reports": store.reports,
        "items": store.items,
        "item_reasons": store.item_reasons,
        "decisions": store.decisions,
    }
    spent = dict.fromkeys(engines, 0.0)
    generate_s = 0.0
    started = time.perf_counter()
    for batch in synthetic_rows(n_items, templates, policy):
        generate_s += time.perf_counter() - started
        for name, engine in engines.items():
            begun = time.perf_counter()
            with engine.begin() as connection:
                for table_name, table in tables.items():
                    if batch[table_name]:
                        connection.execute(table.insert(), batch[table_name])
            spent[name] += time.perf_counter() - begun
        fill.threads += len(batch["threads"])
        fill.comments += len(batch["comments"])
        fill.items += len(batch["items"])
        fill.decisions += len(batch["decisions"])
        fill.reports += len(batch["reports"])
        for reason in batch["item_reasons"]:
            fill.by_queue[reason["queue"]] += 1
        for row in batch["items"]:
            fill.by_status[row["status"]] += 1
            fill.all_ids.append(row["item_id"])
            if row["status"] == "open":
                fill.open_ids.append(row["item_id"])
        print(f"  {fill.items:,} items, {fill.comments:,} comments", file=sys.stderr)
        started = time.perf_counter()
    for name, engine in engines.items():
        begun = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                # Explicit ids bypassed the sequences: move them past the rows, as a real
                # ingest would have left them.
                for table_name, column in SERIAL_COLUMNS:
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table_name}', '{column}'), "
                        f"(SELECT max({column}) FROM {table_name}))"
                    )
            # Statistics as autovacuum would have gathered them after such an insert.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
        spent[name] += time.perf_counter() - begun
    fill.seconds = {"generate": round(generate_s, 2)} | {k: round(v, 2) for k, v in spent.items()}
    return fill


@dataclass
class Row:
    """One measured endpoint on one database."""

    database: str
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests_per_s: float
    complete: bool
    note: str = ""


def measure(
    database: str,
    name: str,
    send: Callable[[int], httpx.Response],
    *,
    requests: int,
    timeout: float,
    expected: int = 200,
    warmup: int = WARMUP,
    note: Callable[[], str] = lambda: "",
) -> Row:
    """Call `send(i)` `requests` times (after `warmup` unmeasured calls), one at a time,
    stopping early after `timeout` seconds; latencies of answers with the `expected` status."""
    for i in range(warmup):
        send(-1 - i)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + timeout
    for i in range(requests):
        if time.perf_counter() > deadline:
            break
        begun = time.perf_counter()
        response = send(i)
        elapsed = time.perf_counter() - begun
        if response.status_code != expected:
            errors += 1
            if errors <= 3:
                print(f"  {name}: {response.status_code} {response.text[:300]}", file=sys.stderr)
            continue
        latencies.append(elapsed)
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    cuts = cuts or [latencies[0] if latencies else 0.0] * 99
    done = len(latencies) + errors
    row = Row(
        database=database,
        name=name,
        requests=len(latencies),
        errors=errors,
        seconds=round(seconds, 3),
        p50_ms=round(cuts[49] * 1000, 2),
        p95_ms=round(cuts[94] * 1000, 2),
        p99_ms=round(cuts[98] * 1000, 2),
        max_ms=round(max(latencies, default=0.0) * 1000, 2),
        requests_per_s=round(done / seconds, 1) if seconds else 0.0,
        complete=done >= requests,
        note=note(),
    )
    print(
        f"  {database} {name}: p50 {row.p50_ms} ms, p95 {row.p95_ms} ms, {row.requests} ok",
        file=sys.stderr,
    )
    return row


class Pager:
    """GET a list, following `next_cursor` page after page, from the top again at the end."""

    def __init__(self, client: httpx.Client, params: dict[str, Any]) -> None:
        self.client = client
        self.params = params
        self.cursor: str | None = None
        self.page = 0
        self.deepest = 0
        self.last_cursor: str | None = None

    def __call__(self, _i: int) -> httpx.Response:
        params = dict(self.params)
        if self.cursor is not None:
            params["cursor"] = self.cursor
            self.last_cursor = self.cursor
        response = self.client.get("/v1/queue/items", params=params)
        self.page += 1
        self.deepest = max(self.deepest, self.page)
        nxt = response.json().get("next_cursor") if response.status_code == 200 else None
        if nxt is None:
            self.cursor, self.page = None, 0
        else:
            self.cursor = nxt
        return response

    def note(self) -> str:
        return f"down to page {self.deepest:,} (50 items a page)"


LIST_ROWS: tuple[tuple[str, dict[str, Any], bool], ...] = (
    ("list hate, first page", {"queue": "hate", "limit": 50}, False),
    ("list hate, pages by cursor", {"queue": "hate", "limit": 50}, True),
    ("list toxic + label=hate, by cursor", {"queue": "toxic", "label": "hate", "limit": 50}, True),
    ("list min_probability=0.9, by cursor", {"min_probability": 0.9, "limit": 50}, True),
)


def api_part(
    database: str,
    url: str,
    model_dir: Path,
    fill: Fill,
    folder: Path,
    *,
    requests: int,
    timeout: float,
) -> tuple[list[Row], dict[str, str | None]]:
    """Every HTTP row against one database; also the deepest cursor of each paged list."""
    engine = store.make_engine(url)
    try:
        secret = SqlKeyStore(engine).create(Role.moderator, "queue-bench").secret
    finally:
        engine.dispose()
    rng = random.Random(7)
    # The same items on each database: the fill is the same and so is the seed.
    need = requests + WARMUP
    to_get = rng.sample(fill.all_ids, min(need, len(fill.all_ids)))
    to_decide = rng.sample(fill.open_ids, min(need, len(fill.open_ids)))
    rows: list[Row] = []
    cursors: dict[str, str | None] = {}
    env = threadguard_environment(model_dir, url)
    with (
        serve(
            "app.api.app:create_app_from_env", workdir=folder / database, env=env, workers=1
        ) as server,
        httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30.0,
            trust_env=False,
        ) as client,
    ):
        rows.append(
            measure(
                database,
                "GET /healthz (reference)",
                lambda _i: client.get("/healthz"),
                requests=requests,
                timeout=timeout,
            )
        )
        for name, params, paged in LIST_ROWS:
            pager = Pager(client, params)
            send = (
                pager if paged else (lambda _i, p=params: client.get("/v1/queue/items", params=p))
            )
            rows.append(
                measure(
                    database,
                    name,
                    send,
                    requests=requests,
                    timeout=timeout,
                    note=pager.note if paged else lambda: "",
                )
            )
            if paged:
                cursors[name] = pager.last_cursor

        def get_one(i: int) -> httpx.Response:
            return client.get(f"/v1/queue/items/{to_get[i % len(to_get)]}")

        rows.append(
            measure(database, "GET item with context", get_one, requests=requests, timeout=timeout)
        )

        # Warm-up calls get negative i, so they take items from the end of the list: each
        # item is decided once.
        def decide(i: int) -> httpx.Response:
            item = to_decide[i]
            action = "approve" if i % 2 else "reject"
            return client.post(
                f"/v1/queue/items/{item}/decisions",
                json={"action": action, "item_version": 1, "reason": "queue benchmark"},
            )

        rows.append(
            measure(
                database,
                "POST decision",
                decide,
                requests=min(requests, len(to_decide) - WARMUP),
                timeout=timeout,
                expected=201,
            )
        )
    return rows, cursors


# --- EXPLAIN ----------------------------------------------------------------------------------


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and parameters) `engine` runs inside the block."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def pg_plan(connection: sa.Connection, statement: str, parameters: Any) -> dict[str, Any]:
    """EXPLAIN ANALYZE of one SELECT: indexes used, and any large seq scan or sort."""
    raw = connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
    ).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    nodes = list(_walk(plan["Plan"]))
    indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    problems = []
    for n in nodes:
        read = n.get("Actual Rows", 0) * n.get("Actual Loops", 1) + n.get(
            "Rows Removed by Filter", 0
        ) * n.get("Actual Loops", 1)
        if n["Node Type"] == "Seq Scan" and read >= BIG_ROWS:
            problems.append(f"Seq Scan on {n.get('Relation Name')} ({read:,} rows read)")
        if n["Node Type"] in ("Sort", "Incremental Sort"):
            below = sum(c.get("Actual Rows", 0) for c in n.get("Plans", []))
            if below >= BIG_ROWS:
                problems.append(f"{n['Node Type']} of {below:,} rows by {n.get('Sort Key')}")
        removed = n.get("Rows Removed by Filter", 0) * n.get("Actual Loops", 1)
        if "Index Name" in n and removed >= BIG_ROWS:
            problems.append(f"{n['Index Name']} walked {removed:,} rows the filter dropped")
    return {
        "execution_ms": round(plan.get("Execution Time", 0.0), 3),
        "indexes": indexes,
        "problems": problems,
        "plan": [
            f"{n['Node Type']}"
            + (f" using {n['Index Name']}" if "Index Name" in n else "")
            + (f" on {n['Relation Name']}" if "Relation Name" in n else "")
            + f" (rows {n.get('Actual Rows')}, loops {n.get('Actual Loops')})"
            for n in nodes
        ],
    }


def sqlite_plan(connection: sa.Connection, statement: str, parameters: Any) -> dict[str, Any]:
    """EXPLAIN QUERY PLAN of one SELECT: its steps, and any full scan or temp b-tree sort."""
    steps = [
        str(r[3]) for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    ]
    # A temp b-tree sorts only the rows the index search found (for "RIGHT PART", only the
    # ties of the index's order): noted, but a problem only when the search is a full scan.
    problems = [s for s in steps if s.startswith("SCAN") and "COVERING" not in s]
    sorts = [s for s in steps if "TEMP B-TREE" in s]
    return {"plan": steps, "problems": problems, "sorts": sorts}


def explain_part(url: str, cursors: dict[str, str | None], fill: Fill) -> dict[str, Any]:
    """Plans of the statements behind each list row and GET item (same filters, same cursor)."""
    from app.queue import review

    engine = store.make_engine(url)
    calls: list[tuple[str, Callable[[], Any]]] = []
    for name, params, paged in LIST_ROWS:
        filters = Filters(
            queue=params.get("queue"),
            label=params.get("label"),
            min_probability=params.get("min_probability"),
        )
        cursor = cursors.get(name) if paged else None
        calls.append((name, lambda f=filters, c=cursor: list_items(engine, f, limit=50, cursor=c)))
    calls.append(
        ("GET item with context", lambda: get_item(engine, fill.all_ids[len(fill.all_ids) // 2]))
    )
    # Asked by the review page on every load.
    calls.append(("open count (review tabs)", lambda: review.open_count(engine)))
    out: dict[str, Any] = {}
    try:
        for name, call in calls:
            with captured(engine) as seen:
                call()
            # The Python side too: the same call in-process, without HTTP.
            times = [timed(call)[0] for _ in range(IN_PROCESS_REPEAT)]
            selects = [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]
            with engine.connect() as connection:
                plans = [
                    pg_plan(connection, s, p)
                    if engine.dialect.name == "postgresql"
                    else sqlite_plan(connection, s, p)
                    for s, p in selects
                ]
            out[name] = {
                "statements": len(selects),
                "in_process_ms": round(statistics.median(times) * 1000, 2),
                "plans": plans,
                "problems": sorted({p for plan in plans for p in plan["problems"]}),
            }
    finally:
        engine.dispose()
    return out


# --- Report -----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def markdown(result: dict[str, Any]) -> str:
    env = result["environment"]
    ingest = result["ingest"]
    page = ingest["page"]
    lines = [
        "# Queue benchmark",
        "",
        f"{env['cpus']} CPUs shared with other users; load average (1, 5, 15 min) "
        f"{env['load_before']} before, {env['load_after']} after. Model {env['model_version']}; "
        f"PostgreSQL: {env['postgres'] or 'not reachable, its rows are skipped'}.",
        "",
        "## Ingest",
        "",
        f"One generated page, generic JSON export: {page['comments']:,} comments "
        f"({page['bytes'] / 2**20:.1f} MiB; median {page['median_words']} words, at most "
        f"{page['max_words']}; {page['top_level']:,} top-level, replies up to depth "
        f"{page['max_depth']}). Re-ingests: the same file, then the file with "
        f"{page['edited']} comments ({page['edited'] / page['comments']:.0%}) edited. "
        f"Parsing alone: {ingest['parse_s']:.2f} s. Reference, same comments, same run: "
        f"`score_frame` (evidence on, as ingest scores) {ingest['score_reference_s']:.1f} s = "
        f"{page['comments'] / ingest['score_reference_s']:,.0f} comments/s. CLI floor "
        f"(`threadguard model-info`: start-up and model loading) {ingest['cli_floor_s']:.1f} s.",
        "",
        "| database | CLI first ingest s | comments/s | ÷ score_frame time | CLI unchanged s "
        "| CLI 1% edited s | items queued | in-process write s | write share of ingest "
        "| in-process unchanged s | in-process edited s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, db in ingest["databases"].items():
        cli, inproc = db["cli"], db["in_process"]
        first = cli["first"]["seconds"]
        total = ingest["parse_s"] + ingest["score_reference_s"] + inproc["write_s"]
        lines.append(
            f"| {name} | {first:.1f} | {page['comments'] / first:,.0f} "
            f"| {first / ingest['score_reference_s']:.2f} | {cli['unchanged']['seconds']:.1f} "
            f"| {cli['edited']['seconds']:.1f} | {cli['first']['summary']['items_created']:,} "
            f"| {inproc['write_s']:.2f} | {inproc['write_s'] / total:.0%} "
            f"| {inproc['unchanged_s']:.2f} | {inproc['edited_s']:.2f} |"
        )
    lines += [
        "",
        "In-process: write = `ingest_thread` given the reference's scores (database work "
        "only); its share is of parse + score_frame + write. Unchanged: nothing is scored; "
        "edited: only the edited comments are scored, their old items superseded.",
        "",
        "## The queue at scale",
        "",
    ]
    queue = result.get("queue")
    if queue is None:
        lines.append("Skipped.")
        return "\n".join(lines) + "\n"
    fill = queue["fill"]
    lines += [
        f"{fill['items']:,} synthetic items (random probabilities in real score records, "
        f"routed by the default policy; not scored), on {fill['comments']:,} comments in "
        f"{fill['threads']:,} threads; queues {fill['by_queue']}; statuses "
        f"{fill['by_status']}; {fill['decisions']:,} decisions, {fill['reports']:,} reports. "
        f"Bulk insert (executemany) s: {fill['seconds']}. One uvicorn worker per database, "
        f"an httpx client at concurrency 1 over loopback, {WARMUP} unmeasured requests "
        "before each row; each decision is on a different open item.",
        "",
        "| database | request | requests | errors | p50 ms | p95 ms | p99 ms | max ms "
        "| req/s | p95 ÷ healthz p95 | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reference = {r["database"]: r["p95_ms"] for r in queue["rows"] if "healthz" in r["name"]}
    for r in queue["rows"]:
        base = reference.get(r["database"]) or 0.0
        ratio = f"{r['p95_ms'] / base:.1f}" if base else "–"
        limit = "" if r["complete"] else " (time limit)"
        lines.append(
            f"| {r['database']} | {r['name']} | {r['requests']:,}{limit} | {r['errors']} "
            f"| {_ms(r['p50_ms'])} | {_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | {_ms(r['max_ms'])} "
            f"| {r['requests_per_s']:,.0f} | {ratio} | {r['note']} |"
        )
    lines += ["", "Goals (PostgreSQL):", ""]
    for g in queue["goals"]:
        lines.append(f"- {'PASS' if g['pass'] else 'MISS'}: {g['goal']}: {g['value']} ms")
    lines += ["", "## Query plans", ""]
    for database, plans in queue["explain"].items():
        lines.append(f"{database}:")
        lines.append("")
        for name, found in plans.items():
            indexes = sorted({i for p in found["plans"] for i in p.get("indexes", [])})
            used = f"indexes {', '.join(indexes)}" if indexes else ""
            issues = "; ".join(found["problems"]) or "no large scan or sort"
            timing = [p["execution_ms"] for p in found["plans"] if "execution_ms" in p]
            spent = f", {sum(timing):.1f} ms executing in the database" if timing else ""
            sorts = sorted({s for p in found["plans"] for s in p.get("sorts", [])})
            lines.append(
                f"- {name} ({found['statements']} SELECTs{spent}, "
                f"{found['in_process_ms']:.1f} ms as an in-process call): {used}"
                f"{'; ' if used else ''}{issues}"
                + (f"; sorts: {', '.join(sorts)}" if sorts else "")
            )
            if database == "sqlite" or found["problems"]:
                for plan in found["plans"][:1]:
                    lines.append(f"  - plan: {' → '.join(plan['plan'])}")
        lines.append("")
    return "\n".join(lines) + "\n"


def goals(rows: list[Row]) -> list[dict[str, Any]]:
    """The issue's goal, list and decide p95 ≤ 50 ms on PostgreSQL, per measured row."""
    out = []
    for r in rows:
        if r.database != "postgresql" or not (r.name.startswith("list") or "decision" in r.name):
            continue
        out.append(
            {
                "goal": f"{r.name} p95 <= {GOAL_P95_MS:g} ms",
                "value": r.p95_ms,
                "pass": r.p95_ms <= GOAL_P95_MS and not r.errors and r.complete,
            }
        )
    return out


def postgres_version(url: str) -> str | None:
    """The server's version, or None when it does not answer (within the connect timeout)."""
    engine = store.make_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar_one())
    except (sa.exc.SQLAlchemyError, store.DatabaseError) as error:
        print(f"PostgreSQL at {store.mask_url(url)} does not answer: {error}", file=sys.stderr)
        return None
    finally:
        engine.dispose()


def main() -> None:
    """Run the benchmark and write its report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--page-comments", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1_000, help="per measured row")
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL (skipped if down)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per row or command")
    parser.add_argument("--model-dir", type=Path, default=None, help="folder with CURRENT")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if min(args.items, args.page_comments, args.requests) < 1 or args.timeout <= 0:
        parser.error("--items, --page-comments, --requests and --timeout must be positive")

    model_dir: Path = (args.model_dir or default_model_dir()).resolve()
    model = load_current(model_dir)
    policy = load_policy(None, model.thresholds)
    pg_version = postgres_version(args.database_url)
    env: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "model_version": model.version,
        "postgres": pg_version and f"{pg_version} at {store.mask_url(args.database_url)}",
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    pg = PostgresServer(args.database_url) if pg_version else None
    result: dict[str, Any] = {"environment": env}
    try:
        with tempfile.TemporaryDirectory(prefix="queue-bench-") as tmp:
            folder = Path(tmp)
            made = 0

            def sqlite_db() -> str:
                nonlocal made
                made += 1
                url = f"sqlite:///{folder / f'ingest-{made}.db'}"
                store.upgrade(url)
                return url

            def postgres_db() -> str:
                assert pg is not None
                url = pg.create()
                store.upgrade(url)
                return url

            targets: dict[str, Callable[[], str]] = {"sqlite": sqlite_db}
            if pg is not None:
                targets["postgresql"] = postgres_db
            result["ingest"] = ingest_part(
                targets, model, policy, model_dir, args.page_comments, folder, args.timeout
            )

            urls = {"postgresql": postgres_db()} if pg is not None else {}
            urls["sqlite"] = f"sqlite:///{folder / 'queue.db'}"
            store.upgrade(urls["sqlite"])
            templates = [
                clean_scores(r)
                for r in records(
                    score_frame(
                        model,
                        thread_frame(
                            parse(
                                _page_bytes(generate_page(300, seed=5)),
                                format="json",
                                options=ParseOptions(),
                            )
                        )[["text", "parent_text", "topic"]],
                    )
                )
            ]
            print(f"filling the queue with {args.items:,} items …", file=sys.stderr)
            engines = {name: store.make_engine(url) for name, url in urls.items()}
            try:
                fill = fill_queue(engines, args.items, templates, policy)
            finally:
                for engine in engines.values():
                    engine.dispose()
            rows: list[Row] = []
            explain: dict[str, Any] = {}
            for name, url in urls.items():
                print(f"HTTP on {name} …", file=sys.stderr)
                measured, cursors = api_part(
                    name,
                    url,
                    model_dir,
                    fill,
                    folder,
                    requests=args.requests,
                    timeout=args.timeout,
                )
                rows += measured
                explain[name] = explain_part(url, cursors, fill)
            fill_out = asdict(fill)
            for key in ("open_ids", "all_ids"):
                fill_out.pop(key)
            fill_out["by_queue"] = dict(fill.by_queue.most_common())
            fill_out["by_status"] = dict(fill.by_status.most_common())
            result["queue"] = {
                "fill": fill_out,
                "requests": args.requests,
                "rows": [asdict(r) for r in rows],
                "goals": goals(rows),
                "explain": explain,
            }
    finally:
        if pg is not None:
            with suppress(sa.exc.SQLAlchemyError):
                pg.close()
    env["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report = markdown(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "queue_bench.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (args.out / "queue_bench.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()

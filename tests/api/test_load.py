"""A bounded load test of a real uvicorn server: mixed traffic, no errors, metrics that add up.

1,000 requests at concurrency 16 over loopback (single comments, batches, thread pages and
requests that must be refused), against `create_app_from_env` in a uvicorn subprocess with
the tiny model and a fresh SQLite database. Every request must get exactly its documented
answer, and /metrics must count exactly what was sent. Nothing here is timed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.serverutil import Server, threadguard_server

pytestmark = pytest.mark.slow

REQUESTS = 1_000
CONCURRENCY = 16
# Bounds, not expectations: the run normally takes a few seconds.
DEADLINE_S = 300.0
REQUEST_TIMEOUT_S = 60.0
# Small limits so refused requests stay small too.
MAX_TEXT_BYTES = 2_000
MAX_BATCH = 8
MAX_BODY_BYTES = 64 * 1024
JSON = {"content-type": "application/json"}

WORDS = (
    "the council voted to build the bridge and I think it is a good idea",
    "you are an idiot and everyone here knows it",
    "who is paying for all of this",
    "I agree with the comment above",
    "the article leaves out the cost overruns",
    "thanks for the clear reporting",
    "nonsense from start to finish",
    "my street has been closed for months",
)


@dataclass(frozen=True)
class Call:
    """One request of the load and the answer it must get."""

    kind: str
    path: str
    content: bytes
    status: int
    code: str | None = None
    comments: int = 0
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def endpoint(self) -> str:
        return self.route.rsplit("/", 1)[-1]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def _comment(rng: random.Random, context: bool) -> dict[str, str]:
    comment = {"text": _text(rng)}
    if context:
        comment["parent_text"] = _text(rng)
        comment["topic"] = "the new bridge"
    return comment


def _body(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _valid(rng: random.Random) -> Call:
    roll = rng.random()
    if roll < 0.5:
        return Call("single", "/v1/score", _body(_comment(rng, rng.random() < 0.5)), 200, None, 1)
    if roll < 0.75:
        n = rng.randint(2, MAX_BATCH)
        batch = {"comments": [_comment(rng, rng.random() < 0.5) for _ in range(n)]}
        return Call("batch", "/v1/score", _body(batch), 200, None, n)
    n = rng.randint(1, 6)
    page = [
        {"id": f"c{i}", "parent": f"c{rng.randrange(i)}" if i else None, "text": _text(rng)}
        for i in range(n)
    ]
    return Call("thread", "/v1/threads?format=json", _body(page), 200, None, n)


def _invalid(rng: random.Random) -> Call:
    """A request that must be refused, with the status and code the API documents."""
    kind = rng.choice(
        (
            "blank",
            "missing_text",
            "extra_field",
            "bad_json",
            "not_utf8",
            "text_too_long",
            "batch_too_large",
            "body_too_large",
            "unknown_format",
            "empty_page",
        )
    )
    if kind == "blank":
        return Call(kind, "/v1/score", _body({"text": "  \n "}), 422, "comment_empty")
    if kind == "missing_text":
        return Call(kind, "/v1/score", _body({"topic": "bridges"}), 422, "invalid_input")
    if kind == "extra_field":
        return Call(kind, "/v1/score", _body({"text": "hi", "lang": "en"}), 422, "invalid_input")
    if kind == "bad_json":
        return Call(kind, "/v1/score", b'{"text": "unterminated', 400, "invalid_json")
    if kind == "not_utf8":
        return Call(
            kind, "/v1/score", '{"text": "caf\u00e9"}'.encode("latin-1"), 400, "invalid_json"
        )
    if kind == "text_too_long":
        long = {"text": "word " * (MAX_TEXT_BYTES // 5 + 1)}
        return Call(kind, "/v1/score", _body(long), 413, "text_too_long")
    if kind == "batch_too_large":
        batch = {"comments": [{"text": "ok"}] * (MAX_BATCH + 1)}
        return Call(kind, "/v1/score", _body(batch), 413, "batch_too_large")
    if kind == "body_too_large":
        huge = {"comments": [{"text": "word " * 300}] * 50}
        return Call(kind, "/v1/score", _body(huge), 413, "payload_too_large")
    if kind == "unknown_format":
        return Call(kind, "/v1/threads?format=pdf", b"[]", 422, "invalid_input")
    return Call(kind, "/v1/threads", b"  \n", 422, "parse_error", headers={})


def load_plan(n: int, seed: int = 0) -> list[Call]:
    """`n` calls, about one in five refused, in a fixed random order."""
    rng = random.Random(seed)
    return [_invalid(rng) if rng.random() < 0.2 else _valid(rng) for _ in range(n)]


def test_plan_covers_every_kind_of_request() -> None:
    plan = load_plan(REQUESTS)
    kinds = Counter(call.kind for call in plan)
    assert set(kinds) >= {"single", "batch", "thread", "blank", "body_too_large", "not_utf8"}
    assert all(len(call.content) > MAX_BODY_BYTES for call in plan if call.kind == "body_too_large")
    assert all(
        len(call.content) <= MAX_BODY_BYTES for call in plan if call.kind != "body_too_large"
    )


@dataclass
class Outcome:
    call: Call
    status: int | None = None
    body: bytes = b""
    error: str | None = None


async def _send_all(server: Server, plan: list[Call]) -> list[Outcome]:
    outcomes = [Outcome(call) for call in plan]
    pending = iter(outcomes)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=server.url, limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False
    ) as client:

        async def worker(queue: Iterator[Outcome]) -> None:
            for outcome in queue:
                call = outcome.call
                try:
                    response = await client.post(
                        call.path, content=call.content, headers=call.headers
                    )
                except httpx.TransportError as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"
                    continue
                outcome.status = response.status_code
                outcome.body = response.content

        await asyncio.wait_for(
            asyncio.gather(*(worker(pending) for _ in range(CONCURRENCY))), DEADLINE_S
        )
    return outcomes


def _problem(outcome: Outcome, model_version: str) -> str | None:
    """What is wrong with one answer, or None."""
    call = outcome.call
    if outcome.error is not None:
        return outcome.error
    if outcome.status != call.status:
        return f"status {outcome.status}, expected {call.status}: {outcome.body[:300]!r}"
    body = json.loads(outcome.body)
    if call.code is not None:
        if body.get("error", {}).get("code") != call.code or not body["error"].get("message"):
            return f"expected error {call.code!r}, got {body!r}"
        return None
    if call.kind == "single" and body.get("model_version") != model_version:
        return f"no model_version {model_version!r} in {body!r}"
    if call.kind == "batch" and len(body.get("results", [])) != call.comments:
        return f"{len(body.get('results', []))} results for {call.comments} comments"
    if call.kind == "thread" and body.get("summary", {}).get("comments") != call.comments:
        return f"summary {body.get('summary')!r} for {call.comments} comments"
    return None


def _samples(metrics_text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
    }


@dataclass(frozen=True)
class LoadRun:
    plan: list[Call]
    outcomes: list[Outcome]
    metrics: dict[tuple[str, frozenset[tuple[str, str]]], float]
    log: str


@pytest.fixture(scope="module")
def load_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """The whole load sent once to one server; the tests below each check one property."""
    plan = load_plan(REQUESTS)
    with threadguard_server(
        tiny_model_dir.parent,
        tmp_path_factory.mktemp("load"),
        max_text_bytes=MAX_TEXT_BYTES,
        max_batch=MAX_BATCH,
        max_body_bytes=MAX_BODY_BYTES,
    ) as server:
        outcomes = asyncio.run(_send_all(server, plan))
        with httpx.Client(base_url=server.url, trust_env=False, timeout=30.0) as client:
            metrics = client.get("/metrics")
        metrics.raise_for_status()
        log = server.log()
    return LoadRun(plan, outcomes, _samples(metrics.text), log)


def test_no_transport_or_server_errors(load_run: LoadRun) -> None:
    transport = [o for o in load_run.outcomes if o.error is not None]
    assert not transport, f"{len(transport)} transport errors, first: {transport[0].error}"
    failed = [o for o in load_run.outcomes if o.status is not None and o.status >= 500]
    assert not failed, f"{len(failed)} 5xx, first: {failed[0].body[:300]!r}"
    assert "Traceback" not in load_run.log


def test_every_request_gets_its_documented_answer(load_run: LoadRun, tiny_model_dir: Path) -> None:
    problems = [
        f"#{i} {o.call.kind} {o.call.path}: {problem}"
        for i, o in enumerate(load_run.outcomes)
        if (problem := _problem(o, tiny_model_dir.name)) is not None
    ]
    assert not problems, f"{len(problems)} wrong answers:\n" + "\n".join(problems[:10])


def test_metrics_count_every_request_by_route_and_status(load_run: LoadRun) -> None:
    sent = Counter((call.route, call.status) for call in load_run.plan)
    counted = {
        (dict(labels)["route"], int(dict(labels)["status"])): value
        for (name, labels), value in load_run.metrics.items()
        if name == "threadguard_requests_total" and dict(labels)["method"] == "POST"
    }
    assert counted == dict(sent)
    for route in {call.route for call in load_run.plan}:
        timed = load_run.metrics.get(
            ("threadguard_request_seconds_count", frozenset({"route": route}.items()))
        )
        assert timed == sum(n for (r, _), n in sent.items() if r == route), route


def test_metrics_count_the_comments_scored(load_run: LoadRun) -> None:
    for endpoint in ("score", "threads"):
        labels = frozenset({"endpoint": endpoint}.items())
        scored = sum(
            c.comments for c in load_run.plan if c.status == 200 and c.endpoint == endpoint
        )
        assert load_run.metrics.get(("threadguard_comments_scored_total", labels)) == scored

"""Chunked scoring, stopping for a gone client, and micro-batching of single comments.

Nothing here is timed: chunks are counted on the app's metrics, batches by their size
histogram, and a disconnect is a scripted ASGI `http.disconnect` after the first chunk.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from app.api.app import create_app
from app.api.batcher import MicroBatcher
from app.api.metrics import Metrics
from app.api.routes.threads import score_page
from app.api.work import ScoringPool, chunks
from app.config import Settings
from app.registry import LoadedModel
from app.scoring import records, score_rows, score_thread
from app.threads import parse

HATEFUL = "jews are vermin and should be driven out"


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (the scorer's 'no answer')."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_chunks_bound_comments_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.api.work.CHUNK_COMMENTS", 3)
    monkeypatch.setattr("app.api.work.CHUNK_BYTES", 100)
    assert chunks([1] * 7) == [range(0, 3), range(3, 6), range(6, 7)]
    assert chunks([60, 60, 500, 10]) == [range(0, 1), range(1, 2), range(2, 3), range(3, 4)]
    assert chunks([]) == []


def _comments(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(i),
            "text": f"comment {i}: " + (HATEFUL if i % 3 == 0 else "a nice day at the lake"),
            "parent_text": "the council voted" if i % 2 else None,
            "topic": "the bridge" if i % 4 == 0 else None,
        }
        for i in range(n)
    ]


def _settings(url: str, **values: Any) -> Settings:
    return Settings(database_url=url, **values)


async def _post(app: Any, path: str, body: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, json=body)


def test_a_chunked_batch_answers_as_one_call(
    sqlite_url: str, tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.api.work.CHUNK_COMMENTS", 4)
    app = create_app(_settings(sqlite_url), model=tiny_model)
    comments = _comments(11)
    response = asyncio.run(_post(app, "/v1/score", {"comments": comments}))
    assert response.status_code == 200, response.text
    metrics = app.state.services.metrics
    assert _sample(metrics, "threadguard_score_chunks_total", endpoint="score") == 3
    rows = score_rows(
        tiny_model,
        [c["text"] for c in comments],
        [c["parent_text"] for c in comments],
        [c["topic"] for c in comments],
    )
    results = response.json()["results"]
    for row, result in zip(rows, results, strict=True):
        assert result["scores"] == {h: round(float(row[h]), 6) for h in result["scores"]}
        assert set(result["evidence"]) == set(row["evidence"])


def test_a_chunked_page_scores_as_score_thread(
    tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.api.work.CHUNK_COMMENTS", 2)
    page = {
        "title": "The bridge",
        "comments": [
            {"id": "a", "parent_id": None, "body": HATEFUL},
            {"id": "b", "parent_id": "a", "body": "I agree with you"},
            {"id": "c", "parent_id": "b", "body": "No, that is wrong and vile."},
            {"id": "d", "parent_id": None, "body": "The bridge is a fine idea."},
            {"id": "e", "parent_id": "d", "body": "Absolutely, well said."},
        ],
    }
    thread = parse(json.dumps(page).encode(), format="json")
    expected = records(score_thread(tiny_model, thread))
    pool = ScoringPool(1, Metrics(tiny_model.version))
    sizes = [len(c.text.encode()) for c in thread.comments]
    try:
        got = asyncio.run(score_page(None, pool, tiny_model, thread, sizes, 5))
    finally:
        pool.close()
    assert _sample(pool.metrics, "threadguard_score_chunks_total", endpoint="threads") == 3
    assert _same(got, expected)


def test_a_gone_client_stops_the_scoring(
    sqlite_url: str, tiny_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.api.work.CHUNK_COMMENTS", 2)
    app = create_app(_settings(sqlite_url), model=tiny_model)
    metrics: Metrics = app.state.services.metrics
    body = json.dumps({"comments": _comments(10)}).encode()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            sent.append({})
            return {"type": "http.request", "body": body, "more_body": False}
        # The client leaves once the first chunk is scored; until then it is there.
        if _sample(metrics, "threadguard_score_chunks_total", endpoint="score") >= 1:
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/score",
        "raw_path": b"/v1/score",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert _sample(metrics, "threadguard_score_chunks_total", endpoint="score") == 1
    assert _sample(metrics, "threadguard_requests_abandoned_total", endpoint="score") == 1
    assert _sample(metrics, "threadguard_comments_scored_total", endpoint="score") == 0


def test_concurrent_single_comments_are_batched_and_answer_as_alone(
    sqlite_url: str, tiny_model: LoadedModel
) -> None:
    app = create_app(_settings(sqlite_url), model=tiny_model)
    comments = [{k: v for k, v in c.items() if v is not None} for c in _comments(12)]
    bad = {"text": "   "}

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            calls = [client.post("/v1/score", json=c) for c in [*comments, bad]]
            return list(await asyncio.gather(*calls))

    *answers, refused = asyncio.run(all_at_once())
    assert refused.status_code == 422
    metrics: Metrics = app.state.services.metrics
    batches = _sample(metrics, "threadguard_micro_batch_size_count")
    assert _sample(metrics, "threadguard_micro_batch_size_sum") == len(comments)
    assert batches < len(comments)
    for comment, answer in zip(comments, answers, strict=True):
        assert answer.status_code == 200, answer.text
        alone = asyncio.run(
            _post(create_app(_settings(sqlite_url), model=tiny_model), "/v1/score", comment)
        )
        assert answer.json() == alone.json()


def test_one_failing_comment_fails_only_its_own_request(tiny_model: LoadedModel) -> None:
    metrics = Metrics(tiny_model.version)
    pool = ScoringPool(1, metrics)

    def score(items: Sequence[str]) -> list[dict[str, Any]]:
        if "bad" in items:
            raise ValueError("cannot score 'bad'")
        return [{"text": item} for item in items]

    batcher = MicroBatcher(pool, score, metrics, max_comments=8, max_bytes=1_000, wait_s=0.002)

    async def run() -> list[Any]:
        calls = [batcher.score(item, 3) for item in ("one", "two", "bad", "four", "five")]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    try:
        results = asyncio.run(run())
    finally:
        pool.close()
    assert isinstance(results[2], ValueError)
    assert [r["text"] for i, r in enumerate(results) if i != 2] == ["one", "two", "four", "five"]


def test_an_idle_batcher_scores_at_once_and_bounds_batches(tiny_model: LoadedModel) -> None:
    metrics = Metrics(tiny_model.version)
    pool = ScoringPool(1, metrics)
    seen: list[list[int]] = []

    def score(items: Sequence[int]) -> list[dict[str, Any]]:
        seen.append(list(items))
        return [{"n": n} for n in items]

    batcher = MicroBatcher(pool, score, metrics, max_comments=4, max_bytes=25, wait_s=0.01)

    async def run() -> None:
        assert (await batcher.score(0, 10))["n"] == 0
        await asyncio.gather(*(batcher.score(n, 10) for n in range(1, 10)))

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
    finally:
        pool.close()
    assert seen[0] == [0]
    assert sorted(n for batch in seen for n in batch) == list(range(10))
    # 25 bytes a batch: two items of 10 bytes each at most.
    assert all(len(batch) <= 2 for batch in seen)

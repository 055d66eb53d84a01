"""The worst request the default budget allows, sent to a real uvicorn server: bounded time
and memory (issue 12).

A bound, not a benchmark: the service promises the worst allowed request in 2 s of one
core; the test allows `CI_FACTOR` times that, for a loaded or slower CI machine. Measured
when it was written: 0.3-1.0 s a request. The server's RSS after the worst requests must be
within `RSS_MARGIN_MB` of its RSS before them (after start-up and one small request):
without malloc_trim a worker keeps about 30 MB of freed arena pages; with it, RSS ends
below where it started. (Before the budget, one allowed request grew a worker by 2 GB.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from app.config import DEFAULT_MAX_REQUEST_TEXT_BYTES
from app.registry import default_model_dir
from tests.api.serverutil import Server, threadguard_server
from tests.api.worstcase import flagged_text, worst_batch, worst_page

BUDGET_S = 2.0
CI_FACTOR = 3.0
RSS_MARGIN_MB = 48.0
REPEATS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("worst")
    with threadguard_server(default_model_dir(), workdir) as running:
        yield running


def _rss_mb(server: Server) -> float:
    return float(psutil.Process(server.pid).memory_info().rss) / 1e6


def test_the_worst_allowed_requests_finish_in_bounded_time_and_memory(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60.0, trust_env=False) as client:
        assert client.post("/v1/score", json={"text": "warm up"}).status_code == 200
        before = _rss_mb(server)
        batch, page = worst_batch(), worst_page()
        for _ in range(REPEATS):
            for path, body in (("/v1/score", batch), ("/v1/threads?format=json", page)):
                started = time.perf_counter()
                response = client.post(path, json=body)
                seconds = time.perf_counter() - started
                assert response.status_code == 200, response.text[:500]
                assert seconds <= BUDGET_S * CI_FACTOR, f"{path} took {seconds:.2f} s"
        results = response.json()["thread"]["comments"]
        assert results and all(c["labels"]["flags"] for c in results)
        after = _rss_mb(server)
    assert after <= before + RSS_MARGIN_MB, f"RSS {before:.0f} MB before, {after:.0f} MB after"


def test_one_byte_over_the_budget_is_refused_before_scoring(server: Server) -> None:
    body = worst_batch()
    body["comments"].append({"text": "x"})
    with httpx.Client(base_url=server.url, timeout=60.0, trust_env=False) as client:
        response = client.post("/v1/score", json=body)
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "request_too_large"
        assert f"{DEFAULT_MAX_REQUEST_TEXT_BYTES + 1:,} bytes" in error["message"]
        metrics = client.get("/metrics").text
    # Nothing of the refused batch was scored (the warm-up and worst requests may have been).
    assert 'threadguard_requests_total{method="POST",route="/v1/score",status="413"} 1.0' in (
        metrics
    )


def test_a_page_comment_over_the_per_comment_limit_is_named(server: Server) -> None:
    page = worst_page(budget=30_000)
    page["comments"][3]["body"] = flagged_text(random.Random(5), 20_481)
    with httpx.Client(base_url=server.url, timeout=60.0, trust_env=False) as client:
        response = client.post("/v1/threads?format=json", json=page)
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "comments.3.text"


def test_the_fixture_texts_are_what_the_budget_allows() -> None:
    sizes = [len(c["text"].encode()) for c in worst_batch()["comments"]]
    assert sum(sizes) == DEFAULT_MAX_REQUEST_TEXT_BYTES
    page = worst_page()
    total = sum(len(c["body"]) for c in page["comments"]) + 2 * len(page["title"])
    assert DEFAULT_MAX_REQUEST_TEXT_BYTES - 4_096 < total <= DEFAULT_MAX_REQUEST_TEXT_BYTES

"""Prometheus metrics of one app: requests, latency and flags by label.

Each app owns its registry, so two apps in one process (tests) never share counters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from app.heads import BINARY_HEADS
from app.scoring import records

# Latency buckets around the 20 ms goal, up to a large thread.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters and histograms exported at GET /metrics."""

    def __init__(self, model_version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "threadguard_requests",
            "HTTP requests by route template, method and status",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "threadguard_request_seconds",
            "Time from request to response, by route template",
            ("route",),
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.comments = Counter(
            "threadguard_comments_scored",
            "Comments scored, by entry point",
            ("endpoint",),
            registry=self.registry,
        )
        self.flags = Counter(
            "threadguard_flags",
            "Flags raised, by label (hate targets as hate_target:<group>)",
            ("label",),
            registry=self.registry,
        )
        self.queued = Counter(
            "threadguard_queue_items",
            "Review-queue items opened through this service, by queue",
            ("queue",),
            registry=self.registry,
        )
        self.decisions = Counter(
            "threadguard_queue_decisions",
            "Moderator decisions recorded through this service, by action",
            ("action",),
            registry=self.registry,
        )
        self.chunks = Counter(
            "threadguard_score_chunks",
            "Chunks of a request scored on a scoring thread, by entry point",
            ("endpoint",),
            registry=self.registry,
        )
        self.abandoned = Counter(
            "threadguard_requests_abandoned",
            "Requests whose scoring stopped because the client disconnected, by entry point",
            ("endpoint",),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "threadguard_micro_batch_size",
            "Single-comment /v1/score requests scored together in one micro-batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        info = Gauge(
            "threadguard_model_info",
            "The loaded model version (value is always 1)",
            ("version",),
            registry=self.registry,
        )
        info.labels(version=model_version).set(1)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def observe_scores(self, scored: pd.DataFrame, endpoint: str) -> None:
        """Count the comments and the flags of a frame from `score_frame`."""
        self.observe_rows(records(scored), endpoint)

    def observe_rows(self, rows: Sequence[Mapping[str, Any]], endpoint: str) -> None:
        """Count the comments and the flags of rows from `score_rows`."""
        self.comments.labels(endpoint=endpoint).inc(len(rows))
        for head in BINARY_HEADS:
            count = sum(1 for row in rows if row[f"{head}_flag"])
            if count:
                self.flags.labels(label=head).inc(count)
        for row in rows:
            if row["hate_target"]:
                self.flags.labels(label=f"hate_target:{row['hate_target']}").inc()

    def observe_queued(self, queues: Mapping[str, int]) -> None:
        """Count items opened per queue (from an ingest)."""
        for queue, count in queues.items():
            if count:
                self.queued.labels(queue=queue).inc(count)

    def observe_chunk(self, endpoint: str) -> None:
        self.chunks.labels(endpoint=endpoint).inc()

    def observe_abandoned(self, endpoint: str) -> None:
        self.abandoned.labels(endpoint=endpoint).inc()

    def observe_batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def observe_decision(self, action: str) -> None:
        self.decisions.labels(action=action).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

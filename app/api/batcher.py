"""Micro-batching: single-comment requests that arrive together are scored in one call.

Scoring one comment costs about 1 ms of fixed work (building matrices, every head, the
frame of answers) plus its text; scoring 32 together costs far less than 32 times that.
Under concurrency the batcher turns the requests waiting for a scoring thread into one
`score_rows` call; at concurrency 1 it adds nothing:

- a request that finds the batcher idle is scored at once, alone (no timer, no wait);
- requests that arrive while a batch is being scored wait for it to end (they would have
  waited for the scoring thread anyway), and are then scored together, with up to
  `wait_s` more (2 ms by default) for the clients that just got their answers to send
  their next request, until `max_comments` are pending;
- a batch is bounded like a request: at most `max_comments` comments and the request
  budget of text bytes, so the worst batch costs no more than the worst request.

Each comment is validated before it joins a batch, so a refused comment fails only its own
request; should the scorer still raise for a batch, its comments are scored one by one and
only the one that raises fails. Scoring is row by row independent, so a comment's answer
is the same in a batch as alone (tests compare them). A request whose client has gone is
dropped from its batch before scoring.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from app.api.metrics import Metrics
from app.api.work import ClientGone, ScoringPool

log = logging.getLogger("threadguard.api")

Row = dict[str, Any]


@dataclass
class _Pending:
    item: Any
    size: int
    request: Request | None
    future: asyncio.Future[Row]


class MicroBatcher:
    """Collects single requests of one event loop and scores them in batches on `pool`."""

    def __init__(
        self,
        pool: ScoringPool,
        score: Callable[[Sequence[Any]], list[Row]],
        metrics: Metrics,
        *,
        max_comments: int,
        max_bytes: int,
        wait_s: float,
    ) -> None:
        self.pool = pool
        self.score_batch = score
        self.metrics = metrics
        self.max_comments = max_comments
        self.max_bytes = max_bytes
        self.wait_s = wait_s
        self._pending: deque[_Pending] = deque()
        self._running = False
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def score(self, item: Any, size: int, request: Request | None = None) -> Row:
        """The row of `item` (`size` bytes of text), scored with whatever arrives with it.

        Raises:
            ClientGone: the client of `request` left before its batch was scored.
            Exception: whatever scoring `item` alone raises.
        """
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # One batcher per app, and an app serves one loop; tests may start another.
            self._loop, self._full, self._running = loop, asyncio.Event(), False
            self._pending.clear()
        future: asyncio.Future[Row] = loop.create_future()
        self._pending.append(_Pending(item, size, request, future))
        if self._fills_a_batch():
            self._full.set()
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Score batches until nothing is pending; the first one without waiting."""
        first = True
        try:
            while True:
                self._drop_cancelled()
                if not self._pending:
                    return
                if not first and self.wait_s > 0 and not self._fills_a_batch():
                    self._full.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), self.wait_s)
                first = False
                await self._score(self._take())
        except BaseException as exc:  # pragma: no cover - a bug here must not hang requests
            log.error("micro-batcher failed", exc_info=exc)
            for pending in self._pending:
                if not pending.future.done():
                    pending.future.set_exception(RuntimeError("the micro-batcher failed"))
            self._pending.clear()
            raise
        finally:
            self._running = False

    def _fills_a_batch(self) -> bool:
        """Whether what is pending makes a full batch (by count or by bytes)."""
        if len(self._pending) >= self.max_comments:
            return True
        return sum(p.size for p in self._pending) >= self.max_bytes

    def _drop_cancelled(self) -> None:
        while self._pending and self._pending[0].future.done():
            self._pending.popleft()

    def _take(self) -> list[_Pending]:
        """The oldest pending requests that fit one batch (at least one)."""
        batch: list[_Pending] = []
        total = 0
        while self._pending and len(batch) < self.max_comments:
            pending = self._pending[0]
            if batch and total + pending.size > self.max_bytes:
                break
            self._pending.popleft()
            if pending.future.done():
                continue
            batch.append(pending)
            total += pending.size
        return batch

    async def _score(self, batch: list[_Pending]) -> None:
        live: list[_Pending] = []
        for pending in batch:
            if pending.request is not None and await pending.request.is_disconnected():
                self.metrics.observe_abandoned("score")
                pending.future.set_exception(ClientGone())
                # Retrieved here so asyncio does not log it as never retrieved.
                pending.future.exception()
            elif not pending.future.done():
                live.append(pending)
        if not live:
            return
        self.metrics.observe_batch(len(live))
        try:
            rows = await self.pool.run(self.score_batch, [p.item for p in live])
        except Exception as exc:
            if len(live) == 1:
                live[0].future.set_exception(exc)
            else:
                await self._one_by_one(live)
            return
        for pending, row in zip(live, rows, strict=True):
            if not pending.future.done():
                pending.future.set_result(row)

    async def _one_by_one(self, live: list[_Pending]) -> None:
        """Score each comment alone, so only the one that raises fails its request."""
        for pending in live:
            try:
                row = (await self.pool.run(self.score_batch, [pending.item]))[0]
            except Exception as exc:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            else:
                if not pending.future.done():
                    pending.future.set_result(row)

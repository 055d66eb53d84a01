"""Where the service scores: a few threads of its own, in chunks, stopping for a gone client.

Three things a large request used to do wrong, and what is done here instead:

- It held the event loop's threadpool for minutes and went on after the client left.
  Work is cut into chunks (`CHUNK_COMMENTS` comments or `CHUNK_BYTES` bytes of text), each
  scored in a worker thread; between chunks the request is asked whether its client is
  still there, and a gone client stops the work (`ClientGone`, counted on /metrics).
- Any of anyio's 40 threadpool threads could score, and each thread that allocates gets a
  malloc arena of its own that keeps its peak. Scoring runs only on `scoring_threads`
  threads of a dedicated executor (2 by default), so at most that many arenas grow.
- Freed memory stayed in those arenas. After a request that scored more than
  `TRIM_AFTER_BYTES`, glibc's `malloc_trim(0)` hands the free pages back to the system
  (elsewhere it is not called: it costs a millisecond or so).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request

from app.api.budget import utf8_size
from app.api.errors import ApiError
from app.api.metrics import Metrics

log = logging.getLogger("threadguard.api")

T = TypeVar("T")
R = TypeVar("R")

# A chunk takes about 0.1-0.2 s of one core at most: how late a gone client is noticed.
CHUNK_COMMENTS = 128
CHUNK_BYTES = 16_384
# Requests that scored at least this much text are followed by malloc_trim.
TRIM_AFTER_BYTES = 65_536


class ClientGone(ApiError):
    """The client disconnected while its request was being scored; the work was stopped."""

    def __init__(self) -> None:
        # 499 as nginx logs it: nobody reads the answer, the metrics and the log do.
        super().__init__(499, "the client closed the connection", code="client_closed_request")


def chunks(sizes: Sequence[int]) -> list[range]:
    """Consecutive index ranges of at most CHUNK_COMMENTS items or CHUNK_BYTES bytes.

    A single item larger than CHUNK_BYTES is a chunk of its own.
    """
    out: list[range] = []
    start = 0
    total = 0
    for i, size in enumerate(sizes):
        if i > start and (i - start >= CHUNK_COMMENTS or total + size > CHUNK_BYTES):
            out.append(range(start, i))
            start, total = i, 0
        total += size
    if start < len(sizes):
        out.append(range(start, len(sizes)))
    return out


def _libc_trim() -> Callable[[], None] | None:
    """glibc's malloc_trim(0), or None where there is no glibc (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def call() -> None:
        trim(0)

    return call


class ScoringPool:
    """The threads one app scores on, and the chunked, interruptible way to use them."""

    def __init__(self, threads: int, metrics: Metrics) -> None:
        self.threads = threads
        self.metrics = metrics
        self._executor: ThreadPoolExecutor | None = None
        self._trim = _libc_trim()
        # Called with the endpoint after each chunk (tests use it to disconnect a client).
        self.after_chunk: Callable[[str], None] | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        # Made on first use: an app built but never served (tests, the CLI) starts no thread.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="score")
        return self._executor

    async def run(self, function: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """`function(*args, **kwargs)` on a scoring thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor, functools.partial(function, *args, **kwargs)
        )

    async def in_chunks(
        self,
        request: Request | None,
        items: Sequence[T],
        sizes: Sequence[int],
        score: Callable[[Sequence[T]], list[R]],
        *,
        endpoint: str,
    ) -> list[R]:
        """`score` over `items` chunk by chunk; stops when the client of `request` is gone.

        `sizes` are the items' text bytes (how chunks are cut). The result is the
        concatenation of `score`'s results, in order.

        Raises:
            ClientGone: the client disconnected before the last chunk was scored.
        """
        out: list[R] = []
        try:
            for part in chunks(sizes):
                if request is not None and await request.is_disconnected():
                    self.metrics.observe_abandoned(endpoint)
                    log.info(
                        "client gone: %s stopped after %d of %d", endpoint, len(out), len(items)
                    )
                    raise ClientGone()
                chunk = [items[i] for i in part]
                out.extend(await self.run(score, chunk))
                self.metrics.observe_chunk(endpoint)
                if self.after_chunk is not None:
                    self.after_chunk(endpoint)
        finally:
            if sum(sizes) >= TRIM_AFTER_BYTES:
                await self.trim()
        return out

    async def trim(self) -> None:
        """Give freed heap pages back to the system (glibc only; a no-op elsewhere)."""
        if self._trim is not None:
            await self.run(self._trim)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def sizes_of(texts: Sequence[str]) -> list[int]:
    """The UTF-8 size of each text."""
    return [utf8_size(t) for t in texts]

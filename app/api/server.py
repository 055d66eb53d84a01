"""Deadlines for slow clients, on the HTTP server's side of the connection.

uvicorn times out only idle keep-alive connections: a client that connects and sends its
headers a byte at a time, or never finishes a body, holds a connection (and a file
descriptor, and a slot of the connection limit) for as long as it likes, so a few hundred
of them starve the service. `DeadlineH11Protocol` is uvicorn's h11 protocol with two
deadlines that trickling does not extend:

- the header deadline: a request's whole header block within `header_timeout_s` of its
  first byte (for a new connection, of connecting);
- the body deadline: the whole body within `body_timeout_s` of the headers.

A client past either gets `408 Request Timeout` (when no response has started) and the
connection is closed; a route still reading that body sees a disconnect. Between requests
uvicorn's own keep-alive timeout applies.

`threadguard serve` passes the class to uvicorn by import path (worker processes import
it), after `configure` set the deadlines from the settings in each process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar, Literal

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

# uvicorn's own logger: its lines are shown at the server's log level, beside the others.
log = logging.getLogger("uvicorn.error")

PROTOCOL_PATH = "app.api.server:DeadlineH11Protocol"

Phase = Literal["headers", "body"]


def configure(*, header_timeout_s: float, body_timeout_s: float) -> None:
    """Set the deadlines every connection of this process gets from now on."""
    DeadlineH11Protocol.header_timeout_s = header_timeout_s
    DeadlineH11Protocol.body_timeout_s = body_timeout_s


def _timeout_response(phase: Phase, seconds: float) -> bytes:
    body = json.dumps(
        {
            "error": {
                "code": "request_timeout",
                "message": f"the request {phase} did not arrive within {seconds:g} s",
                "field": None,
            }
        }
    ).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a body deadline per request."""

    header_timeout_s: ClassVar[float] = 10.0
    body_timeout_s: ClassVar[float] = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_phase: Phase | None = None
        # Until its first request, a connection is timed from the moment it was made.
        self._fresh = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _phase(self) -> Phase | None:
        """What the connection waits for from the client now, if a deadline applies."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._fresh = False
            return "body"
        if state is h11.IDLE:
            # Between requests with nothing received yet, uvicorn's keep-alive timer runs.
            pending = bool(self.conn.trailing_data[0])
            return "headers" if self._fresh or pending else None
        self._fresh = False
        return None

    def _watch(self) -> None:
        phase = self._phase()
        if phase == self._deadline_phase:
            return  # a deadline already running is not extended by more bytes
        self._disarm()
        if phase is None:
            return
        seconds = self.header_timeout_s if phase == "headers" else self.body_timeout_s
        self._deadline_phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired, phase, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._deadline_phase = None

    def _expired(self, phase: Phase, seconds: float) -> None:
        self._deadline = None
        self._deadline_phase = None
        if self._phase() != phase:
            # The state moved on without a read of ours (a pipelined request): look again.
            self._watch()
            return
        client = "{}:{}".format(*self.client) if self.client else "a client"
        log.info("closing %s's connection: request %s not in within %g s", client, phase, seconds)
        response_started = self.cycle is not None and self.cycle.response_started
        if not response_started and not self.transport.is_closing():
            self.transport.write(_timeout_response(phase, seconds))
        if self.cycle is not None:
            # A route waiting for the rest of the body sees the client gone.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

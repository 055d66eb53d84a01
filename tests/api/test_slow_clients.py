"""Slow clients against `threadguard serve` itself: real sockets, real deadlines.

Headers trickled a byte at a time, headers that stop half-way, bodies that never finish:
each connection is answered 408 and closed within its deadline (trickling does not extend
it), while `/healthz` keeps answering; past the connection limit new requests get 503 at
once instead of waiting. Every wait here is bounded by the deadlines set below.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.serverutil import (
    LOOPBACK,
    SERVE_COMMAND,
    Server,
    migrated_sqlite_url,
    serve,
    threadguard_environment,
)

pytestmark = pytest.mark.slow

HEADER_S = 1.0
BODY_S = 1.5
# A closed connection may be noticed this much after its deadline (a loaded CI machine).
SLACK_S = 2.0
SLOW_CLIENTS = 200


@pytest.fixture
def server(tiny_model_dir: Path, tmp_path: Path) -> Iterator[Server]:
    env = threadguard_environment(
        tiny_model_dir.parent,
        migrated_sqlite_url(tmp_path),
        header_timeout_s=HEADER_S,
        body_timeout_s=BODY_S,
        log_level="info",
    )
    with serve(SERVE_COMMAND, workdir=tmp_path, env=env) as running:
        yield running


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _connect(server: Server, first: bytes) -> socket.socket:
    connection = socket.create_connection((LOOPBACK, _port(server)), timeout=5)
    if first:
        connection.sendall(first)
    connection.setblocking(False)
    return connection


def _trickle(connections: list[socket.socket], stop: threading.Event) -> None:
    # One more header byte every 0.1 s: never a whole header block, always "active".
    while not stop.wait(0.1):
        for connection in connections:
            try:
                connection.send(b"x")
            except OSError:
                continue


def _closed_at(connections: dict[socket.socket, str], started: float, limit: float) -> dict:
    """When the server closed each connection (seconds from `started`), and what it sent."""
    selector = selectors.DefaultSelector()
    for connection in connections:
        selector.register(connection, selectors.EVENT_READ)
    received: dict[socket.socket, bytes] = dict.fromkeys(connections, b"")
    closed: dict[socket.socket, float] = {}
    while len(closed) < len(connections) and time.monotonic() - started < limit:
        for key, _ in selector.select(timeout=0.1):
            connection = key.fileobj
            assert isinstance(connection, socket.socket)
            try:
                data = connection.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if data:
                received[connection] += data
                continue
            closed[connection] = time.monotonic() - started
            selector.unregister(connection)
    selector.close()
    return {"closed": closed, "received": received}


def test_slow_clients_are_closed_within_their_deadlines_while_healthz_answers(
    server: Server,
) -> None:
    kinds: dict[socket.socket, str] = {}
    started = time.monotonic()
    for number in range(SLOW_CLIENTS):
        kind = ("silent", "half-headers", "trickle", "half-body")[number % 4]
        first = {
            "silent": b"",
            "half-headers": b"POST /v1/score HTTP/1.1\r\nHost: x\r\n",
            "trickle": b"GET /healthz HTTP/1.1\r\nX-Slow: ",
            "half-body": b"POST /v1/score HTTP/1.1\r\nHost: x\r\ncontent-type: application/json"
            b'\r\ncontent-length: 400\r\n\r\n{"text": "never fin',
        }[kind]
        kinds[_connect(server, first)] = kind
    stop = threading.Event()
    trickling = [connection for connection, kind in kinds.items() if kind == "trickle"]
    trickler = threading.Thread(target=_trickle, args=(trickling, stop), daemon=True)
    trickler.start()
    healthy: list[float] = []
    try:
        with httpx.Client(timeout=3.0, trust_env=False) as client:
            while time.monotonic() - started < HEADER_S:
                asked = time.monotonic()
                assert client.get(f"{server.url}/healthz").status_code == 200
                healthy.append(time.monotonic() - asked)
                time.sleep(0.05)
        outcome = _closed_at(kinds, started, BODY_S + SLACK_S + 3)
    finally:
        stop.set()
        trickler.join(5)
        for connection in kinds:
            connection.close()
    assert healthy and max(healthy) < 1.0, healthy
    closed, received = outcome["closed"], outcome["received"]
    assert len(closed) == SLOW_CLIENTS, f"{SLOW_CLIENTS - len(closed)} connections still open"
    for connection, kind in kinds.items():
        deadline = BODY_S if kind == "half-body" else HEADER_S
        assert deadline - 0.2 <= closed[connection] <= deadline + SLACK_S, (kind, closed)
        answer = received[connection]
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), (kind, answer[:80])
        phase = b"body" if kind == "half-body" else b"headers"
        assert b'"code": "request_timeout"' in answer and b"request " + phase in answer


def test_a_request_within_its_deadlines_and_keep_alive_are_unaffected(server: Server) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    connection = socket.create_connection((LOOPBACK, _port(server)), timeout=5)
    try:
        for _ in range(3):
            # The header block in three parts over 0.6 s: inside the 1 s deadline.
            for part in (request[:10], request[10:20], request[20:]):
                connection.sendall(part)
                time.sleep(0.2)
            answer = connection.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200 OK"), answer
            # Idle between requests for longer than the header deadline: keep-alive rules.
            time.sleep(HEADER_S + 0.3)
    finally:
        connection.close()


def test_past_the_connection_limit_new_requests_get_503_at_once(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    env = threadguard_environment(
        tiny_model_dir.parent,
        migrated_sqlite_url(tmp_path),
        header_timeout_s=HEADER_S,
        max_connections=20,
        log_level="info",
    )
    with serve(SERVE_COMMAND, workdir=tmp_path, env=env) as running:
        idle = [_connect(running, b"") for _ in range(25)]
        try:
            with httpx.Client(timeout=3.0, trust_env=False) as client:
                asked = time.monotonic()
                refused = client.get(f"{running.url}/healthz")
                assert refused.status_code == 503
                assert time.monotonic() - asked < 1.0
                # The idle ones are closed at the header deadline, and the service is back.
                time.sleep(HEADER_S + SLACK_S)
                assert client.get(f"{running.url}/healthz").status_code == 200
        finally:
            for connection in idle:
                connection.close()

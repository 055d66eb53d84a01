"""A real uvicorn server in a subprocess, on a free loopback port, for tests and benchmarks.

`TestClient` runs the app inside the test's own process; these helpers run what production
runs instead: the uvicorn command line, worker processes, real sockets, and the app factory
reading its settings from THREADGUARD_* variables.

    with threadguard_server(model_dir, tmp_path) as server:
        httpx.post(f"{server.url}/v1/score", json={"text": "hi"})

Every wait is bounded; a server that exits or never becomes healthy raises `ServerError`
with the tail of its log, and `stop()` always ends the process group it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"
# uvicorn prints this once per worker after the factory has built the app (model loaded).
_STARTED = "Application startup complete"
# Another process can take the port between `free_port()` and uvicorn's bind.
_PORT_ATTEMPTS = 3
SERVE_COMMAND = "threadguard serve"


class ServerError(RuntimeError):
    """The server subprocess did not start, or stopped when it should be serving."""


@dataclass
class Server:
    """A running uvicorn subprocess (the leader of its own process group)."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    workers: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop gracefully (SIGTERM), then kill the whole group if it outlives `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                # The group is the server and its workers: ids we started, nothing else.
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        return self.process.returncode


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def migrated_sqlite_url(folder: Path, name: str = "threadguard.db") -> str:
    """A new SQLite database in `folder`, migrated to the latest schema."""
    from app.queue.store import upgrade

    url = f"sqlite:///{folder / name}"
    upgrade(url)
    return url


def uvicorn_command(
    target: str,
    *,
    port: int,
    workers: int = 1,
    factory: bool = True,
    app_dir: Path | None = None,
    access_log: bool = False,
) -> list[str]:
    """The `python -m uvicorn …` command line serving `target` on the loopback address.

    Log level `info` (without the per-request access log unless asked) so that each
    worker's start-up line can be seen.
    """
    command = [sys.executable, "-m", "uvicorn", target, "--host", LOOPBACK, "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "info"]
    if factory:
        command.append("--factory")
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    if not access_log:
        command.append("--no-access-log")
    return command


def server_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without THREADGUARD_* settings, then `overrides`.

    Inherited THREADGUARD_* variables are dropped so a developer's shell cannot change
    what a test or a benchmark measures.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("THREADGUARD_")}
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@contextmanager
def serve(
    target: str,
    *,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
    factory: bool = True,
    app_dir: Path | None = None,
    health_path: str = "/healthz",
    startup_timeout: float = 90.0,
    access_log: bool = False,
) -> Iterator[Server]:
    """Run uvicorn serving `target` until the block ends; yield it once every worker is up.

    `target` "threadguard serve" runs the command itself (its uvicorn options included),
    configured by `env` alone. The server runs in `workdir` (so no `.env` of the caller's
    working directory is read) and logs to `workdir/uvicorn-<port>.log`.

    Raises:
        ServerError: the server exited, or was not healthy within `startup_timeout` seconds.
    """
    server = _start(
        target,
        workdir=workdir,
        env=server_environment(env or {}),
        workers=workers,
        factory=factory,
        app_dir=app_dir,
        health_path=health_path,
        startup_timeout=startup_timeout,
        access_log=access_log,
    )
    try:
        yield server
    finally:
        server.stop()


def _start(
    target: str,
    *,
    workdir: Path,
    env: dict[str, str],
    workers: int,
    factory: bool,
    app_dir: Path | None,
    health_path: str,
    startup_timeout: float,
    access_log: bool,
) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(_PORT_ATTEMPTS):
        port = free_port()
        if target == SERVE_COMMAND:
            command = [sys.executable, "-m", "app.cli", "serve", "--host", LOOPBACK]
            command += ["--port", str(port), "--workers", str(workers)]
        else:
            command = uvicorn_command(
                target,
                port=port,
                workers=workers,
                factory=factory,
                app_dir=app_dir,
                access_log=access_log,
            )
        log_path = workdir / f"uvicorn-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(process, f"http://{LOOPBACK}:{port}", log_path, workers)
        try:
            _wait_until_up(server, health_path, startup_timeout)
        except ServerError:
            server.stop()
            if "address already in use" in server.log().lower() and attempt + 1 < _PORT_ATTEMPTS:
                continue
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover


def _wait_until_up(server: Server, health_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    healthy = False
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise ServerError(
                    f"the server exited with status {server.process.returncode} before it "
                    f"was ready:\n{server.log_tail()}"
                )
            if not healthy:
                with suppress(httpx.TransportError):
                    healthy = client.get(server.url + health_path).status_code == 200
            if healthy and server.log().count(_STARTED) >= server.workers:
                return
            time.sleep(0.1)
    raise ServerError(
        f"the server was not ready on {server.url} within {timeout:.0f} s:\n{server.log_tail()}"
    )


def threadguard_environment(
    model_dir: Path, database_url: str, **settings: object
) -> dict[str, str]:
    """THREADGUARD_* variables for a service on loopback with this model folder and database.

    `model_dir` is the folder holding CURRENT (e.g. the parent of a version directory);
    `settings` are further Settings fields, e.g. `max_batch=50`.
    """
    env = {
        "THREADGUARD_MODEL_DIR": str(model_dir),
        "THREADGUARD_DATABASE_URL": database_url,
        "THREADGUARD_HOST": LOOPBACK,
        "THREADGUARD_LOG_LEVEL": "warning",
    }
    env.update({f"THREADGUARD_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@contextmanager
def threadguard_server(
    model_dir: Path,
    workdir: Path,
    *,
    workers: int = 1,
    startup_timeout: float = 90.0,
    **settings: object,
) -> Iterator[Server]:
    """The threadguard service (`create_app_from_env`) on a fresh, migrated SQLite database.

    Raises:
        ServerError: see `serve`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = migrated_sqlite_url(workdir)
    with serve(
        "app.api.app:create_app_from_env",
        workdir=workdir,
        env=threadguard_environment(model_dir, database_url, **settings),
        workers=workers,
        startup_timeout=startup_timeout,
    ) as server:
        yield server

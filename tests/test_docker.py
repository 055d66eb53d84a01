"""The Docker image as it ships: a container of it serves, scores and holds one bundle.

Uses the image THREADGUARD_DOCKER_IMAGE (default threadguard:latest) as it is already built,
since building takes minutes and needs a base image; THREADGUARD_DOCKER_BUILD=1 builds it
first with `make docker` (`make docker-test` builds it, then runs this file). Skipped when no
Docker daemon answers, the image is missing, or it was built from another models/CURRENT;
THREADGUARD_REQUIRE_DOCKER=1 turns those skips into failures. The container uses the host's
network (`make docker-daemon` starts a daemon with no bridge) on a free port, so every request
goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REQUIRE_VARIABLE = "THREADGUARD_REQUIRE_DOCKER"
BUILD_VARIABLE = "THREADGUARD_DOCKER_BUILD"
IMAGE = os.environ.get("THREADGUARD_DOCKER_IMAGE", "threadguard:latest")
DOCKER = os.environ.get("DOCKER", "docker")
MODELS = ROOT / "models"
# The service loads a bundle and runs migrations before it listens: seconds on an idle
# machine, far more on a loaded one.
START_TIMEOUT = 120.0
COMMENT = {"text": "You are an idiot."}


def _missing(message: str) -> NoReturn:
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1 requires the Docker tests to run)")
    pytest.skip(message)


def _docker(
    *args: str, timeout: float = 60.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=check
    )


def _current_version() -> str:
    # The first field of the first line: CURRENT may also carry the bundle's digest.
    return (MODELS / "CURRENT").read_text(encoding="utf-8").split()[0]


@pytest.fixture(scope="module")
def image() -> str:
    """The image's tag, once a daemon answers and the image exists (built here if asked)."""
    if shutil.which(DOCKER) is None:
        _missing(f"needs the docker client ({DOCKER}) on PATH")
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    except subprocess.TimeoutExpired:
        _missing("`docker info` did not answer in 30 s: no Docker daemon")
    if info.returncode != 0:
        _missing(
            "no Docker daemon answers (`docker info` failed; `make docker-daemon` starts one): "
            + (info.stderr.strip().splitlines() or ["no output"])[-1]
        )
    if os.environ.get(BUILD_VARIABLE) == "1":
        build = subprocess.run(
            ["make", "docker", f"IMAGE={IMAGE}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1_800,
            check=False,
        )
        if build.returncode != 0:
            pytest.fail(
                f"`make docker IMAGE={IMAGE}` failed:\n"
                f"{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
            )
    if _docker("image", "inspect", IMAGE, check=False).returncode != 0:
        _missing(f"image {IMAGE} is not built: `make docker` (or set {BUILD_VARIABLE}=1)")
    # An image left from before CURRENT moved says nothing about this checkout; failing on it
    # would turn every model change into a red suite until someone rebuilds.
    served = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "cat",
        IMAGE, "/srv/threadguard/models/CURRENT",
    ).stdout.split()[:1]  # fmt: skip
    if served != [_current_version()]:
        _missing(
            f"image {IMAGE} serves {served or 'nothing'}, this checkout's models/CURRENT names "
            f"{_current_version()}: rebuild it with `make docker`"
        )
    return IMAGE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Container:
    name: str
    url: str

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return _docker("exec", self.name, *argv)

    def logs(self) -> str:
        result = _docker("logs", "--tail", "40", self.name, check=False)
        return result.stdout + result.stderr


def _request(
    url: str, body: dict[str, Any] | None = None, key: str | None = None
) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _wait_healthy(container: Container) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = _docker("inspect", "--format", "{{.State.Running}}", container.name, check=False)
        if state.stdout.strip() != "true":
            pytest.fail(f"container {container.name} stopped while starting:\n{container.logs()}")
        try:
            status, _ = _request(f"{container.url}/healthz")
            if status == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"/healthz did not answer in {START_TIMEOUT:.0f} s:\n{container.logs()}")


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[Container]:
    """The service from the image with its own CMD (migrations, then serve), on 0.0.0.0."""
    port = _free_port()
    name = f"threadguard-test-{uuid.uuid4().hex[:12]}"
    _docker(
        "run", "--detach", "--name", name, "--network", "host",
        "--label", "threadguard.test=1",
        "--env", f"THREADGUARD_PORT={port}",
        image,
    )  # fmt: skip
    running = Container(name=name, url=f"http://127.0.0.1:{port}")
    try:
        _wait_healthy(running)
        yield running
    finally:
        _docker("rm", "--force", "--volumes", name, check=False)


def test_healthz_answers(container: Container) -> None:
    status, body = _request(f"{container.url}/healthz")
    assert (status, body) == (200, {"status": "ok"})


def test_service_runs_as_non_root(container: Container) -> None:
    assert container.exec("id", "-u").stdout.strip() == "10001"
    # PID 1 is the server itself (the CMD execs it): real, effective, saved and fs uids.
    status = container.exec("cat", "/proc/1/status").stdout
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert uids and all(uid != "0" for uid in uids), status


def test_scores_a_comment_with_a_key_only(container: Container) -> None:
    status, body = _request(f"{container.url}/v1/score", COMMENT)
    assert status == 401, body

    made = container.exec("threadguard", "keys", "create", "--role", "scorer")
    lines = made.stdout.strip().splitlines()
    assert len(lines) == 1, made.stdout  # stdout is the key alone, so scripts can capture it
    status, body = _request(f"{container.url}/v1/score", COMMENT, key=lines[0])

    assert status == 200, body
    assert body["model_version"] == _current_version()
    assert body["scores"]["toxic"] > 0.5
    assert "toxic" in body["flags"]


def test_image_holds_only_the_current_bundle(image: str) -> None:
    listing = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "ls",
        image, "-A", "/srv/threadguard/models",
    )  # fmt: skip
    version = _current_version()
    expected = {"CURRENT", version, f"{version}.sha256"} | (
        {"README.md"} if (MODELS / "README.md").exists() else set()
    )
    others = {p.name for p in MODELS.iterdir() if p.is_dir() and p.name != version}
    found = set(listing.stdout.split())
    assert found == expected, f"image {image} has {sorted(found)}; models/CURRENT names {version}"
    assert not found & others


def test_image_has_the_compiled_module_and_no_compiler(image: str) -> None:
    # g++ and the build's extra CA belong to the build stage only; the extension it compiled
    # must have come along, or the service would silently run the slower twins.
    probe = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
        "cd / && python -c 'import app._speedups' && echo compiled; "
        "for tool in g++ gcc cc c++; do command -v $tool; done; "
        "ls /usr/local/share/ca-certificates",
    )  # fmt: skip
    assert probe.stdout.split() == ["compiled"], probe.stdout

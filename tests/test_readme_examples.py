"""Every `curl` example in the README works against a real server with the shipped model.

A README `sh` block made only of curl commands and shell variable assignments is run as
written, from the repository root (so its relative paths hold), against a real uvicorn
server: the address is replaced by the test server's and `-f` added to curl so an HTTP
error fails the test. Blocks that use `$KEY` run after a key is made, as the README says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.serverutil import threadguard_server
from tests.conftest import ROOT, SEEDS, shared_file

README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ADDRESS = "http://127.0.0.1:8000"
# The secret the README's Coral example says to start the service with.
CORAL_SECRET = "whsec-example-0123456789abcdef"
# The README's examples send these keys; each is made with its role before they run.
KEY_VARIABLES = {"KEY": "scorer", "MODKEY": "moderator", "ADMINKEY": "admin"}


def curl_blocks() -> list[str]:
    """The README's sh blocks that only call curl against the service (and set variables)."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL):
        commands = [
            line
            for line in re.sub(r"\\\n", " ", block).splitlines()
            if line.strip() and not line.startswith((" ", "\t", "#"))
        ]
        if README_ADDRESS in block and all(
            line.startswith("curl ") or re.match(r"^[A-Z_]+=", line) for line in commands
        ):
            found.append(block)
    return found


def test_the_readme_has_curl_examples_for_every_endpoint() -> None:
    text = "\n".join(curl_blocks())
    for path in (
        "/v1/score",
        "/v1/threads",
        "/v1/model",
        "/readyz",
        "/metrics",
        "/v1alpha1/comments:analyze",
        "/v1/integrations/coral",
        "/v1/queue/items",
        "/v1/queue/stats",
        "/v1/queue/export",
    ):
        assert path in text, path


@pytest.mark.slow
def test_every_curl_example_works(tmp_path: Path) -> None:
    shared_file(SEEDS)
    blocks = curl_blocks()
    workdir = tmp_path / "server"
    with threadguard_server(ROOT / "models", workdir, coral_secret=CORAL_SECRET) as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("THREADGUARD_")},
            "THREADGUARD_DATABASE_URL": f"sqlite:///{workdir / 'threadguard.db'}",
        }
        keyed = [b for b in blocks if any(f"${name}" in b for name in KEY_VARIABLES)]
        for block in (b for b in blocks if b not in keyed):
            _run(block.replace(README_ADDRESS, server.url), env)
        # Once a key exists nothing is anonymous, so the keyed examples come last.
        for name, role in KEY_VARIABLES.items():
            env[name] = _create_key(role, env)
        assert keyed
        for block in keyed:
            _run(block.replace(README_ADDRESS, server.url), env)


def _create_key(role: str, env: dict[str, str]) -> str:
    created = subprocess.run(
        [str(Path(sys.executable).parent / "threadguard"), "keys", "create", "--role", role],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    secret = created.stdout.strip()
    assert secret.startswith("tg_")
    return secret


def _run(block: str, env: dict[str, str]) -> None:
    expected = re.match(r"# answers (\d{3})", block)
    if expected:
        # An example of an error: its status is checked instead of failing on it.
        script = re.sub(r"(^|\n)curl -s\b", r"\1curl -sS -o /dev/null -w '%{http_code}'", block)
    else:
        script = re.sub(r"(^|\n)curl -s\b", r"\1curl -sSf", block)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, f"{block}\n--- stdout\n{result.stdout[-2000:]}\n{result.stderr}"
    assert result.stdout.strip(), block
    if expected:
        assert result.stdout.strip() == expected.group(1), block

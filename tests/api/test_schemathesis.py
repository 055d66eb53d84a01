"""The schemathesis command line, every check and every phase, against `threadguard serve`.

This is what a client's engineer would run against the spec: examples, coverage (each
boundary and each violation of each rule), fuzzing and stateful sequences, judged by all of
schemathesis' checks (schema-valid requests accepted, schema-violating ones refused, status
codes, content types, response schemas and headers, `Allow` on unsupported methods,
authentication). `schemathesis.toml` beside this file lists the two exceptions the spec
cannot express, each with its reason. Bounded: a fixed seed and a fixed number of examples
per operation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.serverutil import (
    SERVE_COMMAND,
    Server,
    migrated_sqlite_url,
    serve,
    threadguard_environment,
)

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
CORAL_SECRET = "schemathesis-coral-signing-secret-0123456789"
EXAMPLES = 25
SEED = 20261204
# A run takes about 40 s on two cores; this only stops a hung one.
TIMEOUT_S = 600


@pytest.fixture
def admin_server(tiny_model_dir: Path, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    from app.auth import Role
    from app.queue.keys import SqlKeyStore
    from app.queue.store import make_engine

    url = migrated_sqlite_url(tmp_path)
    engine = make_engine(url)
    secret = SqlKeyStore(engine).create(Role.admin, "schemathesis").secret
    engine.dispose()
    env = threadguard_environment(
        tiny_model_dir.parent, url, coral_secret=CORAL_SECRET, log_level="info"
    )
    with serve(SERVE_COMMAND, workdir=tmp_path, env=env) as running:
        # Items to decide on, so the decision operations reach more than their 404.
        body = {
            "source": "https://example.org/2026/12/bridge",
            "comments": [
                {"comment_id": f"c{n}", "text": "You are an idiot.", "report": {"reason": "spam"}}
                for n in range(3)
            ],
        }
        answer = httpx.post(
            f"{running.url}/v1/queue/items",
            json=body,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        yield running, secret


def test_schemathesis_finds_no_mismatch_between_spec_and_service(
    admin_server: tuple[Server, str], tmp_path: Path
) -> None:
    server, secret = admin_server
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--header",
        f"Authorization: Bearer {secret}",
        "--no-color",
    ]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    done = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-20_000:]
    # Every operation was reached and none failed or could not be generated.
    assert "16 selected / 16 total" in report, report[-5_000:]
    assert "Schema Error" not in report and "failures" not in report.lower(), report[-5_000:]

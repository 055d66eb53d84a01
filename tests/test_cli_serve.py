"""`threadguard serve`'s banner: its curl line is one pasteable command that scores.

uvicorn is stubbed out: the test takes the app serve built and sends it the request the
banner's curl line describes, read the way a shell reads it (`shlex.split`).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app, curl_example


def _serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_dir: Path) -> tuple[str, Any]:
    """serve's stderr at 80 columns, and the app it would have run."""
    import uvicorn

    from app.api import server
    from app.queue.store import upgrade

    url = f"sqlite:///{tmp_path / 'threadguard.db'}"
    upgrade(url)
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda service, **options: served.append(service))
    monkeypatch.setattr(server, "configure", lambda **deadlines: None)
    argv = ["serve", "--database-url", url, "--model-dir", str(model_dir)]
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    return result.stderr, served[0]


def _curl_request(line: str) -> tuple[str, str, dict[str, str], str]:
    """The method, URL, headers and body of a curl command line (the options it uses)."""
    argv = shlex.split(line)
    assert argv[0] == "curl"
    url, headers, body = None, {}, None
    words = iter(argv[1:])
    for word in words:
        if word == "-s":
            continue
        if word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(words)
        else:
            assert not word.startswith("-"), f"an option this test does not know: {word}"
            assert url is None, "two URLs"
            url = word
    assert url is not None and body is not None
    # -d makes curl POST, with a form content type unless a header says otherwise.
    return "POST", url, headers, body


def test_the_banners_curl_line_scores_a_comment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_model_dir: Path
) -> None:
    stderr, service = _serve(monkeypatch, tmp_path, tiny_model_dir.parent)
    lines = stderr.splitlines()
    curls = [line for line in lines if "curl" in line]
    # Alone on its line from its first character: a triple click copies the command only.
    assert len(curls) == 1 and curls[0].startswith("curl ")
    assert curls[0] == curl_example("127.0.0.1", 8000)
    method, url, headers, body = _curl_request(curls[0])
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1", 8000)
    assert headers == {"content-type": "application/json"}
    with TestClient(service) as client:
        response = client.request(method, parts.path, headers=headers, content=body)
    assert response.status_code == 200, response.text
    assert set(response.json()["scores"]) == {"hate", "toxic", "conspiracy"}
    assert json.loads(body)["text"] in stderr  # the example is what the line says


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/v1/score"),
        ("0.0.0.0", "http://127.0.0.1:8000/v1/score"),
        ("::", "http://[::1]:8000/v1/score"),
        ("[::1]", "http://[::1]:8000/v1/score"),
        ("localhost", "http://localhost:8000/v1/score"),
    ],
)
def test_the_curl_line_reaches_the_service_from_this_machine(host: str, url: str) -> None:
    assert _curl_request(curl_example(host, 8000))[1] == url

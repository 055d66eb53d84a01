"""Reading an input named on the command line: a file, stdin (`-`), or a URL if allowed."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from app.errors import FetchError, InputTooLarge, ParseError

FETCH_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Source:
    """The bytes of an input and, when it came from the web, its URL."""

    data: bytes
    url: str | None = None


def read_source(spec: str, *, allow_fetch: bool, max_bytes: int) -> Source:
    """Read `spec`: a path, `-` for stdin, or an http(s) URL when `allow_fetch` is set.

    Raises:
        FetchError: a URL was given without `allow_fetch`, or fetching it failed.
        InputTooLarge: the input is over `max_bytes`.
        ParseError: the file does not exist or is not a regular file.
    """
    if spec.startswith(("http://", "https://")):
        if not allow_fetch:
            raise FetchError(f"{spec} is a URL; fetching is off unless you pass --allow-fetch")
        return Source(_fetch(spec, max_bytes), url=spec)
    if spec == "-":
        return Source(_capped(sys.stdin.buffer.read(max_bytes + 1), "stdin", max_bytes))
    path = Path(spec)
    if not path.exists():
        raise ParseError(f"no such file: {spec}")
    if not path.is_file():
        raise ParseError(f"not a regular file: {spec}")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputTooLarge(f"{spec} is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    return Source(path.read_bytes())


def _fetch(url: str, max_bytes: int) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "threadguard"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
            return _capped(response.read(max_bytes + 1), url, max_bytes)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"fetching {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(f"fetching {url} failed: {exc}") from exc


def _capped(data: bytes, name: str, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise InputTooLarge(f"{name} is over the limit of {max_bytes:,} bytes")
    return data

"""Decide an input's format from its content, never from a file name."""

from __future__ import annotations

import csv
import io
import json
import re

from app.errors import ParseError
from app.threads.options import CANDIDATES, normalise_name

_SNIFF_BYTES = 64 * 1024
_TEXT_HEADER_RE = re.compile(r"(?m)^[ \t]*\d{1,4}\.[ \t]+\S.{0,200}?[ \t]+(?:says|said|wrote)\b")
_XML_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.:-]*)[\s>/]")


def detect_format(data: bytes) -> str:
    """Name the format of `data` (a key of `app.threads.FORMATS`).

    Raises:
        ParseError: empty, binary, or text of no known format; the message says what was seen.
    """
    head = data[:_SNIFF_BYTES]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise ParseError("input is empty")
    if looks_binary(head):
        raise ParseError(f"input looks binary, not text (starts with {data[:8]!r})")
    if stripped.startswith(b"<"):
        return _detect_markup(stripped)
    if stripped[:1] in (b"{", b"["):
        return _detect_json(stripped)
    text = head.decode("utf-8", errors="replace")
    if _TEXT_HEADER_RE.search(text):
        return "text"
    if _looks_csv(text):
        return "csv"
    first = text.strip().splitlines()[0][:60]
    raise ParseError(
        "unrecognised input: not HTML, XML, JSON or CSV, and no numbered "
        f"'1. Name says' comment headers (starts with {first!r})"
    )


def looks_binary(head: bytes) -> bool:
    """True when the bytes are not text: NULs (outside UTF-16) or many control bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 127)
    return controls > max(8, len(head) // 100)


def _detect_markup(head: bytes) -> str:
    lowered = head.lower()
    if b"<rss" in lowered and (b"wordpress.org/export" in lowered or b"<wp:" in lowered):
        return "wxr"
    if b"<disqus" in lowered:
        return "disqus"
    if re.search(rb"<(!doctype html|html|head|body|div|article|ol|ul|li|p|section)[\s>]", lowered):
        return "html"
    root = _first_element(head)
    raise ParseError(
        f"XML document with root <{root}> is neither a WordPress WXR nor a Disqus export"
    )


def _first_element(head: bytes) -> str:
    for match in _XML_ROOT_RE.finditer(head):
        name = match.group(1).decode("ascii", errors="replace")
        if not name.startswith(("?", "!")):
            return name
    return "?"


_THREADGUARD_RE = re.compile(rb'"schema"\s*:\s*"threadguard\.thread/')
_REDDIT_RE = re.compile(rb'"kind"\s*:\s*"Listing"')
_DISCOURSE_RE = re.compile(rb'"post_stream"\s*:\s*\{')
_REDDIT_THING_RE = re.compile(rb'"kind"\s*:\s*"(?:t1|t3|more)"')


def _detect_json(head: bytes) -> str:
    """Tell the JSON formats apart from the first bytes, without reading the whole input:
    the parser reads it once, and its errors name what is broken."""
    if head.startswith(b"{") and _THREADGUARD_RE.search(head):
        return "threadguard-json"
    # Discourse writes post_stream first in a topic, so it is within the sniffed bytes.
    if head.startswith(b"{") and _DISCOURSE_RE.search(head) and b'"post_number"' in head:
        return "discourse"
    if _REDDIT_RE.search(head) and _REDDIT_THING_RE.search(head):
        return "reddit"
    first, _, rest = head.partition(b"\n")
    if first.rstrip().endswith(b"}") and rest.strip():
        try:
            if isinstance(json.loads(first), dict):
                return "jsonl"
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            pass
    return "json"


def _looks_csv(text: str) -> bool:
    lines = text.splitlines()
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|")
    except csv.Error:
        return False
    header = next(csv.reader(io.StringIO(lines[0]), dialect))
    known = {normalise_name(n) for key in ("id", "parent") for n in CANDIDATES[key]}
    return len(header) >= 2 and any(normalise_name(h) in known for h in header)

"""threadguard's own JSON form (`Thread.to_dict()`), read back."""

from __future__ import annotations

from app.domain import Thread
from app.threads.jsonutil import load_json
from app.threads.options import ParseOptions, decode_text


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Read a thread written by `Thread.to_dict()`.

    Raises:
        ParseError: not JSON, or not a consistent thread.
    """
    value = load_json(decode_text(data))
    return Thread.from_dict(value)

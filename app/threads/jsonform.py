"""threadguard's own JSON form (`Thread.to_dict()`), read back."""

from __future__ import annotations

import json

from app.domain import Thread
from app.errors import ParseError
from app.threads.options import ParseOptions, decode_text


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Read a thread written by `Thread.to_dict()`.

    Raises:
        ParseError: not JSON, or not a consistent thread.
    """
    try:
        value = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise ParseError("JSON is nested too deeply to read") from exc
    return Thread.from_dict(value)

"""Reading JSON inputs with errors that name where they went wrong."""

from __future__ import annotations

import json
from typing import Any

from app.errors import ParseError


def load_json(text: str, where: str = "JSON", *, too_deep_hint: str = "") -> Any:
    """Decode `text`; `where` names it in errors ("JSON", "line 7", …).

    Raises:
        ParseError: invalid JSON, or nested deeper than Python's JSON reader allows.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if where == "JSON":
            raise ParseError(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from exc
        raise ParseError(f"{where} is not valid JSON (column {exc.colno}: {exc.msg})") from exc
    except RecursionError as exc:
        detail = f"; {too_deep_hint}" if too_deep_hint else ""
        raise ParseError(f"JSON is nested too deeply to read ({where}){detail}") from exc


_TYPE_NAMES: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def describe_type(value: Any) -> str:
    """How an error message names a JSON value's type: "an object", "null", …"""
    if value is None:
        return "null"
    return _TYPE_NAMES.get(type(value), f"a {type(value).__name__}")

"""Parsing comment pages into a `Thread`: one module per input format, chosen by content.

`parse(data)` sniffs the format (see `detect.py`); `parse(data, format="wxr")` forces one.
Every parser returns through `tree.build_thread`, so repairs (orphans, cycles, duplicate
ids) are the same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib import import_module
from typing import TYPE_CHECKING

from app.errors import InputTooLarge, ParseError
from app.threads import detect
from app.threads.options import Columns, ParseOptions

if TYPE_CHECKING:
    # Only named in annotations: app.domain builds pydantic adapters on import, and the
    # CLI imports this package for FORMATS when it only prints help.
    from app.domain import Thread

__all__ = ["FORMATS", "Columns", "ParseOptions", "parse", "parser_for"]

Parser = Callable[[bytes, ParseOptions], "Thread"]

# Format name -> (module, function). Modules are imported on first use, so a caller that
# parses one format never pays for (or depends on) the others.
_PARSERS: dict[str, tuple[str, str]] = {
    "threadguard-json": ("app.threads.jsonform", "parse"),
    "text": ("app.threads.textdump", "parse"),
    "html": ("app.threads.htmlpage", "parse"),
    "wordpress": ("app.threads.wordpress", "parse"),
    "blogger": ("app.threads.blogger", "parse"),
    "html-generic": ("app.threads.generic_html", "parse"),
    "hackernews": ("app.threads.hackernews", "parse"),
    "forum": ("app.threads.forum", "parse"),
    "wxr": ("app.threads.wxr", "parse"),
    "disqus": ("app.threads.disqus", "parse"),
    "disqus-html": ("app.threads.disqus_html", "parse"),
    "reddit": ("app.threads.reddit", "parse"),
    "reddit-html": ("app.threads.reddit_html", "parse"),
    "discourse": ("app.threads.discourse", "parse"),
    "discourse-html": ("app.threads.discourse_html", "parse"),
    "json": ("app.threads.records", "parse_json"),
    "jsonl": ("app.threads.records", "parse_jsonl"),
    "csv": ("app.threads.records", "parse_csv"),
}

FORMATS: tuple[str, ...] = tuple(_PARSERS)
"""Every format name `parse(format=...)` accepts; `html` picks the HTML variant itself."""


def parser_for(format: str) -> Parser:
    """The parse function of a format.

    Raises:
        ParseError: `format` is not a known format name.
    """
    if format not in _PARSERS:
        raise ParseError(
            f"unknown format {format!r}; choose one of {', '.join(FORMATS)}", field="format"
        )
    module, name = _PARSERS[format]
    parser: Parser = getattr(import_module(module), name)
    return parser


def parse(
    data: bytes | str,
    *,
    format: str | None = None,
    options: ParseOptions | None = None,
    original: bytes | str | None = None,
) -> Thread:
    """Parse a comment page or export into a `Thread`, marking where its article came from.

    With `original` (the article the page reposts: text, Markdown or HTML), each article
    paragraph is marked quoted, edited or own by comparison; without it, from markup.

    Raises:
        InputTooLarge: the input is over `options.max_bytes`.
        ParseError: the input is empty, not a known format, or broken; the message says
            what was seen.
    """
    options = options or ParseOptions()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > options.max_bytes:
        raise InputTooLarge(
            f"input is {len(raw):,} bytes, over the limit of {options.max_bytes:,} bytes"
        )
    thread = parser_for(format or detect.detect_format(raw))(raw, options)
    if len(thread.comments) > options.max_comments:
        raise InputTooLarge(
            f"input has {len(thread.comments):,} comments, over the limit of "
            f"{options.max_comments:,}"
        )
    # Imported here for the same reason as the parsers.
    from app.threads.provenance import apply_provenance, read_original

    source = read_original(original) if original is not None else None
    return replace(thread, article=apply_provenance(thread.article, source))

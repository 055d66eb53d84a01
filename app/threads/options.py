"""What a parser may be told besides the bytes: column names, limits, the page's URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import ParseError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Inputs above this are refused before parsing; a 50 MB page still fits."""

DEFAULT_MAX_COMMENTS = 500_000


@dataclass(frozen=True, slots=True)
class Columns:
    """Field names for the generic JSON / JSONL / CSV formats.

    `None` for `id`, `parent`, `text`, `author` or `date` means: detect from the
    usual names (see `CANDIDATES`).
    """

    id: str | None = None
    parent: str | None = None
    text: str | None = None
    author: str | None = None
    date: str | None = None


CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("id", "comment_id", "commentId", "_id"),
    "parent": ("parent", "parent_id", "parentId", "in_reply_to", "reply_to"),
    "text": ("text", "body", "content", "message", "comment"),
    "author": ("author", "user", "username", "name"),
    "date": ("date", "created_at", "timestamp", "posted_at", "time"),
}
"""The usual field names for each `Columns` field, most likely first."""


def normalise_name(name: str) -> str:
    """A field name without case, spaces, `_` or `-`: `Parent ID` matches `parent_id`."""
    return re.sub(r"[\W_]+", "", name).lower()


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Everything a parser may use besides the input bytes."""

    url: str | None = None
    columns: Columns = Columns()
    max_bytes: int = DEFAULT_MAX_BYTES
    max_comments: int = DEFAULT_MAX_COMMENTS
    include_pingbacks: bool = False
    """Keep pingbacks and trackbacks in the tree (with their `kind`) instead of beside it."""


def decode_text(data: bytes) -> str:
    """Decode a text input: UTF-8 (with or without BOM), else UTF-16 with a BOM.

    Raises:
        ParseError: the bytes are not text.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(f"invalid UTF-16 text at byte {exc.start}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"input is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from exc

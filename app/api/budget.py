"""The cost budget of a request that scores, checked before any scoring starts.

Scoring costs about 0.4 ms a comment plus 5-10 µs a UTF-8 byte of text (evidence for a
flagged comment is the larger part), so a request's cost is bounded by two numbers: how
many comments it has scored and how many bytes of text they have. Every route that scores
counts the same way, so the worst request one limit allows is the same on every route:

- a comment's text counts in full, each time it is sent (each is scored with evidence);
- a parent text and a topic count once however many comments share them, because the
  scorer vectorises each distinct string once (a page's parent texts are its own comments,
  already counted, and the article context and topic are one string each).

Bytes, not characters: the per-comment limit (THREADGUARD_MAX_TEXT_BYTES) is in UTF-8
bytes as Perspective's is, and a character never costs more than one ASCII byte does, so
a multi-byte text is never cheaper to send than to score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.api.errors import ApiError
from app.config import Settings


def utf8_size(value: str | None) -> int:
    """The UTF-8 size of a text (0 for None), without building the encoded copy twice."""
    if value is None:
        return 0
    if value.isascii():
        return len(value)
    return len(value.encode("utf-8", "surrogatepass"))


def request_cost(
    texts: Sequence[str], contexts: Iterable[str | None], *, sizes: Sequence[int] | None = None
) -> int:
    """The bytes of text a request has scored: every text, each distinct context once."""
    total = sum(sizes) if sizes is not None else sum(utf8_size(t) for t in texts)
    return total + sum(utf8_size(c) for c in {c for c in contexts if c})


def check_budget(cost: int, settings: Settings, *, what: str = "the request") -> None:
    """Refuse a request whose text is over the budget, before any scoring.

    Raises:
        ApiError: 413 request_too_large naming the total and THREADGUARD_MAX_REQUEST_TEXT_BYTES.
    """
    limit = settings.max_request_text_bytes
    if cost > limit:
        raise ApiError(
            413,
            f"{what} has {cost:,} bytes of text to score (texts, and each distinct parent "
            f"text and topic once), over the budget of {limit:,} UTF-8 bytes a request "
            "(THREADGUARD_MAX_REQUEST_TEXT_BYTES); send it in smaller requests",
            code="request_too_large",
            field="comments",
        )


def check_count(count: int, limit: int, setting: str, *, what: str = "the batch") -> None:
    """Refuse a request with more comments than `limit` (the setting named in the message).

    Raises:
        ApiError: 413 batch_too_large.
    """
    if count > limit:
        raise ApiError(
            413,
            f"{what} has {count:,} comments, over the limit of {limit:,} ({setting})",
            code="batch_too_large",
            field="comments",
        )


def check_text(value: str, settings: Settings, field: str, *, label: str | None = None) -> int:
    """The UTF-8 size of a comment's text; refused when over the per-comment limit.

    Raises:
        ApiError: 413 text_too_long naming `field` (and `label`, e.g. the comment's id).
    """
    size = utf8_size(value)
    if size > settings.max_text_bytes:
        named = f"{field} ({label})" if label else field
        raise ApiError(
            413,
            f"{named} is {size:,} bytes, over the limit of {settings.max_text_bytes:,} "
            "UTF-8 bytes (THREADGUARD_MAX_TEXT_BYTES)",
            code="text_too_long",
            field=field,
        )
    return size

"""Discourse topics, as ``/t/<slug>/<id>.json`` returns them.

``post_stream.posts`` lists the topic's posts in order. Post 1 is the topic itself, so it
becomes the article; every later post is a comment named by its ``post_number``, which is
what ``reply_to_post_number`` refers to. A reply to post 1 (or to nothing) answers the
topic, so it is top-level. Discourse sends the first posts only (20 by default); the rest
of ``post_stream.stream`` is counted in `Thread.unloaded_replies`, and a reply to a post
that was not sent becomes an orphan like in any other format. Small-action posts
("closed the topic", ``post_type`` 3) are notices, not comments, and are left out.
Deleted posts (``deleted_at`` set, or ``user_deleted``) are kept as placeholders.
"""

from __future__ import annotations

from typing import Any

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.jsonutil import describe_type, load_json
from app.threads.options import ParseOptions, decode_text
from app.threads.tree import RawComment, build_thread
from app.threads.xmlutil import html_paragraphs

FORMAT = "discourse"

_SMALL_ACTION = 3


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a Discourse topic's JSON into a thread.

    Raises:
        ParseError: not JSON, not a topic object with ``post_stream.posts``, no posts, or
            a post without a ``post_number`` or with a non-text ``cooked`` body.
    """
    value = load_json(decode_text(data))
    if not isinstance(value, dict):
        raise ParseError(
            f"not a Discourse topic: expected an object with post_stream, got "
            f"{describe_type(value)}"
        )
    stream = value.get("post_stream")
    posts = stream.get("posts") if isinstance(stream, dict) else None
    if not isinstance(posts, list):
        raise ParseError(
            "not a Discourse topic: no post_stream.posts list (expected the JSON of "
            "/t/<slug>/<id>.json)"
        )
    if not posts:
        raise ParseError("Discourse topic has no posts (post_stream.posts is empty)")

    opening: dict[str, Any] | None = None
    records: list[RawComment] = []
    for index, post in enumerate(posts, 1):
        if not isinstance(post, dict):
            raise ParseError(f"post {index}: expected an object, got {describe_type(post)}")
        number = post.get("post_number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ParseError(
                f"post {index}: 'post_number' is {describe_type(number)} "
                f"({number!r}), not a positive number",
                field="post_number",
            )
        if number == 1:
            opening = post
            continue
        if post.get("post_type") == _SMALL_ACTION:
            continue
        records.append(_comment(post, number))

    ids = stream.get("stream") if isinstance(stream, dict) else None
    unloaded = max(0, len(ids) - len(posts)) if isinstance(ids, list) else 0
    return build_thread(
        records,
        article=_article(value, opening),
        url=options.url,
        source_format=FORMAT,
        unloaded_replies=unloaded,
    )


def _comment(post: dict[str, Any], number: int) -> RawComment:
    where = f"post {number}"
    cooked = post.get("cooked", "")
    if not isinstance(cooked, str):
        raise ParseError(f"{where}: 'cooked' is {describe_type(cooked)}, not HTML text")
    reply_to = post.get("reply_to_post_number")
    parent = (
        str(reply_to)
        if isinstance(reply_to, int) and not isinstance(reply_to, bool) and reply_to > 1
        else None
    )
    deleted = bool(post.get("deleted_at")) or post.get("user_deleted") is True
    text = "\n\n".join(html_paragraphs(cooked))
    created = _text(post, "created_at")
    return RawComment(
        comment_id=str(number),
        parent_id=parent,
        text=text or ("[deleted]" if deleted else ""),
        author=_text(post, "username") or _text(post, "name"),
        posted_at=parse_date(created),
        date_text=created,
        anchor=f"post_{number}",
        deleted=deleted,
    )


def _article(topic: dict[str, Any], opening: dict[str, Any] | None) -> Article:
    title = _text(topic, "title")
    if opening is None:
        return Article(title=title)
    cooked = opening.get("cooked")
    paragraphs = html_paragraphs(cooked) if isinstance(cooked, str) else []
    return Article(
        title=title,
        author=_text(opening, "username") or _text(opening, "name"),
        posted_at=parse_date(_text(opening, "created_at")),
        paragraphs=tuple(Paragraph(p) for p in paragraphs),
    )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None

"""Reddit thread JSON, as ``https://www.reddit.com/comments/<id>.json`` returns it.

The input is ``[post_listing, comment_listing]`` (a lone comment listing is accepted too).
The ``t3`` post is the article; ``t1`` comments nest through their ``replies`` listings and
are walked with an explicit stack. A comment whose body is ``[deleted]`` or ``[removed]``
is kept with ``deleted=True`` so its replies keep their place; a deleted *account* with a
visible body is an ordinary comment without an author, since its text is still on the
page. ``more`` stubs ("load more comments", "continue this thread") are not comments: the
replies they stand for are added up in `Thread.unloaded_replies`.

Text comes from ``body_html`` when present (the rendered Markdown, so link syntax and
emphasis marks are gone), else from the Markdown ``body``.
"""

from __future__ import annotations

import html
from typing import Any

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.jsonutil import describe_type, load_json
from app.threads.options import ParseOptions, decode_text
from app.threads.tree import RawComment, build_thread
from app.threads.xmlutil import html_paragraphs, plain_paragraphs

_SITE = "https://www.reddit.com"
_GONE = frozenset({"[deleted]", "[removed]"})


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a Reddit thread's JSON into a thread.

    Raises:
        ParseError: not JSON, nested deeper than Python's JSON reader allows, not shaped
            like Reddit listings, or a comment without an id or with a non-text body.
    """
    value = load_json(
        decode_text(data),
        too_deep_hint="a reply chain of a few hundred levels, where Reddit itself cuts "
        "threads off at about ten",
    )
    listings = value if isinstance(value, list) else [value]
    post: dict[str, Any] | None = None
    top: list[Any] = []
    for number, listing in enumerate(listings, 1):
        for child in _children(listing, f"listing {number}"):
            if isinstance(child, dict) and child.get("kind") == "t3":
                post = post or _data(child, "the t3 post")
            else:
                top.append(child)
    # Last-first, so that `pop()` yields comments in document order.
    stack: list[tuple[Any, str | None]] = [(child, None) for child in reversed(top)]

    records: list[RawComment] = []
    unloaded = 0
    while stack:
        node, parent = stack.pop()
        where = f"comment {len(records) + 1}"
        if not isinstance(node, dict):
            raise ParseError(
                f"{where}: expected a {{kind, data}} object, got {describe_type(node)}"
            )
        kind = node.get("kind")
        data_ = _data(node, where)
        if kind == "more":
            unloaded += _more_count(data_)
            continue
        if kind != "t1":
            raise ParseError(f"{where}: unexpected kind {kind!r} among comments")
        record = _comment(data_, parent, where)
        records.append(record)
        replies = data_.get("replies")
        if isinstance(replies, dict):
            kids = _children(replies, f"the replies of comment {record.comment_id!r}")
            stack.extend((kid, record.comment_id) for kid in reversed(kids))

    permalink = _text(post, "permalink") if post else None
    return build_thread(
        records,
        article=_article(post),
        url=options.url or _absolute(permalink),
        source_format="reddit",
        unloaded_replies=unloaded,
    )


def _children(listing: Any, where: str) -> list[Any]:
    if not isinstance(listing, dict) or listing.get("kind") != "Listing":
        raise ParseError(
            f'not a Reddit thread: {where} is not a {{"kind": "Listing"}} object '
            "(expected [post listing, comment listing] or a comment listing)"
        )
    data = listing.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise ParseError(f"not a Reddit thread: {where} has no data.children list")
    return children


def _data(node: dict[str, Any], where: str) -> dict[str, Any]:
    data = node.get("data")
    if not isinstance(data, dict):
        raise ParseError(f"{where}: 'data' is {describe_type(data)}, not an object")
    return data


def _comment(data: dict[str, Any], parent: str | None, where: str) -> RawComment:
    comment_id = _text(data, "id") or (_text(data, "name") or "").removeprefix("t1_")
    if not comment_id:
        raise ParseError(f"{where}: the comment has no 'id'")
    where = f"comment {comment_id!r}"
    parent_ref = _text(data, "parent_id")
    if parent_ref is not None and parent_ref.startswith("t1_"):
        parent = parent_ref[3:]
    elif parent_ref is not None and parent_ref.startswith("t3_"):
        parent = None
    body = data.get("body")
    if not isinstance(body, str):
        raise ParseError(f"{where}: 'body' is {describe_type(body)}, not text")
    author = _text(data, "author")
    permalink = _text(data, "permalink")
    return RawComment(
        comment_id=comment_id,
        parent_id=parent,
        text=_body(data, body),
        author=None if author in _GONE else author,
        posted_at=parse_date(_number(data.get("created_utc"))),
        url=_absolute(permalink),
        deleted=body.strip() in _GONE,
    )


def _body(data: dict[str, Any], markdown: str) -> str:
    rendered = data.get("body_html")
    if isinstance(rendered, str) and rendered.strip():
        return "\n\n".join(html_paragraphs(html.unescape(rendered)))
    return "\n\n".join(plain_paragraphs(markdown))


def _more_count(data: dict[str, Any]) -> int:
    """Replies a ``more`` stub stands for; "continue this thread" stubs say 0 but hide some."""
    count = data.get("count")
    children = data.get("children")
    n = count if isinstance(count, int) and not isinstance(count, bool) else 0
    listed = len(children) if isinstance(children, list) else 0
    return max(n, listed, 1)


def _article(post: dict[str, Any] | None) -> Article:
    if post is None:
        return Article()
    author = _text(post, "author")
    rendered = _text(post, "selftext_html")
    if rendered:
        paragraphs = html_paragraphs(html.unescape(rendered))
    else:
        paragraphs = plain_paragraphs(_text(post, "selftext") or "")
    return Article(
        title=_text(post, "title"),
        author=None if author in _GONE else author,
        posted_at=parse_date(_number(post.get("created_utc"))),
        paragraphs=tuple(Paragraph(p) for p in paragraphs),
    )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _absolute(permalink: str | None) -> str | None:
    if permalink is None:
        return None
    return _SITE + permalink if permalink.startswith("/") else permalink

"""WordPress WXR exports (RSS 2.0 with the ``wp:`` namespace), read as a stream.

One export holds many posts (``<item>``); a `Thread` is one page, so one post is chosen:
the one whose ``<link>`` or ``<guid>`` equals ``options.url`` when that is given, else the
first post that has comments (with a warning naming how many others were skipped).

Comments keep their moderation state as WordPress stored it: approved (``1``) and pending
(``0``) comments are ordinary comments, since pending ones are exactly what a moderator
should see; ``spam``, ``trash`` and ``post-trashed`` comments are kept with
``deleted=True`` (text included) so replies to them keep their place in the tree.
Pingbacks and trackbacks (``wp:comment_type``) are set beside the tree, or kept in it with
their kind when ``options.include_pingbacks``.

Bodies are stored before WordPress's ``wpautop``: a blank line is a paragraph break and a
single newline a line break; HTML inside is reduced to its visible text.

Parsing is defused (no DTD, no entities) and streaming: each comment and post is dropped
from memory as soon as it has been read.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from app.domain import Article, Paragraph, Thread, ThreadWarning
from app.errors import ParseError
from app.threads.authors import kind_from_value
from app.threads.dates import parse_date
from app.threads.options import ParseOptions
from app.threads.tree import RawComment, build_thread, mark_linkback
from app.threads.xmlutil import (
    detach,
    element_text,
    html_paragraphs,
    html_to_text,
    local_name,
    namespace,
    stream_xml,
)

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
# Exports name the namespace with http or (newer ones, e.g. the Theme Unit Test data) https.
_WP_NS_PREFIXES = ("http://wordpress.org/export/", "https://wordpress.org/export/")
_REMOVED_STATES = frozenset({"spam", "trash", "post-trashed"})
_LISTED_LINKS = 10


@dataclass
class _Post:
    """One ``<item>`` as read so far."""

    title: str | None = None
    link: str | None = None
    guid: str | None = None
    author: str | None = None
    content: str = ""
    date_gmt: str | None = None
    date_local: str | None = None
    pub_date: str | None = None
    comments: list[dict[str, str]] = field(default_factory=list)
    """Each comment's fields as written; turned into text only for the post chosen."""


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a WordPress WXR export into the thread of one of its posts.

    Raises:
        ParseError: not well-formed XML, a DTD or entity declaration, a root other than
            ``<rss>``, no posts, a comment without an id, or no post matching ``options.url``.
    """
    chosen: _Post | None = None
    first: _Post | None = None
    with_comments = 0
    links: list[str] = []
    post: _Post | None = None
    for event, element, ancestors in stream_xml(data, what="WXR export"):
        name = _qualified(element.tag)
        if event == "start":
            if not ancestors and name != "rss":
                raise ParseError(
                    f"not a WordPress WXR export: the root element is <{name}>, not <rss>"
                )
            if name == "item" and len(ancestors) == 2:
                post = _Post()
            continue
        if post is not None and len(ancestors) == 3:
            # A child of the current <item>; "3" is rss > channel > item.
            if name == "wp:comment":
                post.comments.append(_comment_fields(element, len(post.comments) + 1, post))
            else:
                _read_post_field(post, name, element)
            detach(element, ancestors)
        elif post is not None and name == "item" and len(ancestors) == 2:
            if len(links) < _LISTED_LINKS and (post.link or post.guid):
                links.append(post.link or post.guid or "")
            if post.comments:
                with_comments += 1
            if first is None:
                first = post
            if chosen is None and _wanted(post, options.url):
                chosen = post
            post = None
            detach(element, ancestors)
        elif len(ancestors) == 2:
            # Channel-level metadata (authors, categories, terms): not needed.
            detach(element, ancestors)

    if options.url is not None and chosen is None:
        seen = ", ".join(repr(link) for link in links) or "none"
        raise ParseError(
            f"no post in the WXR export has link or guid {options.url!r}; its posts' links "
            f"start with: {seen}",
            field="url",
        )
    chosen = chosen or first
    if chosen is None:
        raise ParseError("the WXR export holds no posts (no <item> in its <channel>)")
    return build_thread(
        [_comment(fields, chosen) for fields in chosen.comments],
        article=_article(chosen),
        url=options.url or chosen.link,
        source_format="wxr",
        warnings=_skipped_warning(chosen, with_comments, options.url),
        include_pingbacks=options.include_pingbacks,
    )


def _qualified(tag: str) -> str:
    """``wp:comment`` style names, whatever WXR version (1.0 to 1.2) the file declares."""
    ns = namespace(tag)
    name = local_name(tag)
    if ns.startswith(_WP_NS_PREFIXES) and not ns.rstrip("/").endswith("excerpt"):
        return f"wp:{name}"
    if ns == _CONTENT_NS:
        return f"content:{name}"
    if ns == _DC_NS:
        return f"dc:{name}"
    return name if not ns else f"{{{ns}}}{name}"


def _wanted(post: _Post, url: str | None) -> bool:
    if url is None:
        return bool(post.comments)
    return url in (post.link, post.guid)


def _read_post_field(post: _Post, name: str, element: Element) -> None:
    value = element_text(element)
    if name == "title":
        # WordPress stores titles and names HTML-escaped ("Blog &raquo; Post").
        post.title = html.unescape(value) or None
    elif name == "link":
        post.link = value or None
    elif name == "guid":
        post.guid = value or None
    elif name == "dc:creator":
        post.author = html.unescape(value) or None
    elif name == "content:encoded":
        post.content = value
    elif name == "wp:post_date_gmt":
        post.date_gmt = value or None
    elif name == "wp:post_date":
        post.date_local = value or None
    elif name == "pubDate":
        post.pub_date = value or None


def _comment_fields(element: Element, number: int, post: _Post) -> dict[str, str]:
    fields = {_qualified(child.tag): element_text(child) for child in element}
    if not fields.get("wp:comment_id"):
        where = post.link or post.title or "its post"
        raise ParseError(f"<wp:comment> number {number} of {where!r} has no <wp:comment_id>")
    return fields


def _comment(fields: dict[str, str], post: _Post) -> RawComment:
    comment_id = fields["wp:comment_id"]
    parent = fields.get("wp:comment_parent", "")
    local = fields.get("wp:comment_date") or None
    gmt = fields.get("wp:comment_date_gmt") or None
    anchor = f"comment-{comment_id}"
    raw = RawComment(
        comment_id=comment_id,
        parent_id=None if parent in ("", "0") else parent,
        text=html_to_text(fields.get("wp:comment_content", ""), newlines_are_breaks=True),
        author=html.unescape(fields.get("wp:comment_author", "")) or None,
        posted_at=_utc(gmt) or parse_date(local),
        date_text=local or gmt,
        url=f"{post.link}#{anchor}" if post.link else None,
        anchor=anchor,
        deleted=fields.get("wp:comment_approved", "").lower() in _REMOVED_STATES,
        kind=kind_from_value(fields.get("wp:comment_type")),
    )
    return mark_linkback(raw)


def _utc(text: str | None) -> datetime | None:
    """A ``*_gmt`` field; WordPress writes ``0000-00-00 00:00:00`` for "never"."""
    when = parse_date(text)
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _article(post: _Post) -> Article:
    return Article(
        title=post.title,
        author=post.author,
        posted_at=_utc(post.date_gmt) or _rfc822(post.pub_date) or parse_date(post.date_local),
        paragraphs=tuple(
            Paragraph(text) for text in html_paragraphs(post.content, newlines_are_breaks=True)
        ),
    )


def _rfc822(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _skipped_warning(chosen: _Post, with_comments: int, url: str | None) -> list[ThreadWarning]:
    others = with_comments - (1 if chosen.comments else 0)
    if url is not None or others <= 0:
        return []
    label = chosen.link or chosen.title or "the first post"
    return [
        ThreadWarning(
            "other",
            f"the WXR export holds {with_comments} posts with comments; read the first, "
            f"{label!r}, and skipped {others} other(s): pass the post's <link> or <guid> as "
            "the page URL (ParseOptions.url) to read another",
        )
    ]

"""Discourse topics as HTML: the crawler view a forum serves without JavaScript (and that
"save page" keeps when scripts are off).

Each post is a ``div.topic-body.crawler-post`` with ``id="post_N"`` (N the post number,
also in ``[itemprop=position]``); its author is ``span.creator [itemprop=name]``, its time
``time[datetime]``, its text ``div.post`` (``itemprop="text"``, ``articleBody`` on older
versions). As in the topic JSON, post 1 is the topic itself and becomes the article. The
view shows no reply-to field, so a post replies to the post its first quote of this topic
names (``aside.quote[data-post]``), else to the topic.
"""

from __future__ import annotations

import re

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.htmlutil import (
    Element,
    HtmlPage,
    class_tokens,
    element_text,
    finish,
    parse_with,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment

FORMAT = "discourse-html"

_POST_ID_RE = re.compile(r"post_(\d+)")
_DIGITS_RE = re.compile(r"\d+")
_TOPIC_URL_RE = re.compile(r"/t/(?:[^/]+/)?(\d+)(?:/|$|\?)")
_NOT_FOUND = (
    'no Discourse posts found (looked for div.topic-body.crawler-post with id="post_N", '
    "the view Discourse serves without JavaScript)"
)


def _posts(page: HtmlPage) -> list[Element]:
    return [
        element
        for element in page.root.iter("div")
        if "crawler-post" in class_tokens(element) and "topic-body" in class_tokens(element)
    ]


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The posts of a Discourse topic's crawler view; None when the page has none.

    Raises:
        ParseError: a post has no number or no text element.
    """
    if "discourse-html" not in page.markers:
        return None
    posts = _posts(page)
    if not posts:
        return None
    topic = _topic_id(page)
    article = Article()
    records: list[RawComment] = []
    for element in posts:
        number = _number(element)
        body = _body(element)
        if body is None:
            raise ParseError(
                f"Discourse post {number} (line {element.sourceline}) has no div.post with its text"
            )
        author = _author(element)
        time = next(element.iter("time"), None)
        shown = " ".join(element_text(time).split()) if time is not None else ""
        posted_at = None
        if time is not None:
            posted_at = parse_date(time.get("datetime")) or parse_date(shown)
        if number == 1:
            article = Article(
                title=_title(page),
                author=author,
                posted_at=posted_at,
                paragraphs=tuple(Paragraph(p) for p in element_text(body).split("\n\n") if p),
            )
            continue
        records.append(
            RawComment(
                comment_id=str(number),
                parent_id=_quoted_post(body, topic),
                text=element_text(body),
                author=author,
                posted_at=posted_at,
                date_text=shown or None,
                anchor=element.get("id"),
            )
        )
    if article.title is None:
        article = Article(title=_title(page))
    return finish(page, records, source_format=FORMAT, article=article)


def _number(element: Element) -> int:
    found = _POST_ID_RE.fullmatch(element.get("id") or "")
    if found:
        return int(found.group(1))
    for item in element.iter("span"):
        if item.get("itemprop") == "position":
            digits = _DIGITS_RE.search(element_text(item))
            if digits:
                return int(digits.group(0))
    raise ParseError(
        f"Discourse post on line {element.sourceline} has no number (expected "
        'id="post_N" or an [itemprop=position] element)'
    )


def _body(element: Element) -> Element | None:
    for item in element.iterdescendants("div"):
        if "post" in class_tokens(item) or item.get("itemprop") in ("text", "articleBody"):
            return item
    return None


def _author(element: Element) -> str | None:
    for creator in element.iter("span"):
        if "creator" not in class_tokens(creator):
            continue
        for item in creator.iter():
            if item.get("itemprop") == "name":
                return element_text(item) or None
        link = next(creator.iter("a"), None)
        return element_text(link if link is not None else creator) or None
    return None


def _quoted_post(body: Element, topic: str | None) -> str | None:
    for aside in body.iter("aside"):
        if "quote" not in class_tokens(aside):
            continue
        quoted_topic = aside.get("data-topic")
        if topic is not None and quoted_topic is not None and quoted_topic != topic:
            continue
        number = (aside.get("data-post") or "").strip()
        if number.isdigit():
            # A quote of the opening post quotes the article: the reply is top-level.
            return number if int(number) > 1 else None
    return None


def _topic_id(page: HtmlPage) -> str | None:
    found = _TOPIC_URL_RE.search(page.url or "")
    return found.group(1) if found else None


def _title(page: HtmlPage) -> str | None:
    root = page.root
    holder = next((e for e in root.iter("div") if e.get("id") == "topic-title"), None)
    heading = next(holder.iter("h1"), None) if holder is not None else None
    if heading is not None and element_text(heading):
        return element_text(heading)
    title = next(root.iter("title"), None)
    text = element_text(title) if title is not None else ""
    # The <title> adds " - <category> - <site name>" after the topic's title.
    return text.split(" - ", 1)[0].strip() or None


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a saved Discourse topic page (its crawler view).

    Raises:
        ParseError: the page is not HTML, has no Discourse posts, or a post has no number
            or no text.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

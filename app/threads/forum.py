"""Forum topic pages of phpBB and vBulletin: flat posts, replies only where a quote says so.

A forum shows a topic as a flat list of posts, the opening post first; every post is a
comment (the opener is moderated like any other). Nesting exists only where a post quotes
another:

- phpBB (prosilver): ``div.post`` with ``id="p123"``; author ``a.username`` (or the
  ``p.author`` line's ``<strong>``), date ``<time>`` or the author line, text
  ``div.content``. A quote is ``<blockquote><cite>X wrote: <a href="…viewtopic.php?p=122#p122">``;
  older themes print only "X wrote:".
- vBulletin 3: ``table`` with ``id="post123"``; author ``a.bigusername``, date the first
  ``td.thead``, text ``div#post_message_123``; a quote is a box headed "Quote:" with
  "Originally Posted by X" and a link to ``#post122``.
- vBulletin 4: ``li.postcontainer`` with ``id="post_456"``; author ``.username``, date
  ``span.date``, text ``blockquote.postcontent``; a quote is ``div.bbcode_container`` with
  ``div.bbcode_postedby`` ("Originally Posted by X" and a link to ``#post455``).

A post replies to the post its first quote links to; with only a name, to that author's
latest post above it; else to the topic (parent None). The quote itself is left out of
the post's text (every quote, named or not): it repeats words that are already in the
thread, and the reply edge keeps the relation.
"""

from __future__ import annotations

import re

from app.domain import Article, Thread
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.htmlutil import (
    Element,
    HtmlPage,
    class_tokens,
    element_text,
    finish,
    parse_with,
    strip_says,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment

FORMAT = "forum"

_PHPBB_ID_RE = re.compile(r"p(\d+)")
_VB_ID_RE = re.compile(r"post_?(\d+)")
_POST_LINK_RE = re.compile(r"(?:[?&]p=(\d+)|#p(\d+)$|#post(\d+)$)")
_WROTE_RE = re.compile(r"^\s*(.+?)\s+(?:wrote|said|schrieb|a écrit)\s*:", re.IGNORECASE)
_POSTED_BY_RE = re.compile(r"Originally Posted by\s+(.+)", re.IGNORECASE)
_VB3_ID_RE = re.compile(r"post(\d+)")
_VB_DATE_RE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})")
_AUTHOR_CLASSES = frozenset({"username", "username-coloured", "bigusername"})
_VB_POSTS = frozenset({"postcontainer", "postbitlegacy", "postbit"})
_CHROME = frozenset(
    {
        "post-buttons",
        "signature",
        "signaturecontainer",
        "notice",
        "postfoot",
        "after_content",
        "back2top",
        "bbcode_postedby",
    }
)
_NOT_FOUND = (
    'no forum posts found (looked for phpBB div.post with id="p123" and vBulletin '
    'li.postcontainer with id="post_456" or table id="post789")'
)


def _find_posts(page: HtmlPage) -> list[tuple[str, Element, str]]:
    """(software, element, id) of every post on the page, in document order."""
    posts: list[tuple[str, Element, str]] = []
    for element in page.root.iter("div", "li", "table"):
        anchor = element.get("id")
        if not anchor:
            continue
        if element.tag == "table":
            found = _VB3_ID_RE.fullmatch(anchor)
            # A table id alone is too common a name; its post_message box makes it a post.
            if found and _post_message(element) is not None:
                posts.append(("vbulletin3", element, found.group(1)))
            continue
        tokens = class_tokens(element)
        if element.tag == "div" and "post" in tokens:
            found = _PHPBB_ID_RE.fullmatch(anchor)
            if found:
                posts.append(("phpbb", element, found.group(1)))
                continue
        if not _VB_POSTS.isdisjoint(tokens):
            found = _VB_ID_RE.fullmatch(anchor)
            if found:
                posts.append(("vbulletin", element, found.group(1)))
    return posts


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The posts of a phpBB or vBulletin topic page; None when it has none.

    Raises:
        ParseError: a post has no text element.
    """
    if "forum" not in page.markers:
        return None
    posts = _find_posts(page)
    if not posts:
        return None
    records: list[RawComment] = []
    latest_by_author: dict[str, str] = {}
    for software, element, post_id in posts:
        record, quoted_id, quoted_name = _read_post(software, element, post_id, page)
        if quoted_id is not None:
            record.parent_id = quoted_id
        elif quoted_name is not None:
            record.parent_id = latest_by_author.get(quoted_name)
        if record.author is not None:
            latest_by_author[record.author] = post_id
        records.append(record)
    return finish(page, records, source_format=FORMAT, article=_article(page))


def _read_post(
    software: str, element: Element, post_id: str, page: HtmlPage
) -> tuple[RawComment, str | None, str | None]:
    where = f"{software} post {post_id!r} (line {element.sourceline})"
    if software == "phpbb":
        body = _first(element, "div", "content")
        quotes = list(body.iter("blockquote")) if body is not None else []
    elif software == "vbulletin3":
        body = _post_message(element)
        # A vBulletin 3 quote is an unclassed box whose first line is div.smallfont "Quote:".
        quotes = (
            [
                box
                for label in body.iter("div")
                if "smallfont" in class_tokens(label)
                and element_text(label).startswith("Quote")
                and (box := label.getparent()) is not None
            ]
            if body is not None
            else []
        )
    else:
        body = _first(element, "blockquote", "postcontent")
        if body is None:
            body = _post_message(element)
        quotes = (
            [q for q in body.iter("div") if "bbcode_container" in class_tokens(q)]
            if body is not None
            else []
        )
    if body is None:
        raise ParseError(
            f"{where} has no text element (expected div.content for phpBB, "
            "blockquote.postcontent for vBulletin)"
        )
    # A guest's or a removed account's post may show no name; it is still a post.
    author = _author(software, element)
    quoted_id, quoted_name = None, None
    for quote in quotes:
        quoted_id, quoted_name = _quote_target(software, quote)
        if quoted_id is not None or quoted_name is not None:
            break
    skipped = {id(q) for q in quotes}

    def skip(item: Element) -> bool:
        return (
            id(item) in skipped or item.tag == "img" or not _CHROME.isdisjoint(class_tokens(item))
        )

    record = RawComment(
        comment_id=post_id,
        parent_id=None,
        text=element_text(body, skip),
        author=author,
        anchor=element.get("id"),
    )
    _read_date(software, element, record, page)
    return record, quoted_id, quoted_name


def _post_message(element: Element) -> Element | None:
    for item in element.iter("div"):
        if (item.get("id") or "").startswith("post_message_"):
            return item
    return None


def _author(software: str, element: Element) -> str | None:
    for tag in ("a", "span", "strong"):
        for item in element.iter(tag):
            if not _AUTHOR_CLASSES.isdisjoint(class_tokens(item)):
                return strip_says(element_text(item))
    if software == "phpbb":
        line = _first(element, "p", "author")
        strong = next(line.iter("strong"), None) if line is not None else None
        if strong is not None:
            return strip_says(element_text(strong))
    return None


def _quote_target(software: str, quote: Element) -> tuple[str | None, str | None]:
    """(the quoted post's id, the quoted author's name) as far as the quote shows them."""
    if software == "phpbb":
        head = next(quote.iter("cite"), None)
    elif software == "vbulletin3":
        head = quote
    else:
        head = _first(quote, "div", "bbcode_postedby")
    if head is None:
        return None, None
    for link in head.iter("a"):
        if link.get("data-post-id", "").isdigit():
            return link.get("data-post-id"), None
        found = _POST_LINK_RE.search(link.get("href") or "")
        if found:
            return next(g for g in found.groups() if g), None
    shown = element_text(head)
    if software == "phpbb":
        named = _WROTE_RE.match(shown)
    else:
        named = _POSTED_BY_RE.search(shown)
    return None, (named.group(1).strip() if named else None)


def _read_date(software: str, element: Element, record: RawComment, page: HtmlPage) -> None:
    time = next(element.iter("time"), None)
    if time is not None:
        record.date_text = element_text(time) or None
        record.posted_at = parse_date(time.get("datetime")) or parse_date(record.date_text)
    elif software == "phpbb":
        line = _first(element, "p", "author")
        if line is not None:
            # "by alice » Mon Jan 01, 2024 10:00 am": the date follows the last »
            shown = element_text(line).rsplit("»", 1)[-1].strip()
            record.date_text = shown or None
            record.posted_at = parse_date(shown)
    else:
        # vBulletin 3 prints the date as the text of the post's first header cell.
        date = (
            _first(element, "td", "thead")
            if software == "vbulletin3"
            else _first(element, "span", "date")
        )
        if date is not None:
            record.date_text = " ".join(element_text(date).split()) or None
            # vBulletin's default date is MM-DD-YYYY, which reads as a date once the
            # dashes are the slashes of the US form.
            shown = _VB_DATE_RE.sub(r"\1/\2/\3", record.date_text or "")
            record.posted_at = parse_date(shown)
    for link in element.iter("a"):
        href = link.get("href") or ""
        if _POST_LINK_RE.search(href) and (
            href.endswith(f"#p{record.comment_id}") or href.endswith(f"#post{record.comment_id}")
        ):
            record.url = page.absolute(href)
            break


def _first(root: Element, tag: str, token: str) -> Element | None:
    for element in root.iter(tag):
        if token in class_tokens(element):
            return element
    return None


def _article(page: HtmlPage) -> Article:
    root = page.root
    for tag, token in (("h2", "topic-title"), ("span", "threadtitle"), ("h1", "threadtitle")):
        found = _first(root, tag, token)
        if found is not None and element_text(found):
            return Article(title=element_text(found))
    title = next(root.iter("title"), None)
    return Article(title=element_text(title) or None if title is not None else None)


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a saved phpBB or vBulletin topic page.

    Raises:
        ParseError: the page is not HTML, has no forum posts, or a post has no text
            element.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

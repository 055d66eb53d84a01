"""Old Reddit comment pages (``old.reddit.com/r/…/comments/…``), saved as HTML.

Each comment is a ``div.thing.comment`` carrying its id (``data-fullname``, ``t1_…``), its
author (``data-author``) and permalink (``data-permalink``); its replies are nested inside
its own ``div.child``, so a comment's parent is the nearest enclosing comment. The text is
the ``.md`` of the comment's own ``div.entry`` (the replies' entries are deeper down), the
moment ``time[datetime]``. A deleted or removed comment keeps its place (author
``[deleted]``, text ``[deleted]`` / ``[removed]``) so its replies stay where they are;
"load more comments" stubs (``div.thing.morechildren``) hold no comment and are skipped.
The post itself (``div.thing.link``) is the article: its title, and its text for a self
post.
"""

from __future__ import annotations

from dataclasses import replace

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.htmlutil import (
    Element,
    HtmlPage,
    element_text,
    extract_article,
    has_class_xpath,
    parse_with,
    xpath_elements,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment, build_thread

FORMAT = "reddit-html"

_SITE = "https://www.reddit.com"
_GONE = frozenset({"[deleted]", "[removed]"})


# Every other page pays for this test, so it asks only whether an attribute exists (cheap
# in C); the classes are checked on the few divs that have it.
_CANDIDATES = "//div[@data-fullname or @data-type='comment']"
_POST = f"//div[{has_class_xpath('thing')} and {has_class_xpath('link')}]"
_ENTRY = f"./div[{has_class_xpath('entry')}]"
_TEXT = f".//div[{has_class_xpath('md')}]"
_NOT_FOUND = "no old Reddit comments found (looked for div.thing.comment with data-fullname)"


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The comments of an old Reddit page; None when the page has none.

    Raises:
        ParseError: a comment has no id (`data-fullname`).
    """
    if FORMAT not in page.markers:
        return None
    things = [
        e
        for e in xpath_elements(page.root, _CANDIDATES)
        if {"thing", "comment"} <= set((e.get("class") or "").split())
    ]
    if not things:
        return None
    ids = {id(thing): _comment_id(thing) for thing in things}
    records = [_record(thing, ids, page) for thing in things]
    return build_thread(
        records,
        article=_article(page),
        url=page.url,
        source_format=FORMAT,
        warnings=list(page.warnings),
    )


def _comment_id(thing: Element) -> str:
    fullname = (thing.get("data-fullname") or "").strip()
    if not fullname:
        raise ParseError(
            f"old Reddit comment on line {thing.sourceline} has no data-fullname, so replies "
            "to it cannot be placed"
        )
    return fullname


def _record(thing: Element, ids: dict[int, str], page: HtmlPage) -> RawComment:
    parent: str | None = None
    for ancestor in thing.iterancestors("div"):
        if id(ancestor) in ids:
            parent = ids[id(ancestor)]
            break
    entry = next(iter(xpath_elements(thing, _ENTRY)), None)
    text = ""
    posted_at = None
    date_text: str | None = None
    if entry is not None:
        bodies = xpath_elements(entry, _TEXT)
        if bodies:
            text = element_text(bodies[0])
        moment = next(entry.iter("time"), None)
        if moment is not None:
            date_text = moment.get("datetime") or element_text(moment) or None
            posted_at = parse_date(date_text) if date_text else None
    author = (thing.get("data-author") or "").strip() or None
    deleted = author in _GONE or text.strip() in _GONE or "deleted" in (thing.get("class") or "")
    if author in _GONE:
        author = None
    if deleted and not text:
        text = "[deleted]"
    permalink = (thing.get("data-permalink") or "").strip()
    return RawComment(
        comment_id=ids[id(thing)],
        parent_id=parent,
        text=text,
        author=author,
        posted_at=posted_at,
        date_text=date_text,
        url=page.absolute(_SITE + permalink) if permalink.startswith("/") else None,
        anchor=ids[id(thing)].removeprefix("t1_"),
        deleted=deleted,
    )


def _article(page: HtmlPage) -> Article:
    # The page's own reading of its article, with the post's title and self text when the
    # post is on the page (old Reddit's <h1> is the subreddit's name).
    article = extract_article(page)
    posts = xpath_elements(page.root, _POST)
    if not posts:
        return article
    titles = xpath_elements(posts[0], f".//a[{has_class_xpath('title')}]")
    if titles:
        article = replace(article, title=element_text(titles[0]) or article.title)
    bodies = xpath_elements(posts[0], _TEXT)
    if bodies:
        text = element_text(bodies[0])
        paragraphs = tuple(Paragraph(part) for part in text.split("\n\n") if part.strip())
        article = replace(article, paragraphs=paragraphs)
    return article


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a saved old Reddit comment page.

    Raises:
        ParseError: the page is not HTML or has no old Reddit comments.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

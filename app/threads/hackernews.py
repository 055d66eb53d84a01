"""Hacker News item pages (``news.ycombinator.com/item?id=N``), saved as HTML.

HN renders a thread flat: ``table.comment-tree`` holds one ``tr.athing.comtr`` row per
comment, in display order, and the nesting is only the width of an indentation spacer
(``td.ind`` with ``<img src="s.gif" width="N">``, 40 pixels a level; newer pages also say
``indent="N"`` on the cell). A comment's parent is therefore the nearest comment above it
that is one level shallower. Author is ``a.hnuser``, the moment is ``span.age[title]``
(an ISO time, followed by a Unix time on newer pages), the text ``.commtext``. Deleted and
flagged comments keep their row (no user link; ``[deleted]``, ``[flagged]`` in place of the
text) and are kept as placeholders so their replies stay where they are. Pages saved
before about 2019 have no ``.commtext``: the text is the span with HN's colour class.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.domain import Article, Paragraph, Thread, ThreadWarning
from app.errors import ParseError
from app.threads.dates import parse_date
from app.threads.htmlutil import (
    Element,
    HtmlPage,
    class_tokens,
    element_text,
    has_class_xpath,
    parse_with,
    xpath_elements,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment, build_thread

FORMAT = "hackernews"

_SITE = "https://news.ycombinator.com/"
_PIXELS_PER_LEVEL = 40
_GONE = frozenset({"[deleted]", "[flagged]", "[dead]", "[flagged] [dead]"})
_TREE_XPATH = f"//table[{has_class_xpath('comment-tree')}]"
_ROW_XPATH = f".//tr[{has_class_xpath('athing')} and {has_class_xpath('comtr')}]"
_NOT_FOUND = (
    "no Hacker News comment tree found (looked for table.comment-tree holding tr.athing.comtr rows)"
)
_COLOUR_RE = re.compile(r"c[0-9a-f]{2}$")
_TITLE_SUFFIX_RE = re.compile(r"\s*\|\s*Hacker News\s*$")


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The comments of an HN item page; None when the page has no HN comment tree.

    Raises:
        ParseError: the comment tree has no comment rows, or a row has no id or no
            readable indentation.
    """
    if "hackernews" not in page.markers:
        return None
    trees = xpath_elements(page.root, _TREE_XPATH)
    if not trees:
        return None
    rows = [row for tree in trees for row in xpath_elements(tree, _ROW_XPATH)]
    if not rows:
        raise ParseError(
            "Hacker News comment tree is empty: table.comment-tree has no tr.athing.comtr "
            "rows (a story nobody commented on has nothing to moderate)"
        )
    records: list[RawComment] = []
    warnings: list[ThreadWarning] = list(page.warnings)
    # The open branch: (level, id) of each comment that a later row may still reply to.
    branch: list[tuple[int, str]] = []
    for row in rows:
        record, level = _read_row(row, page)
        while branch and branch[-1][0] >= level:
            branch.pop()
        if branch and branch[-1][0] != level - 1:
            warnings.append(
                ThreadWarning(
                    "other",
                    f"comment {record.comment_id!r} is indented {level} levels, more than one "
                    f"below comment {branch[-1][1]!r}; read as a reply to it",
                    record.comment_id,
                )
            )
        elif not branch and level > 0:
            warnings.append(
                ThreadWarning(
                    "other",
                    f"comment {record.comment_id!r} is indented {level} levels with no "
                    "comment above it; read as a top-level comment",
                    record.comment_id,
                )
            )
        record.parent_id = branch[-1][1] if branch else None
        branch.append((level, record.comment_id))
        records.append(record)
    return build_thread(
        records,
        article=_article(page),
        url=page.url,
        source_format=FORMAT,
        warnings=warnings,
    )


def _read_row(row: Element, page: HtmlPage) -> tuple[RawComment, int]:
    comment_id = (row.get("id") or "").strip()
    if not comment_id:
        raise ParseError(
            f"Hacker News comment row on line {row.sourceline} has no id "
            '(expected <tr class="athing comtr" id="...">)'
        )
    level = _level(row, comment_id)
    author_link = _first(row, "a", "hnuser")
    author = element_text(author_link) if author_link is not None else None
    age = _first(row, "span", "age")
    date_text: str | None = None
    posted_at = None
    url = page.absolute(f"{_SITE}item?id={comment_id}")
    if age is not None:
        date_text = element_text(age) or None
        posted_at = _age_moment(age) or parse_date(date_text)
        link = next(age.iter("a"), None)
        if link is not None and link.get("href"):
            url = page.absolute(_absolute(link.get("href") or ""))
    box = _first(row, "div", "comment")
    body = _first(row, "*", "commtext")
    if body is None and box is not None:
        # Pages saved before .commtext existed (about 2019) have only the colour class
        # (c00 … cdd) on the span that holds the text.
        body = next((e for e in box.iter("span") if _COLOUR_RE.match(e.get("class") or "")), box)
    text = element_text(body, _is_chrome) if body is not None else ""
    # HN drops the user link of a deleted comment and shows a notice in place of the text
    # of a deleted or flagged one; a dead comment whose text still shows is still content.
    deleted = author_link is None or text.strip() in _GONE
    if deleted and not text:
        text = "[deleted]"
    return (
        RawComment(
            comment_id=comment_id,
            parent_id=None,
            text=text,
            author=author or None,
            posted_at=posted_at,
            date_text=date_text,
            url=url,
            anchor=comment_id,
            deleted=deleted,
        ),
        level,
    )


def _level(row: Element, comment_id: str) -> int:
    cell = _first(row, "td", "ind")
    if cell is None:
        raise ParseError(
            f"Hacker News comment {comment_id!r} (line {row.sourceline}) has no td.ind "
            "indentation cell, so its place in the thread is unknown"
        )
    indent = (cell.get("indent") or "").strip()
    if indent.isdigit():
        return int(indent)
    spacer = next(cell.iter("img"), None)
    width = (spacer.get("width") or "").strip() if spacer is not None else ""
    if not width.isdigit():
        raise ParseError(
            f"Hacker News comment {comment_id!r} (line {row.sourceline}): td.ind has "
            'neither an indent="N" attribute nor a spacer <img width="N">'
        )
    return int(width) // _PIXELS_PER_LEVEL


def _age_moment(age: Element) -> datetime | None:
    # The title holds the ISO time, then (on newer pages) the same moment in epoch
    # seconds; the ISO form has no zone, but HN's clock is UTC.
    stamp = (age.get("title") or "").split()
    moment = parse_date(stamp[0]) if stamp else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _first(root: Element, tag: str, token: str) -> Element | None:
    for element in root.iter(tag):
        if token in class_tokens(element):
            return element
    return None


def _is_chrome(element: Element) -> bool:
    # The reply link sits inside the comment cell, and on old pages inside .commtext.
    return "reply" in class_tokens(element) or element.tag == "img"


def _absolute(href: str) -> str:
    return href if href.startswith(("http://", "https://")) else _SITE + href.lstrip("/")


def _article(page: HtmlPage) -> Article:
    root = page.root
    story = next(
        (
            row
            for row in root.iter("tr")
            if "athing" in class_tokens(row) and "comtr" not in class_tokens(row)
        ),
        None,
    )
    title: str | None = None
    if story is not None:
        line = _first(story, "span", "titleline")
        if line is None:
            line = _first(story, "a", "storylink")
        if line is not None:
            link = next(line.iter("a"), None) if line.tag != "a" else line
            title = element_text(link if link is not None else line) or None
    if title is None:
        head_title = next(root.iter("title"), None)
        if head_title is not None:
            title = _TITLE_SUFFIX_RE.sub("", element_text(head_title)) or None
    subtext = _first(root, "td", "subtext")
    author_link = _first(subtext, "a", "hnuser") if subtext is not None else None
    age = _first(subtext, "span", "age") if subtext is not None else None
    toptext = _first(root, "div", "toptext")
    paragraphs: tuple[Paragraph, ...] = ()
    if toptext is not None:
        text = element_text(toptext, _is_chrome)
        paragraphs = tuple(Paragraph(p) for p in text.split("\n\n") if p)
    return Article(
        title=title,
        author=element_text(author_link) or None if author_link is not None else None,
        posted_at=_age_moment(age) if age is not None else None,
        paragraphs=paragraphs,
    )


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a saved Hacker News item page.

    Raises:
        ParseError: the page is not HTML, has no HN comment tree, the tree is empty, or
            a comment row has no id or no indentation.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

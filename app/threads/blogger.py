"""Blogger comment pages, threaded and classic.

Threaded (the default since 2012): `#comment-holder` holds `li.comment` elements with
ids like `c7704569152969066600`, each with a `.comment-block` (`cite.user`,
`span.datetime` with the permalink, `p.comment-content`) and its replies in
`div.comment-replies`. Classic templates use `dl#comments-block`, one `dt.comment-author`
followed by `dd.comment-body` and `dd.comment-footer` per comment, without nesting.
A comment its author or the blog's administrator removed stays as a placeholder
("This comment has been removed by the author.") and is kept with `deleted=True`.
"""

from __future__ import annotations

import re

from app.domain import Thread
from app.threads.authors import clean_author
from app.threads.dates import parse_date
from app.threads.htmlutil import (
    CommentMarkup,
    Element,
    HtmlPage,
    Role,
    class_tokens,
    collect_comments,
    element_text,
    finish,
    parse_with,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment

FORMAT = "blogger"

_ROLE_BY_TOKEN = {
    "user": Role.AUTHOR,
    "comment-author": Role.AUTHOR,
    "datetime": Role.DATE_BOX,
    "comment-timestamp": Role.DATE_BOX,
    "comment-content": Role.BODY,
    "comment-body": Role.BODY,
    "comment-actions": Role.CHROME,
    "comment-reply": Role.CHROME,
    "thread-toggle": Role.CHROME,
    "thread-count": Role.CHROME,
    "continue": Role.CHROME,
    "comment-replybox-single": Role.CHROME,
    "comment-replybox-thread": Role.CHROME,
    "avatar-image-container": Role.CHROME,
    "item-control": Role.CHROME,
    "blog-admin": Role.CHROME,
    "icon": Role.CHROME,
}
_REMOVED_RE = re.compile(
    r"^this (?:comment|post) has been removed by (?:the author|a blog administrator)\.?$",
    re.IGNORECASE,
)
_NOT_FOUND = (
    "no Blogger comments found (looked for #comment-holder with li.comment, "
    "dl#comments-block, and a .comments-content section)"
)


class BloggerMarkup(CommentMarkup):
    """The roles of Blogger's threaded comment markup."""

    comment_tags = (("li",),)

    def classify(self, tokens: list[str]) -> Role:
        """The role an element's class names give it."""
        if "comment" in tokens:
            return Role.COMMENT
        for token in tokens:
            role = _ROLE_BY_TOKEN.get(token)
            if role is not None:
                return role
        return Role.OTHER

    def comment_id(self, element: Element) -> str | None:
        """Blogger's element id ("c" and the comment's number) as given."""
        return element.get("id") or None

    def is_deleted(self, element: Element, body: Element | None, text: str) -> bool:
        """True for the placeholder Blogger shows in place of a removed comment."""
        return is_removed(body, text)


def is_removed(body: Element | None, text: str) -> bool:
    """True when a comment body is Blogger's placeholder for a removed comment."""
    if _REMOVED_RE.match(text.strip()):
        return True
    if body is None:
        return False
    return any("deleted-comment" in class_tokens(e) for e in body.iter("span"))


def _classic(blocks: list[Element], page: HtmlPage) -> list[RawComment]:
    """Comments of classic `dl#comments-block` markup: flat, a <dt> starts each one."""
    records: list[RawComment] = []
    for block in blocks:
        current: RawComment | None = None
        for item in block.iterchildren("dt", "dd"):
            tokens = class_tokens(item)
            if item.tag == "dt":
                anchor = item.get("id") or _named_anchor(item)
                author, author_raw = clean_author(element_text(item, _is_chrome))
                current = RawComment(
                    comment_id=anchor or f"html-{len(records) + 1}",
                    parent_id=None,
                    text="",
                    author=author,
                    anchor=anchor,
                    author_raw=author_raw,
                )
                records.append(current)
            elif current is None:
                continue
            elif "comment-body" in tokens:
                current.text = element_text(item, _is_chrome)
                current.deleted = is_removed(item, current.text)
            elif "comment-footer" in tokens:
                link = next(item.iter("a"), None)
                shown = element_text(link if link is not None else item, _is_chrome)
                current.date_text = shown.replace("\n", " ") or None
                current.posted_at = parse_date(current.date_text)
                if link is not None:
                    current.url = page.absolute(link.get("href"))
    return records


def _named_anchor(item: Element) -> str | None:
    for link in item.iter("a"):
        name = link.get("name")
        if name:
            return name
    return None


def _is_chrome(element: Element) -> bool:
    tokens = class_tokens(element)
    return element.tag == "img" or any(_ROLE_BY_TOKEN.get(t) is Role.CHROME for t in tokens)


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The Blogger comments of an already parsed page; None when it has no Blogger
    comments section. A recognised section without comments gives an empty thread."""
    outline = page.outline
    records = collect_comments(outline.blogger_threads, BloggerMarkup(), page)
    records.extend(_classic(outline.blogger_blocks, page))
    if not records and "blogger" not in outline.comment_sections:
        return None
    return finish(page, records, source_format=FORMAT)


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a Blogger post page with its comments.

    Raises:
        ParseError: the page is not HTML, or has no Blogger comments section.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

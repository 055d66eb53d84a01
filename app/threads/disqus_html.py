"""Disqus threads as their embed renders them, saved with the page (or the embed's iframe).

The embed's ``ul#post-list`` holds one ``li.post`` (``id="post-<disqus id>"``) per comment;
its replies sit in the ``ul.children`` inside it, so the DOM gives the nesting. Inside a
post: ``span.author``, the permalink ``a.time-ago`` (its title is the full date, in the
reader's language), the text ``div.post-message``; menus, votes, share buttons and the
"in reply to" link are chrome. A deleted comment keeps its ``li.post`` with Disqus' notice
in place of the message and is kept as a placeholder.
"""

from __future__ import annotations

import re

from app.domain import Thread
from app.threads.htmlutil import (
    CommentMarkup,
    Element,
    HtmlPage,
    Role,
    class_tokens,
    collect_comments,
    finish,
    parse_with,
)
from app.threads.options import ParseOptions

FORMAT = "disqus-html"

_ROLE_BY_TOKEN = {
    "children": Role.CHILDREN,
    "author": Role.AUTHOR,
    "time-ago": Role.DATE_BOX,
    "post-message": Role.BODY,
    "post-menu": Role.CHROME,
    "comment__footer": Role.CHROME,
    "avatar": Role.CHROME,
    "indicator": Role.CHROME,
    "parent-link": Role.CHROME,
    "see-more": Role.CHROME,
    "reply-form-container": Role.CHROME,
    "post-media": Role.CHROME,
}
_POST_ID_RE = re.compile(r"post-(\d+)")
# The notice Disqus shows for a removed comment, in the languages of the embed.
_DELETED_RE = re.compile(
    r"^(?:this comment (?:was|has been) (?:deleted|removed)|"
    r"комментарий (?:был )?удал[её]н|dieser kommentar wurde gelöscht|"
    r"ce commentaire a été supprimé)\.?$",
    re.IGNORECASE,
)
_NOT_FOUND = 'no Disqus thread found (looked for ul#post-list holding li.post id="post-N")'


class DisqusMarkup(CommentMarkup):
    """The roles of the Disqus embed's markup."""

    comment_tags = (("li",),)
    # A post is never wrapped in another li.post of itself; one inside another is a reply.
    merge_nested = False

    def classify(self, tokens: list[str]) -> Role:
        """The role an element's class names give it."""
        if "post" in tokens:
            return Role.COMMENT
        for token in tokens:
            role = _ROLE_BY_TOKEN.get(token)
            if role is not None:
                return role
        return Role.OTHER

    def comment_id(self, element: Element) -> str | None:
        """The Disqus post id from ``id="post-<id>"``."""
        found = _POST_ID_RE.fullmatch(element.get("id") or "")
        return found.group(1) if found else None

    def is_deleted(self, element: Element, body: Element | None, text: str) -> bool:
        """True for Disqus' notice in place of a removed comment."""
        return body is None or bool(_DELETED_RE.match(text.strip()))


def _regions(page: HtmlPage) -> list[Element]:
    # "post-list" also names a blog's list of articles (WordPress gives those id="post-N"
    # too), so the list must hold Disqus' message bodies to count.
    for element in page.root.iter("ul"):
        if element.get("id") == "post-list" or "post-list" in class_tokens(element):
            if any("post-message" in class_tokens(div) for div in element.iter("div")):
                return [element]
    return []


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The comments of a page with a rendered Disqus thread; None when it has none."""
    if "disqus-html" not in page.markers:
        return None
    regions = _regions(page)
    if not regions:
        return None
    records = collect_comments(regions, DisqusMarkup(), page)
    if not records:
        return None
    return finish(page, records, source_format=FORMAT)


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a saved page with Disqus' rendered comment thread.

    Raises:
        ParseError: the page is not HTML, or has no Disqus post list with posts.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

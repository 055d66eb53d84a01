"""WordPress comment pages: the classic comment list, WordPress.com, and JSON-LD comments.

`wp_list_comments()` renders `ol.comment-list` (older themes: `ol.commentlist`) with one
`li.comment` (or `li.pingback` / `li.trackback`) per comment, `id="comment-<id>"`, a
`depth-N` class and replies in a nested `ol.children` / `ul.children`. Some themes close
the `<li>` before its reply list (WordPress.com's does), so a reply list that follows a
comment belongs to that comment. Themes that only describe their comments in JSON-LD
(`Comment` objects under the post) are read from there when the page has no comment list.
"""

from __future__ import annotations

from app.domain import CommentKind, Thread
from app.threads.htmlutil import (
    CommentMarkup,
    Element,
    HtmlPage,
    Role,
    collect_comments,
    element_text,
    finish,
    json_ld_comments,
    parse_with,
)
from app.threads.options import ParseOptions
from app.threads.wp_epoch import epoch_comments

FORMAT = "wordpress"

_COMMENT_TOKENS = frozenset({"comment", "pingback", "trackback"})
_LINKBACK_TOKENS = frozenset({"pingback", "trackback"})
_ROLE_BY_TOKEN = {
    "children": Role.CHILDREN,
    "fn": Role.AUTHOR,
    "comment-author": Role.AUTHOR,
    "comment-author-name": Role.AUTHOR,
    "comment-metadata": Role.DATE_BOX,
    "commentmetadata": Role.DATE_BOX,
    "comment-date": Role.DATE_BOX,
    "comment-time": Role.DATE_BOX,
    "comment-content": Role.BODY,
    "contenttext": Role.BODY,
    "comment-text": Role.BODY,
    "commenttext": Role.BODY,
    "comment_text": Role.BODY,
    "comment-entry": Role.BODY,
    "comment-body": Role.BODY_BOX,
    "reply": Role.CHROME,
    "comment-reply-link": Role.CHROME,
    "comment-reply-login": Role.CHROME,
    "comment-likes": Role.CHROME,
    "comment-like-link": Role.CHROME,
    "comment-like-feedback": Role.CHROME,
    "says": Role.CHROME,
    "comment-actions": Role.CHROME,
    "edit-link": Role.CHROME,
    "comment-edit-link": Role.CHROME,
    "avatar": Role.CHROME,
    "comment-awaiting-moderation": Role.CHROME,
    "sharedaddy": Role.CHROME,
    "screen-reader-text": Role.CHROME,
    "comment-respond": Role.CHROME,
}

_NOT_FOUND = (
    "no WordPress comments found (looked for ol.comment-list / ol.commentlist with "
    "li.comment, a comments-area or comment form, and JSON-LD Comment objects)"
)


class WordPressMarkup(CommentMarkup):
    """The roles of `wp_list_comments()` markup and its common theme variations."""

    comment_tags = (("li",), ("div", "article"))

    def classify(self, tokens: list[str]) -> Role:
        """The role an element's class names give it."""
        if not _COMMENT_TOKENS.isdisjoint(tokens):
            return Role.COMMENT
        for token in tokens:
            role = _ROLE_BY_TOKEN.get(token)
            if role is not None:
                return role
        return Role.OTHER

    def kind(self, element: Element) -> CommentKind:
        """A pingback or trackback by its `li.pingback` / `li.trackback` class."""
        classes = (element.get("class") or "").split()
        if "pingback" in classes:
            return "pingback"
        return "trackback" if "trackback" in classes else "comment"

    def fallback_author(self, element: Element, body: Element | None) -> str | None:
        """A pingback's or trackback's author is the page that linked here."""
        classes = (element.get("class") or "").split()
        if _LINKBACK_TOKENS.isdisjoint(classes):
            return None
        link = next((body if body is not None else element).iter("a"), None)
        return element_text(link) or None if link is not None else None


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The WordPress comments of an already parsed page; None when it has no WordPress
    comments section. A recognised section without comments gives an empty thread."""
    outline = page.outline
    records = collect_comments(outline.wordpress_lists, WordPressMarkup(), page)
    if not records:
        # A comments plugin may render the comments itself, beside the theme's empty list.
        records = epoch_comments(page)
    if not records:
        records = json_ld_comments(page)
    if not records and "wordpress" not in outline.comment_sections:
        return None
    return finish(page, records, source_format=FORMAT)


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a WordPress (or WordPress.com) post page with its comments.

    Raises:
        ParseError: the page is not HTML, or has no WordPress comments section.
    """
    return parse_with(from_tree, data, options, not_found=_NOT_FOUND)

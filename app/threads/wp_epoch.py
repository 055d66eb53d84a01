"""Comments rendered by Epoch, a WordPress comments plugin, instead of the theme's list.

Epoch gives each comment a ``div#comment-N[data-comment-id=N]`` wrapping an
``article.epoch-single-comment``; replies sit in ``div.epoch-child.child-of-N`` blocks
inside the comment they answer, so a comment's parent is the nearest enclosing comment.
The author is ``a.epoch-author-link`` (plain text before the ``·`` divider when the
commenter left no site), the date the ``time`` in the permalink (its ``datetime``
attribute is the literal template name ``comment_date``, so only its text is read), the
text ``div.epoch-comment-content`` without the moderation plugin's "Report" link.
"""

from __future__ import annotations

from app.threads.dates import parse_date
from app.threads.htmlutil import Element, HtmlPage, element_text, has_class_xpath, xpath_elements
from app.threads.tree import RawComment

_COMMENTS = f"//div[@data-comment-id][article[{has_class_xpath('epoch-single-comment')}]]"
_BODY = f"./article[{has_class_xpath('epoch-single-comment')}]"


def _first(element: Element, path: str) -> Element | None:
    return next(iter(xpath_elements(element, path)), None)


def _not_content(element: Element) -> bool:
    return "pmcc-comments-report-link" in (element.get("class") or "")


def epoch_comments(page: HtmlPage) -> list[RawComment]:
    """The page's Epoch comments in document order; empty when Epoch did not render any."""
    blocks = xpath_elements(page.root, _COMMENTS)
    ids = {
        id(block): block.get("id") or f"comment-{block.get('data-comment-id')}" for block in blocks
    }
    records: list[RawComment] = []
    for block in blocks:
        parent = next((ids[id(a)] for a in block.iterancestors("div") if id(a) in ids), None)
        body = _first(block, _BODY)
        if body is None:  # pragma: no cover - the XPath asks for the article
            continue
        author_box = _first(body, f".//div[{has_class_xpath('epoch-comment-author')}]")
        link = _first(body, f".//a[{has_class_xpath('epoch-author-link')}]")
        author = element_text(link) if link is not None else None
        if not author and author_box is not None:
            # No site given: the name is the box's own text before the "·" divider.
            author = (author_box.text or "").strip() or None
            for child in author_box:
                if "epoch-divide" in (child.get("class") or ""):
                    break
                author = author or (child.tail or "").strip() or None
        moment = _first(body, ".//time")
        date_text = element_text(moment) if moment is not None else None
        permalink = _first(body, f".//a[{has_class_xpath('epoch-comment-link')}]")
        content = _first(body, f".//div[{has_class_xpath('epoch-comment-content')}]")
        records.append(
            RawComment(
                comment_id=ids[id(block)],
                parent_id=parent,
                text=element_text(content, _not_content) if content is not None else "",
                author=author,
                posted_at=parse_date(date_text) if date_text else None,
                date_text=date_text or None,
                url=page.absolute(permalink.get("href")) if permalink is not None else None,
                anchor=block.get("id"),
            )
        )
    return records

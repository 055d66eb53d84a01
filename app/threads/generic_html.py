"""Comment pages of unknown software: repeated comment blocks found by their classes.

A comment block is an element whose class names a comment, reply, post or message
("comment", "forum-post", "reply", "message") and that holds an author and some text.
Every class seen on the page (outside sidebars, widgets and navigation) is a candidate
group; the group with the most such blocks wins, the outer one on a tie (`li.comment`
over the `div.comment-body` inside it). A block inside another block of the group is its
reply; when the blocks are flat, indentation classes ("depth-2", "level-1", "indent-3")
or `data-depth` give the nesting, else how far each block is indented (see
`indent_levels`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

from app.domain import Thread
from app.threads.htmlutil import (
    CommentMarkup,
    Element,
    HtmlPage,
    Role,
    class_tokens,
    collect_comments,
    comment_id_from_anchor,
    finish,
    is_noise,
    parse_with,
)
from app.threads.options import ParseOptions
from app.threads.tree import RawComment

FORMAT = "html-generic"

_KEY_RE = re.compile(r"comment|reply|post|message", re.IGNORECASE)
# Class names that name a part of a comment or a container of many, not one comment.
_NOT_A_BLOCK_RE = re.compile(
    r"(?:list|lists|area|form|respond|section|holder|container|wrapper|wrap|nav|navigation|"
    r"count|counts|link|links|title|header|footer|meta|metadata|date|time|author|avatar|"
    r"content|body|text|actions?|buttons?|icon|comments|replies|posts|messages|children|"
    r"threads?|feed|field|input|editor|toolbar|pages?|pagination|tags?|categor(?:y|ies)|"
    r"id|num|number|permalink|share|likes?|votes?|rating|score|notes|closed|open|"
    r"status|heading|label|format|type|template|single|navigation|policy)$",
    re.IGNORECASE,
)
_MAX_GROUPS = 4
_MIN_BLOCKS = 2
"""Blocks a group needs, unless its class says "comment" (then one is enough)."""

_CHROME_PARTS = (
    "avatar",
    "button",
    "signature",
    "toolbar",
    "replylink",
    "reply-link",
    "share",
    "vote",
    "report",
    "reaction",
    "screen-reader",
)
_CHROME_WORDS = frozenset({"like", "likes", "edit", "btn", "actions", "action", "controls"})
_CHROME_WORDS |= {"menu", "flag", "reply", "quote-button", "permalink-button"}
_AUTHOR_PARTS = ("author", "username", "poster", "commenter", "byline", "nickname")
_AUTHOR_WORDS = frozenset({"user", "name", "fn", "nick", "who", "from"})
_DATE_PARTS = ("timestamp", "date", "posted", "published")
_DATE_WORDS = frozenset({"time", "ago", "when"})
_BODY_PARTS = ("content", "message", "text")
_BOX_PARTS = ("body",)
_WORD_SPLIT_RE = re.compile(r"[-_]+")
_LEVEL_ATTRS = ("data-depth", "data-level", "data-indent")
_ID_ATTRS = ("data-comment-id", "data-post-id", "data-id")


class GenericMarkup(CommentMarkup):
    """Roles guessed from common class-name words, for one chosen group of blocks."""

    def __init__(self, key: str, tag: str, blocks: list[Element]) -> None:
        self.comment_tags = ((tag,),)
        super().__init__()
        self.key = key
        self._key_words = set(_WORD_SPLIT_RE.split(key))
        self.blocks = set(blocks)
        self._indents: dict[Element, int] = {}
        levels = [lv for lv in (self._raw_level(b) for b in blocks) if lv is not None]
        if not levels:
            self._indents = indent_levels(blocks)
            levels = list(self._indents.values())
        # Levels may count from 0 or 1; the walk wants the top level to be 1.
        self._level_offset = 1 - min(levels) if levels else 0

    comment_tags: tuple[tuple[str, ...], ...] = ()
    merge_nested = False

    def role(self, element: Element) -> Role:
        """COMMENT for the group's blocks; otherwise guessed from itemprop and class."""
        if element in self.blocks:
            return Role.COMMENT
        itemprop = element.get("itemprop")
        if itemprop in ("author", "creator"):
            return Role.AUTHOR
        if itemprop in ("text", "commentText", "articleBody"):
            return Role.BODY
        if itemprop in ("dateCreated", "datePublished"):
            return Role.DATE if element.tag == "time" else Role.DATE_BOX
        role = super().role(element)
        if role is Role.COMMENT:
            # A class that names a comment but is not the chosen group: an ordinary box.
            return Role.OTHER
        if role is Role.OTHER and element.tag == "cite":
            return Role.AUTHOR
        return role

    def outside_body(self, element: Element) -> bool:
        """True for what a block's body text leaves out: chrome and nested blocks."""
        return self.role(element) in (Role.CHROME, Role.COMMENT, Role.CHILDREN)

    def classify(self, tokens: list[str]) -> Role:
        """The role an element's class names give it."""
        best = Role.OTHER
        for token in tokens:
            low = token.lower()
            if low == self.key:
                continue
            # "reply-text" in a group of "reply" blocks is the reply's text, not a button.
            words = set(_WORD_SPLIT_RE.split(low)) - self._key_words
            if any(p in low for p in _CHROME_PARTS) or not _CHROME_WORDS.isdisjoint(words):
                return Role.CHROME
            if any(p in low for p in _AUTHOR_PARTS) or not _AUTHOR_WORDS.isdisjoint(words):
                best = Role.AUTHOR
            elif best is not Role.AUTHOR and (
                any(p in low for p in _DATE_PARTS) or not _DATE_WORDS.isdisjoint(words)
            ):
                best = Role.DATE_BOX
            elif best is Role.OTHER and any(p in low for p in _BODY_PARTS):
                best = Role.BODY
            elif best is Role.OTHER and any(p in low for p in _BOX_PARTS):
                best = Role.BODY_BOX
        return best

    def comment_id(self, element: Element) -> str | None:
        """The block's id ("comment-12" -> "12"), else a data-*-id attribute."""
        anchor = element.get("id")
        if anchor:
            return comment_id_from_anchor(anchor)
        for name in _ID_ATTRS:
            value = element.get(name)
            if value:
                return value.strip()
        return None

    def level(self, element: Element) -> int | None:
        """The block's indentation level, counted from 1."""
        raw = self._raw_level(element)
        return None if raw is None else raw + self._level_offset

    def _raw_level(self, element: Element) -> int | None:
        for name in _LEVEL_ATTRS:
            value = (element.get(name) or "").strip()
            if value.isdigit():
                return int(value)
        level = super().level(element)
        return level if level is not None else self._indents.get(element)


_INDENT_RE = re.compile(
    r"(?:^|;)\s*(?:margin|padding)-left\s*:\s*(\d+(?:\.\d+)?)\s*(px|em|rem|pt|%)?",
    re.IGNORECASE,
)
_SPACER_RE = re.compile(r"(?:^|/)(?:s|spacer|blank|pixel|clear|trans|transparent)\.(?:gif|png)$")


def indent_levels(blocks: list[Element]) -> dict[Element, int]:
    """Levels (0 for the least indented) of flat blocks that show their nesting only as
    indentation: a left margin or padding in their style, else in the style of a wrapper
    of their own, else the width of a spacer image; empty when they show none, or when
    the blocks nest (the DOM gives their parents then)."""
    members = set(blocks)
    for block in blocks:
        # Stops at the first enclosing block, so a deeply nested thread costs a few steps
        # per block, not its depth.
        node = block.getparent()
        while node is not None:
            if node in members:
                return {}
            node = node.getparent()
    for measure in (_own_style, _wrapper_style, _spacer_width):
        found = measure(blocks)
        if found is None:
            continue
        values = sorted(set(found.values()))
        if len(values) < 2:
            return {}
        # The smallest step between two levels is one level, however many pixels or ems
        # the theme indents by; a block that skips one still lands on the right level.
        step = min(b - a for a, b in zip(values, values[1:], strict=False))
        return {block: round((v - values[0]) / step) for block, v in found.items()}
    return {}


def _style_indent(element: Element | None) -> tuple[float, str] | None:
    found = _INDENT_RE.search(element.get("style") or "") if element is not None else None
    return (float(found.group(1)), (found.group(2) or "px").lower()) if found else None


def _in_one_unit(indents: dict[Element, tuple[float, str] | None]) -> dict[Element, float] | None:
    units = {i[1] for i in indents.values() if i is not None}
    if len(units) != 1:
        return None  # none, or em beside px: not comparable
    # A block without an indent of its own sits at the left edge.
    return {b: (i[0] if i is not None else 0.0) for b, i in indents.items()}


def _own_style(blocks: list[Element]) -> dict[Element, float] | None:
    return _in_one_unit({b: _style_indent(b) for b in blocks})


def _wrapper_style(blocks: list[Element]) -> dict[Element, float] | None:
    parents = [b.getparent() for b in blocks]
    if len({id(p) for p in parents}) != len(blocks):
        return None  # a container shared by several blocks says nothing about each
    return _in_one_unit({b: _style_indent(p) for b, p in zip(blocks, parents, strict=True)})


def _spacer_width(blocks: list[Element]) -> dict[Element, float] | None:
    widths: dict[Element, float] = {}
    for block in blocks:
        widths[block] = 0.0
        for image in block.iter("img"):
            width = (image.get("width") or "").strip()
            flat = (image.get("height") or "").strip() in ("0", "1")
            if width.isdigit() and (flat or _SPACER_RE.search(image.get("src") or "")):
                widths[block] = float(width)
                break
    return widths if any(widths.values()) else None


@dataclass(slots=True)
class _Group:
    key: str
    tag: str
    blocks: list[Element]
    first: int
    """Document position of the first block (earlier means outer on a tie)."""


def _is_key(token: str, cache: dict[str, bool]) -> bool:
    known = cache.get(token)
    if known is None:
        low = token.lower()
        known = bool(_KEY_RE.search(low)) and not _NOT_A_BLOCK_RE.search(low)
        known = known and not any(ch.isdigit() for ch in low)
        cache[token] = known
    return known


def _candidate_groups(page: HtmlPage) -> list[_Group]:
    """Groups of elements sharing a tag and a comment-like class, largest first."""
    groups: dict[tuple[str, str], _Group] = {}
    cache: dict[str, bool] = {}
    article_line = _article_ancestors(page)
    position = 0
    stack: list[Element] = [page.root]
    while stack:
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str):
            continue
        position += 1
        tokens = class_tokens(element)
        # Forum software wraps its posts in a moderation <form>; other furniture is out.
        if tag != "form" and is_noise(element, tokens):
            continue
        if element not in article_line:
            for token in tokens:
                if _is_key(token, cache):
                    group = groups.get((tag, token.lower()))
                    if group is None:
                        group = groups[(tag, token.lower())] = _Group(
                            token.lower(), tag, [], position
                        )
                    group.blocks.append(element)
        if len(element):
            stack.extend(reversed(element))
    ranked = sorted(groups.values(), key=lambda g: (-len(g.blocks), g.first))
    # A page's widgets (post lists, counters) can outnumber its comments; the largest
    # groups that say "comment" are tried as well, whatever their size.
    named = [g for g in ranked[_MAX_GROUPS:] if "comment" in g.key][:_MAX_GROUPS]
    return ranked[:_MAX_GROUPS] + named


def _article_ancestors(page: HtmlPage) -> set[Element]:
    """The article body and every element around it: they hold the post, not a comment."""
    first = page.outline.first
    body = next(
        (
            first[k]
            for k in ("itemprop:articleBody", "body:entry-content", "body:post-body")
            if k in first
        ),
        None,
    )
    out: set[Element] = set()
    while body is not None:
        out.add(body)
        body = body.getparent()
    return out


def _read_group(group: _Group, page: HtmlPage) -> tuple[list[RawComment], int]:
    markup = GenericMarkup(group.key, group.tag, group.blocks)
    records = collect_comments([page.root], markup, page)
    good = sum(1 for r in records if r.author and r.text)
    return records, good


def from_tree(page: HtmlPage, options: ParseOptions) -> Thread | None:
    """The comments of an already parsed page found as repeated blocks; None when no
    group of blocks with authors and text is found."""
    best: tuple[int, int, list[RawComment]] | None = None
    for group in _candidate_groups(page):
        records, good = _read_group(group, page)
        needed = 1 if "comment" in group.key else _MIN_BLOCKS
        if good < needed:
            continue
        if best is None or good > best[0] or (good == best[0] and group.first < best[1]):
            best = (good, group.first, records)
    if best is None:
        return None
    return finish(page, _with_reply_links(best[2], page), source_format=FORMAT)


# How a flat page says which comment a reply answers, next to a link to it: "Antwort auf
# #1 von X", "In reply to X", … (lower case; one language per entry, extend as pages show).
REPLY_LABELS: Final = (
    "in reply to",
    "reply to",
    "replying to",
    "antwort auf",
    "en réponse à",
    "réponse à",
    "respuesta a",
    "en respuesta a",
    "in risposta a",
    "risposta a",
    "reactie op",
    "em resposta a",
    "odpowiedź na",
    "ответ на",
)


def _with_reply_links(records: list[RawComment], page: HtmlPage) -> list[RawComment]:
    """On a flat page (no comment nested under another), a comment whose block links to
    another comment's anchor under a reply label ("Antwort auf #1 von X") replies to it.

    Only a link inside the comment's own block counts, and only to a comment of the same
    list that comes before it, so a quote or a link to another page never rewires the tree.
    """
    if any(r.parent_id is not None for r in records):
        return records
    position = {r.anchor: i for i, r in enumerate(records) if r.anchor}
    if len(position) < 2:
        return records
    # One walk finds every comment's block by its id (a lookup per comment would walk the
    # page once each).
    blocks: dict[str, Element] = {}
    for element in page.root.iter():
        anchor = element.get("id") if isinstance(element.tag, str) else None
        if anchor in position and anchor not in blocks:
            blocks[anchor] = element
    out = list(records)
    for i, record in enumerate(records):
        block = blocks.get(record.anchor or "")
        if block is None:
            continue
        target = _reply_target(block)
        if target is not None and position.get(target, i) < i:
            out[i] = replace(record, parent_id=records[position[target]].comment_id)
    return out


def _reply_target(block: Element) -> str | None:
    for holder in block.iter("a", "form"):
        address = holder.get("href") if holder.tag == "a" else holder.get("action")
        if not address or "#" not in address:
            continue
        label = " ".join(str(part) for part in holder.itertext()).strip().lower()
        if any(label.startswith(word) or f" {word} " in f" {label} " for word in REPLY_LABELS):
            return address.rsplit("#", 1)[1] or None
    return None


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse an HTML page of unknown software by its repeated comment blocks.

    Raises:
        ParseError: the page is not HTML, or has no repeated blocks with authors and text.
    """
    return parse_with(
        from_tree,
        data,
        options,
        not_found="HTML page has no repeated comment blocks (elements sharing a class with "
        "comment, reply, post or message in it, each with an author and text)",
    )

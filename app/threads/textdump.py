"""Plain-text dumps of a comment page, as a browser's "save as text" or a copy-paste gives.

The shape (see `../shared/seeds/004_*.txt`): the article first (title on the first line,
paragraphs separated by blank lines), then numbered comment headers, nested by indentation::

      1. John Mason says
         December 17, 2019 at 3:12 pm          <- optional date line
        Sometimes the Chinese and Russians …

        1. FilastinHuratan says                 <- a reply: indented deeper, numbered from 1
          NK does not have that statement …
          Reply                                  <- UI chrome, dropped

A header is `N. <author> says` (also `said`, `wrote`, with an optional colon and date).
Reading is line by line with a stack of open comments, so nesting depth costs no recursion.
A body line that happens to look like a header is told apart by numbering: a header must
continue its level's numbering (1 for the first reply, previous + 1 for a sibling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.domain import Article, Paragraph, Thread
from app.errors import ParseError
from app.threads.dates import DATE_RE, parse_date
from app.threads.options import ParseOptions, decode_text
from app.threads.tree import RawComment, build_thread, mark_linkback

_HEADER_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<num>\d{1,6})\.[ \t]+(?P<author>\S.*?)[ \t]+"
    r"(?:says|said|wrote)(?:[ \t]*:)?(?:[ \t]+(?:on[ \t]+)?(?P<date>.+?))?[ \t]*$"
)
_DATE_LINE_RE = re.compile(rf"^(?:on\s+)?(?P<date>{DATE_RE.pattern})\s*:?$", DATE_RE.flags)
_CHROME_RE = re.compile(
    r"^(?:Reply(?:\s*↓)?|Log in to Reply|Like|Report|Share|Permalink|"
    r"(?:Loading|Like|Likes|Reply)\.\.\.|\d+ (?:Likes?|Replies))$",
    re.IGNORECASE,
)
_COMMENTS_HEADING_RE = re.compile(
    r"^(?:\d+|No|One|Two|Three)?\s*(?:Comments?|Responses?|Replies|Thoughts?)"
    r"(?:\s+(?:on|to)\s+.*)?:?$|^Leave a (?:Reply|Comment)$",
    re.IGNORECASE,
)
TAB_WIDTH = 4


@dataclass
class _Open:
    """A comment whose body is still being read."""

    indent: int
    raw: RawComment
    lines: list[str] = field(default_factory=list)
    replies: int = 0


def parse(data: bytes, options: ParseOptions) -> Thread:
    """Parse a plain-text dump of a comment page.

    Raises:
        ParseError: the text has no numbered comment headers.
    """
    lines = decode_text(data).expandtabs(TAB_WIDTH).splitlines()
    first = _first_header(lines)
    if first is None:
        raise ParseError("text has no numbered comment headers like '1. Name says'")
    article = _read_article(lines[:first])

    records: list[RawComment] = []
    stack: list[_Open] = []
    top_level = 0
    for line in lines[first:]:
        header = _HEADER_RE.match(line)
        if header and _continues_numbering(header, stack, top_level):
            indent = len(header.group("indent"))
            while stack and stack[-1].indent >= indent:
                _close(stack.pop())
            number = int(header.group("num"))
            parent = stack[-1] if stack else None
            if parent is None:
                top_level = number
            else:
                parent.replies = number
            comment_id = f"{parent.raw.comment_id}.{number}" if parent else str(number)
            date_text = header.group("date")
            raw = RawComment(
                comment_id=comment_id,
                parent_id=parent.raw.comment_id if parent else None,
                text="",
                author=header.group("author").strip(),
                date_text=date_text,
                posted_at=parse_date(date_text) if date_text else None,
            )
            records.append(raw)
            stack.append(_Open(indent, raw))
        elif stack:
            stack[-1].lines.append(line)
    while stack:
        _close(stack.pop())
    return build_thread(
        [mark_linkback(raw) for raw in records],
        article=article,
        url=options.url,
        source_format="text",
        include_pingbacks=options.include_pingbacks,
    )


def _first_header(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        match = _HEADER_RE.match(line)
        if match and match.group("num") == "1":
            return i
    return None


def _continues_numbering(header: re.Match[str], stack: list[_Open], top_level: int) -> bool:
    """True when `header` is the next comment at its level, not a body line lookalike."""
    indent = len(header.group("indent"))
    parent = next((item for item in reversed(stack) if item.indent < indent), None)
    expected = (parent.replies if parent else top_level) + 1
    return int(header.group("num")) == expected


def _close(item: _Open) -> None:
    """Turn the collected body lines into the comment's text and date."""
    lines = [line.rstrip() for line in item.lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and item.raw.date_text is None:
        date_line = _DATE_LINE_RE.match(lines[0].strip())
        if date_line:
            item.raw.date_text = date_line.group("date")
            item.raw.posted_at = parse_date(item.raw.date_text)
            lines.pop(0)
    lines = [line for line in lines if not _CHROME_RE.match(line.strip())]
    item.raw.text = _join_paragraphs(lines)


def _join_paragraphs(lines: list[str]) -> str:
    """Dedent, keep line breaks inside a paragraph, and one blank line between paragraphs."""
    body = [line for line in lines if line.strip()]
    if not body:
        return ""
    margin = min(len(line) - len(line.lstrip(" ")) for line in body)
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line[margin:].rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def _read_article(lines: list[str]) -> Article:
    """The title is the first non-blank line; paragraphs are separated by blank lines."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    texts = [" ".join(b) for b in blocks if b]
    # Page chrome between the article and the comments ("14 Comments", "Leave a Reply").
    while texts and _COMMENTS_HEADING_RE.match(texts[-1]):
        texts.pop()
    if not texts:
        return Article()
    title, *paragraphs = texts
    return Article(title=title, paragraphs=tuple(Paragraph(p) for p in paragraphs))


def render(thread: Thread) -> str:
    """Write `thread` as a text dump that `parse` reads back to the same tree.

    Comment text must not contain lines that look like a comment header ("3. X says");
    the text form cannot tell those apart from a real header, which is why JSON is the
    lossless form.
    """
    out: list[str] = []
    if thread.article.title:
        out += [thread.article.title, ""]
    for paragraph in thread.article.paragraphs:
        out += [paragraph.text, ""]
    numbers: dict[str | None, int] = {}
    for comment in thread.walk():
        numbers[comment.parent_id] = numbers.get(comment.parent_id, 0) + 1
        pad = "  " * (comment.depth + 1)
        author = comment.author or "Anonymous"
        out.append(f"{pad}{numbers[comment.parent_id]}. {author} says")
        if comment.date_text:
            out.append(f"{pad}  {comment.date_text}")
        out.append("")
        for text_line in comment.text.split("\n"):
            out.append(f"{pad}  {text_line}" if text_line else "")
        out.append("")
    return "\n".join(out)

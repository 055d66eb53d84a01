"""Helpers the export parsers share: defused streaming XML, and markup or plain text to text.

XML exports are read with defusedxml's expat parser, which refuses any DTD before a single
entity is declared, so a billion-laughs bomb or an external entity (``file:///etc/passwd``)
fails at its ``<!DOCTYPE`` instead of being expanded. Exports never need a DTD.

HTML bodies are read with an lxml parser target: lxml calls back for every tag and text run
and builds no tree, so a comment nested 10,000 tags deep keeps all its text (lxml's tree
builder silently drops everything below depth 255) and costs no recursion.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from enum import Enum
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

# defusedxml ships no type hints; `types-defusedxml` in the dev tools would make this moot.
from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped, unused-ignore]
from lxml import etree

from app.errors import ParseError

_BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre
    section summary table tbody tfoot thead tr ul""".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_TAGS = frozenset({"script", "style", "template", "head", "noscript"})
_SPACE_RE = re.compile(r"\s+")
_NEWLINES_RE = re.compile(r"[^\S\n]*\n(?:[^\S\n]*\n)*[^\S\n]*")


class _Mark(Enum):
    """A break between text tokens (never confused with text, whatever the text holds)."""

    BREAK = "br"
    PARAGRAPH = "p"


def stream_xml(data: bytes, *, what: str) -> Iterator[tuple[str, Element, list[Element]]]:
    """Yield ``(event, element, ancestors)`` for every start and end tag of `data`.

    `ancestors` is the live list of open elements above `element` (its parent last); a
    caller frees memory by removing a finished element from ``ancestors[-1]``.

    Raises:
        ParseError: the XML is not well-formed, or declares a DTD or entities.
    """
    ancestors: list[Element] = []
    events = iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
    try:
        for event, element in events:
            if event == "start":
                yield event, element, ancestors
                ancestors.append(element)
            else:
                ancestors.pop()
                yield event, element, ancestors
    except DefusedXmlException as exc:
        raise ParseError(
            f"{what} declares a DTD or entities (<!DOCTYPE …>), which threadguard refuses "
            "to read, so nothing in it is expanded or fetched"
        ) from exc
    except XMLSyntaxError as exc:
        raise ParseError(f"{what} is not well-formed XML: {exc}") from exc


def detach(element: Element, ancestors: list[Element]) -> None:
    """Drop a finished element from its parent so the parsed part of the file is freed."""
    if ancestors:
        ancestors[-1].remove(element)


def local_name(tag: str) -> str:
    """The tag or attribute name without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    """The namespace URI of a ``{namespace}name`` tag, or "" for none."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def element_text(element: Element | None) -> str:
    """All the text inside `element` (CDATA included), stripped; "" for None."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


class _TextTarget:
    """An lxml parser target that turns tags and text into text, break and paragraph tokens."""

    def __init__(self, newlines_are_breaks: bool) -> None:
        self.tokens: list[str | _Mark] = []
        self.hidden = 0
        self.newlines_are_breaks = newlines_are_breaks

    # lxml passes `str`; the `bytes` in these signatures is only what its stubs declare.
    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes]) -> None:
        name = _str(tag).lower()
        if name in _HIDDEN_TAGS:
            self.hidden += 1
        elif name == "br":
            self.tokens.append(_Mark.BREAK)
        elif name in _BLOCK_TAGS:
            self.tokens.append(_Mark.PARAGRAPH)
        elif name in _CELL_TAGS:
            self.tokens.append(" ")

    def end(self, tag: str | bytes) -> None:
        name = _str(tag).lower()
        if name in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif name in _BLOCK_TAGS:
            self.tokens.append(_Mark.PARAGRAPH)
        elif name in _CELL_TAGS:
            self.tokens.append(" ")

    def data(self, data: str | bytes) -> None:
        if self.hidden:
            return
        data = _str(data)
        if not self.newlines_are_breaks:
            self.tokens.append(data)
            return
        # WordPress stores bodies before `wpautop`: a blank line is a paragraph, a single
        # newline a line break.
        last = 0
        for found in _NEWLINES_RE.finditer(data):
            self.tokens.append(data[last : found.start()])
            self.tokens.append(_Mark.PARAGRAPH if found.group(0).count("\n") > 1 else _Mark.BREAK)
            last = found.end()
        self.tokens.append(data[last:])

    def comment(self, text: str | bytes) -> None:
        pass

    def close(self) -> None:
        pass


def _str(value: str | bytes) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def html_paragraphs(markup: str, *, newlines_are_breaks: bool = False) -> list[str]:
    """The visible text of an HTML fragment as paragraphs; a ``<br>`` is "\\n" inside one.

    Two line breaks in a row start a new paragraph, as they look on the page. With
    `newlines_are_breaks`, newlines in the text count as ``<br>`` (and blank lines as
    paragraph ends), which is how WordPress renders stored comment and post bodies.
    """
    if not markup.strip():
        return []
    target = _TextTarget(newlines_are_breaks)
    parser = etree.HTMLParser(target=target, no_network=True)
    try:
        parser.feed(markup)
        parser.close()
    except etree.LxmlError:
        # libxml2's HTML parser recovers from anything; what little it still rejects (an
        # empty document) has no text to lose.
        pass
    return _assemble(target.tokens)


def html_to_text(markup: str, *, newlines_are_breaks: bool = False) -> str:
    """The visible text of an HTML fragment, paragraphs separated by blank lines."""
    return "\n\n".join(html_paragraphs(markup, newlines_are_breaks=newlines_are_breaks))


def plain_paragraphs(text: str) -> list[str]:
    """Plain text as paragraphs: blank lines separate them, single newlines stay as "\\n"."""
    tokens: list[str | _Mark] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        tokens.extend((line, _Mark.BREAK))
    return _assemble(tokens)


def plain_to_text(text: str) -> str:
    """Plain text, whitespace-normalised, keeping paragraph breaks as "\\n\\n"."""
    return "\n\n".join(plain_paragraphs(text))


def _assemble(tokens: list[str | _Mark]) -> list[str]:
    """Join text tokens into paragraphs; an empty line (two breaks) also ends a paragraph."""
    paragraphs: list[str] = []
    lines: list[str] = []
    current: list[str] = []

    def end_line() -> None:
        line = _SPACE_RE.sub(" ", "".join(current)).strip()
        current.clear()
        if line:
            lines.append(line)
        elif lines:
            end_paragraph()

    def end_paragraph() -> None:
        if lines:
            paragraphs.append("\n".join(lines))
            lines.clear()

    for token in tokens:
        if isinstance(token, str):
            current.append(token)
        elif token is _Mark.BREAK:
            end_line()
        else:
            end_line()
            end_paragraph()
    end_line()
    end_paragraph()
    return paragraphs

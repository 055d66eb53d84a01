"""Where an article's paragraphs come from: the page's own words, or a quote of an original.

A blog often reposts a news article between paragraphs of its own, and edits the quote
on the way (a changed word, a bracketed remark). Given the original article,
`apply_provenance` matches every page paragraph to the original and records the word
diff; without one, it reads what the page itself shows (``>`` block quotes in text,
bracketed editorial insertions such as ``[sic]``).

Typography is not an edit: curly and straight quotes, the kind and spacing of dashes,
whitespace (including where a word was split or joined) and letter case are all ignored
when comparing, while the edits report the words exactly as each side wrote them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import Match, SequenceMatcher
from typing import Literal

from lxml import etree
from lxml import html as lxml_html

from app.domain import Article, Paragraph, Provenance, WordEdit
from app.errors import InputTooLarge, ParseError
from app.threads.options import DEFAULT_MAX_BYTES, decode_text

__all__ = [
    "ParagraphMatch",
    "apply_provenance",
    "find_insertions",
    "match_paragraphs",
    "read_original",
]

# difflib's own cut-off for a "close match" (get_close_matches). On a trimmed window it
# means at most 40% of the quoted words were replaced, or the page added at most 4/3 as
# many words as it kept; `_MIN_PAGE_SHARE` then caps the latter at half the paragraph.
# On the seed repost the edited quotes (one changed word; a six-word bracket after 27
# words) score .98 and .90, while the blogger's commentary, which shares only a phrase or
# two such as "the United States" with the article, scores below .1.
_SIMILAR = 0.6
# A paragraph counts as a quote only when most of its words come from the original;
# otherwise it is the page's own paragraph that cites a few words.
_MIN_PAGE_SHARE = 0.5
# A match that is not a whole original paragraph needs this many shared words, so a short
# own paragraph ("North Korea.") is not taken for an excerpt of a longer one.
_MIN_QUOTE_WORDS = 5
# Runs shorter than this are chance agreement ("of the") and do not anchor a quote.
_MIN_ANCHOR = 3
# How far (in words, on each side) a short agreement may sit from an anchor and still be
# part of the quote: a deleted or replaced word or two, not a new sentence.
_NEAR = 2
_SHINGLE = 3
# Shingles found in more original paragraphs than this carry no information about which
# paragraph is quoted (boilerplate, stock phrases) and would make lookups quadratic.
_MAX_POSTINGS = 32
_CANDIDATES = 3

_DOUBLE_QUOTES = "\u00ab\u00bb\u201c\u201d\u201e\u201f\u2033\u2036\u301d\u301e\u301f\uff02"
_SINGLE_QUOTES = "`\u00b4\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\uff07"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_KEY_TABLE = str.maketrans(
    {
        **dict.fromkeys(_DOUBLE_QUOTES, '"'),
        **dict.fromkeys(_SINGLE_QUOTES, "'"),
        # A dash separates words however it is spaced: "long-range", "long range" and
        # "testing—suspended" / "testing – suspended" compare equal.
        **dict.fromkeys(_DASHES, " "),
        **dict.fromkeys(_INVISIBLE, None),
    }
)

# A bracketed span that is not a Markdown link/image ("[text](url)", "[text][ref]",
# "![alt]") and holds no nested brackets.
_BRACKET_RE = re.compile(r"(?<!!)\[([^\[\]\n]{1,400})\](?![(\[])")
# Footnote marks and the like: "[1]", "[12, 14]", "[a]", "[x]", "[*]", a bare URL.
_FOOTNOTE_RE = re.compile(r"[\W\d_]*|[a-zA-Z]|\d+[a-z]?|https?://\S+", re.ASCII)
_EDITORIAL_MARKERS = frozenset({"sic", "sic!", "ed", "eds", "emphasis", "...", ". . ."})

_QUOTE_LINE_RE = re.compile(r"^[ \t]*>")
_QUOTE_MARKERS_RE = re.compile(r"^[ \t]*(?:>[ \t]*)+")


@dataclass(frozen=True, slots=True)
class ParagraphMatch:
    """How one page paragraph relates to the original article.

    `source_start`/`source_stop` are the original paragraphs the quote spans (a page may
    join two original paragraphs into one); both are None for the page's own words.
    """

    provenance: Provenance
    source_start: int | None = None
    source_stop: int | None = None
    edits: tuple[WordEdit, ...] = ()
    insertions: tuple[str, ...] = ()


# --------------------------------------------------------------------------- original


def read_original(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """The paragraphs of an original article given as plain text, Markdown or HTML.

    Raises:
        InputTooLarge: `data` is over `max_bytes`.
        ParseError: the input is empty, binary, or has no paragraphs.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InputTooLarge(
            f"original article is {size:,} bytes, over the limit of {max_bytes:,} bytes"
        )
    text = decode_text(data) if isinstance(data, bytes) else data
    if "\x00" in text:
        raise ParseError("original article is binary (it contains NUL bytes), not text")
    if not text.strip():
        raise ParseError("original article is empty")
    paragraphs = _html_paragraphs(text) if _looks_like_html(text) else _text_paragraphs(text)
    if not paragraphs:
        raise ParseError("original article has no paragraphs of text")
    return paragraphs


def _looks_like_html(text: str) -> bool:
    # A Markdown file may hold an autolink ("<https://…>") or stray tags; only a document
    # that starts with markup or closes block elements is read as HTML.
    if re.match(r"\s*<(?:!doctype|!--|\?xml|[a-z][a-z0-9]*[\s>/])", text, re.IGNORECASE):
        return True
    return re.search(r"</(?:p|div|article|blockquote|li|body)\s*>", text, re.IGNORECASE) is not None


# Not <form>: ASP.NET pages wrap the whole page in one.
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "aside", "footer")
# "comments", "comment-list", "comments-area", "disqus_thread", but not "commentary".
_COMMENT_SECTION_RE = re.compile(r"(?:comments?|commentlist|disqus_thread)(?:[-_].*)?")
_BLOCK_TAGS = frozenset({"p", "blockquote", "li"})
_CONTENT_XPATHS = (
    "//*[@itemprop='articleBody']",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' entry-content ')]",
    "//article",
)


def _html_paragraphs(text: str) -> list[str]:
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=True)
    try:
        root = lxml_html.document_fromstring(text.encode("utf-8", "surrogatepass"), parser)
    except (etree.ParserError, etree.XMLSyntaxError) as exc:
        raise ParseError(f"original article is not readable HTML: {exc}") from exc
    for element in list(root.iter()):
        if not isinstance(element, lxml_html.HtmlElement) or element.getparent() is None:
            continue
        if element.tag in _DROP_TAGS or _is_comment_section(element):
            element.drop_tree()
    main = _main_content(root)
    out: list[str] = []
    for element in main.iter(*_BLOCK_TAGS):
        paragraph = " ".join(_own_text(element).split())
        if paragraph:
            out.append(paragraph)
    if not out:
        # A page without paragraph markup: its visible text, one paragraph per line.
        lines = main.text_content().splitlines()
        out = [" ".join(line.split()) for line in lines if line.strip()]
    return out


def _is_comment_section(element: etree._Element) -> bool:
    if not isinstance(element.tag, str):
        return False
    names = f"{element.get('id', '')} {element.get('class', '')}".lower().split()
    return any(_COMMENT_SECTION_RE.fullmatch(name) for name in names)


def _main_content(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    for xpath in _CONTENT_XPATHS:
        found = [e for e in root.xpath(xpath) if isinstance(e, lxml_html.HtmlElement)]
        if found:
            # Several <article>s (a list page, or comments marked up as articles): the one
            # with the most paragraph text is the story.
            return max(found, key=lambda e: sum(len(p.text_content()) for p in e.iter("p")))
    body = root.find("body")
    return body if body is not None else root


def _own_text(element: etree._Element) -> str:
    """The text of `element` outside nested p/blockquote/li (those are their own paragraphs)."""
    parts: list[str] = [element.text or ""]
    stack: list[tuple[etree._Element, bool]] = [(c, False) for c in reversed(list(element))]
    while stack:
        node, closing = stack.pop()
        if closing:
            parts.append(node.tail or "")
            continue
        stack.append((node, True))
        if not isinstance(node.tag, str) or node.tag in _BLOCK_TAGS:
            continue
        if node.tag == "br":
            parts.append(" ")
            continue
        parts.append(node.text or "")
        stack.extend((c, False) for c in reversed(list(node)))
    return "".join(parts)


_BLANK_LINE_RE = re.compile(r"\n[ \t\u00a0]*\n")
_RULE_RE = re.compile(r"\s*(?:[-*_]\s*){3,}|\s*=+\s*")
_IMAGE_LINE_RE = re.compile(r"\s*\[?!\[[^\]]*\]\([^)]*\)(?:\]\([^)]*\))?\s*")
_LINK_DEF_RE = re.compile(r"\s*\[[^\]]+\]:\s*\S+.*")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(?:\s+|$)|\s+#+\s*$")
_BULLET_RE = re.compile(r"^\s*(?:>\s?)*(?:[-*+\u2022]\s+)?")
_INLINE_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK_RE = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK_RE = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
# A span holds no further "*" or "_" (nesting is undone by running the rules twice), so
# a text full of unmatched markers stays linear.
_STRONG_RE = re.compile(r"(\*\*|__)(?=[^\s*_])([^*_]{1,500}?)(?<=\S)\1")
_EMPHASIS_RE = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])([^*_]{1,500}?)(?<=\S)\1(?![\w*])")
_CODE_RE = re.compile(r"`+([^`]+)`+")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$<>|~\"'])")


def _text_paragraphs(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for block in _BLANK_LINE_RE.split(text):
        lines: list[str] = []
        for line in block.split("\n"):
            if _RULE_RE.fullmatch(line) or _IMAGE_LINE_RE.fullmatch(line):
                continue
            if _LINK_DEF_RE.fullmatch(line):
                continue
            line = _BULLET_RE.sub("", _HEADING_RE.sub("", line))
            lines.append(line)
        paragraph = " ".join(_strip_inline_markdown(" ".join(lines)).split())
        if paragraph:
            out.append(paragraph)
    return out


def _strip_inline_markdown(text: str) -> str:
    text = _INLINE_IMAGE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(r"\1", text)
    text = _CODE_RE.sub(r"\1", text)
    for _ in range(2):
        text = _STRONG_RE.sub(r"\2", text)
        text = _EMPHASIS_RE.sub(r"\2", text)
    text = _ESCAPE_RE.sub(r"\1", text)
    return html.unescape(text)


# --------------------------------------------------------------------------- words


def _word_key(word: str) -> str:
    """A word as compared: NFKC, one kind of quote, dashes as spaces, case folded."""
    return unicodedata.normalize("NFKC", word).translate(_KEY_TABLE).casefold()


@dataclass(frozen=True, slots=True)
class _Words:
    """A paragraph as the words it shows and the keys it is compared by.

    `keys` skips words that normalise to nothing (a spaced dash); `word_of[i]` is the
    index in `words` of `keys[i]`.
    """

    words: tuple[str, ...]
    keys: tuple[str, ...]
    word_of: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Words:
        words = tuple(text.split())
        keys: list[str] = []
        word_of: list[int] = []
        for index, word in enumerate(words):
            # A word with dashes ("long-range") is compared as its pieces; a lone dash
            # is no word at all.
            for key in _word_key(word).split():
                keys.append(key)
                word_of.append(index)
        return cls(words, tuple(keys), tuple(word_of))


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class _Window:
    """A page paragraph aligned with a run of original keys."""

    start: int
    """Offset of the aligned run in the original's concatenated keys."""
    keys: tuple[str, ...]
    matched: int
    ratio: float
    page_first: int
    """Page keys before this one are not aligned with anything."""
    page_stop: int
    """Page keys from this one on are not aligned with anything."""


class _OriginalIndex:
    """The original article's paragraphs, indexed by exact text and by word shingles."""

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = [_Words.of(p) for p in paragraphs]
        self.counts = [Counter(p.keys) for p in self.paragraphs]
        self.exact: dict[tuple[str, ...], int] = {}
        self.shingles: dict[tuple[str, ...], list[int]] = {}
        self.offsets: list[int] = []
        self.all_keys: list[str] = []
        self.all_words: list[str] = []
        self.key_word: list[int] = []
        for index, para in enumerate(self.paragraphs):
            self.offsets.append(len(self.all_keys))
            self.key_word.extend(len(self.all_words) + w for w in para.word_of)
            self.all_keys.extend(para.keys)
            self.all_words.extend(para.words)
            if para.keys:
                self.exact.setdefault(para.keys, index)
            for shingle in set(_shingles(para.keys)):
                self.shingles.setdefault(shingle, []).append(index)
        self.offsets.append(len(self.all_keys))

    def keys_of(self, lo: int, hi: int) -> list[str]:
        """The keys of paragraphs lo..hi-1, concatenated."""
        return self.all_keys[self.offsets[lo] : self.offsets[hi]]

    def paragraph_at(self, key_offset: int) -> int:
        """The paragraph holding the key at `key_offset` in the concatenated keys."""
        lo, hi = 0, len(self.paragraphs)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.offsets[mid] <= key_offset:
                lo = mid
            else:
                hi = mid
        return lo

    def candidates(self, keys: tuple[str, ...]) -> list[int]:
        """The original paragraphs sharing the most shingles with `keys`, best first."""
        hits: Counter[int] = Counter()
        common: list[list[int]] = []
        for shingle in set(_shingles(keys)):
            postings = self.shingles.get(shingle)
            if postings is None:
                continue
            if len(postings) > _MAX_POSTINGS:
                common.append(postings)
            else:
                hits.update(postings)
        if not hits:
            # Every shared shingle is boilerplate: the paragraph may still be a quote of
            # one of its (many) occurrences; the first one stands for all of them.
            for postings in common:
                hits.update(postings[:_MAX_POSTINGS])
        ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))
        return [index for index, _ in ranked[:_CANDIDATES]]


def _shingles(keys: Sequence[str]) -> Iterable[tuple[str, ...]]:
    if len(keys) < _SHINGLE:
        return [tuple(keys)] if keys else []
    return (tuple(keys[i : i + _SHINGLE]) for i in range(len(keys) - _SHINGLE + 1))


def _align(page: tuple[str, ...], original: Sequence[str], offset: int) -> _Window | None:
    """Align `page` with `original`, trimmed to the part the page quotes; None if no anchor."""
    matcher = SequenceMatcher(None, original, page, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size > 0]
    anchor = min(_MIN_ANCHOR, len(page))
    anchors = [i for i, b in enumerate(blocks) if b.size >= anchor]
    if not anchors:
        return None
    # Short agreements beyond the outermost anchors count only when they follow closely
    # (a word deleted near the end); further out they are chance ("the"), and are dropped
    # so that the window is the part of the original the page quotes: an excerpt is not
    # "missing" the rest of its paragraph.
    lo, hi = anchors[0], anchors[-1]
    while lo > 0 and _near(blocks[lo - 1], blocks[lo]):
        lo -= 1
    while hi + 1 < len(blocks) and _near(blocks[hi], blocks[hi + 1]):
        hi += 1
    blocks = blocks[lo : hi + 1]
    first, last = blocks[0].a, blocks[-1].a + blocks[-1].size
    page_first, page_stop = blocks[0].b, blocks[-1].b + blocks[-1].size
    # Where the page has at least as many unaligned words at an edge as the original, the
    # page replaced them (a changed first or last word), rather than quoting an excerpt.
    if first <= page_first:
        first = 0
    if len(original) - last <= len(page) - page_stop:
        last = len(original)
    # An excerpt's edge word may differ only by punctuation ("2019." for "2019 to"): the
    # page changed that word rather than adding one.
    while first > 0 and page_first > 0 and _same_letters(original[first - 1], page[page_first - 1]):
        first, page_first = first - 1, page_first - 1
    while (
        last < len(original)
        and page_stop < len(page)
        and _same_letters(original[last], page[page_stop])
    ):
        last, page_stop = last + 1, page_stop + 1
    matched = sum(b.size for b in blocks)
    ratio = 2 * matched / (last - first + len(page))
    trimmed = tuple(original[first:last])
    return _Window(offset + first, trimmed, matched, ratio, page_first, page_stop)


def _near(before: Match, after: Match) -> bool:
    gap_a = after.a - (before.a + before.size)
    gap_b = after.b - (before.b + before.size)
    return gap_a <= _NEAR and gap_b <= _NEAR


def _same_letters(a: str, b: str) -> bool:
    letters_a = "".join(c for c in a if c.isalnum())
    return bool(letters_a) and letters_a == "".join(c for c in b if c.isalnum())


def _best_window(index: _OriginalIndex, page: _Words) -> _Window | None:
    best: _Window | None = None
    page_counts = Counter(page.keys)
    seen: set[tuple[str, ...]] = set()
    for start in index.candidates(page.keys):
        keys = index.paragraphs[start].keys
        if keys in seen:
            continue  # a repeated paragraph: its first occurrence was already tried
        seen.add(keys)
        shared = sum((page_counts & index.counts[start]).values())
        if best is not None and shared < best.matched:
            continue  # cannot match more words than the best so far, even alone
        lo, hi = start, start + 1
        window = _align(page.keys, index.keys_of(lo, hi), index.offsets[lo])
        if window is None:
            continue
        # A page may join consecutive original paragraphs into one: while the page has
        # words before (after) the aligned part, try the previous (next) paragraph too, and
        # keep it when it adds matched words without lowering the ratio.
        grown = True
        while grown:
            grown = False
            tries = []
            if window.page_first > 0 and lo > 0:
                tries.append((lo - 1, hi))
            if window.page_stop < len(page.keys) and hi < len(index.paragraphs):
                tries.append((lo, hi + 1))
            for new_lo, new_hi in tries:
                wider = _align(page.keys, index.keys_of(new_lo, new_hi), index.offsets[new_lo])
                if wider and wider.matched > window.matched and wider.ratio >= window.ratio:
                    window, lo, hi, grown = wider, new_lo, new_hi, True
                    break
        if best is None or (window.matched, window.ratio) > (best.matched, best.ratio):
            best = window
    return best


def _match_one(index: _OriginalIndex, text: str) -> ParagraphMatch:
    page = _Words.of(text)
    if not page.keys:
        return ParagraphMatch("own")
    exact = index.exact.get(page.keys)
    if exact is not None:
        return ParagraphMatch("quoted", exact, exact + 1)
    window = _best_window(index, page)
    if window is None:
        return ParagraphMatch("own")
    end = window.start + len(window.keys)
    start, stop = index.paragraph_at(window.start), index.paragraph_at(end - 1) + 1
    whole = index.offsets[start] == window.start and index.offsets[stop] == end
    if not whole and window.matched < _MIN_QUOTE_WORDS:
        return ParagraphMatch("own")
    if window.keys == page.keys:
        return ParagraphMatch("quoted", start, stop)
    if window.ratio < _SIMILAR or window.matched < _MIN_PAGE_SHARE * len(page.keys):
        return ParagraphMatch("own")
    edits = _word_edits(index, window, page)
    if not edits:
        # Only spacing differed ("long range" / "long-range", "testing—suspended").
        return ParagraphMatch("quoted", start, stop)
    quoted_text = " ".join(window.keys)
    insertions = tuple(
        span
        for span in _bracket_spans(text, editorial_only=False)
        if " ".join(_Words.of(span).keys) not in quoted_text
    )
    return ParagraphMatch("edited", start, stop, edits, insertions)


def _word_edits(index: _OriginalIndex, window: _Window, page: _Words) -> tuple[WordEdit, ...]:
    matcher = SequenceMatcher(None, window.keys, page.keys, autojunk=False)
    orig_word = index.key_word[window.start : window.start + len(window.keys)]
    # Changed key spans, widened to whole words on both sides, so an edit names the words
    # as written ("inter-Korean" -> "inter"), and two changes in one word are one edit.
    spans: list[tuple[int, int, int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # The keys just outside a change are paired one to one (an "equal" run), so
        # widening steps both sides together.
        while i1 > 0 and j1 > 0 and (_mid(orig_word, i1) or _mid(page.word_of, j1)):
            i1, j1 = i1 - 1, j1 - 1
        while i2 < len(orig_word) and j2 < len(page.keys):
            if not (_mid(orig_word, i2) or _mid(page.word_of, j2)):
                break
            i2, j2 = i2 + 1, j2 + 1
        if spans and (i1 <= spans[-1][1] or j1 <= spans[-1][3]):
            i1, j1 = spans[-1][0], spans[-1][2]
            spans.pop()
        spans.append((i1, i2, j1, j2))
    edits: list[WordEdit] = []
    for i1, i2, j1, j2 in spans:
        if "".join(window.keys[i1:i2]) == "".join(page.keys[j1:j2]):
            continue  # the same letters, split into words differently ("NorthKorea")
        original = _span(index.all_words, index.key_word, window.start + i1, window.start + i2)
        at = page.word_of[j1] if j1 < len(page.keys) else len(page.words)
        page_text = _span(page.words, page.word_of, j1, j2)
        op: Literal["insert", "delete", "replace"] = (
            "insert" if i1 == i2 else "delete" if j1 == j2 else "replace"
        )
        edits.append(WordEdit(op, at, original, page_text))
    return tuple(edits)


def _mid(word_of: Sequence[int], k: int) -> bool:
    """Whether position k (between keys k-1 and k) falls inside one word."""
    return 0 < k < len(word_of) and word_of[k - 1] == word_of[k]


def _span(words: Sequence[str], word_of: Sequence[int], k1: int, k2: int) -> str:
    """The whole words holding keys k1..k2-1 (dashes between them included)."""
    if k1 >= k2:
        return ""
    return " ".join(words[word_of[k1] : word_of[k2 - 1] + 1])


def match_paragraphs(page: Sequence[str], original: Sequence[str]) -> list[ParagraphMatch]:
    """Match every page paragraph to the original article's paragraphs, in page order."""
    index = _OriginalIndex(original)
    # Pages repeat paragraphs (a pull quote, a signature): decide each text once.
    done: dict[str, ParagraphMatch] = {}
    out: list[ParagraphMatch] = []
    for text in page:
        if text not in done:
            done[text] = _match_one(index, text)
        out.append(done[text])
    return out


# --------------------------------------------------------------------------- markup


def find_insertions(text: str) -> tuple[str, ...]:
    """Bracketed editorial insertions in `text` ("[sic]", "[Despite …]"), not "[1]" or links."""
    return tuple(_bracket_spans(text, editorial_only=True))


def _bracket_spans(text: str, *, editorial_only: bool) -> list[str]:
    out: list[str] = []
    for match in _BRACKET_RE.finditer(text):
        inner = match.group(1).strip()
        marker = inner.casefold().replace("\u2026", "...")
        if marker in _EDITORIAL_MARKERS or marker.rstrip(".:;, ") in _EDITORIAL_MARKERS:
            out.append(match.group(0))
        elif _FOOTNOTE_RE.fullmatch(inner):
            continue
        elif not editorial_only or len(inner.split()) >= 2:
            # One bracketed word ("[deleted]", "[link]") is as often page furniture as an
            # editor's hand; with an original to compare, the diff has already decided.
            out.append(match.group(0))
    return out


def _unquote(text: str) -> str | None:
    """The text without its ``>`` markers when every line of it is block-quoted, else None."""
    lines = text.split("\n")
    content = [line for line in lines if line.strip()]
    if not content or not all(_QUOTE_LINE_RE.match(line) for line in content):
        return None
    return "\n".join(_QUOTE_MARKERS_RE.sub("", line) for line in lines).strip()


def _from_markup(paragraph: Paragraph) -> Paragraph | None:
    """The paragraph re-marked from what its text shows, or None when nothing was found."""
    text = _unquote(paragraph.text)
    provenance = paragraph.provenance
    if text is not None and provenance == "own":
        provenance = "quoted"
    found = find_insertions(text if text is not None else paragraph.text)
    new = tuple(s for s in found if s not in paragraph.insertions)
    if text is None and not new:
        return None
    if new:
        provenance = "edited"
    return replace(
        paragraph,
        text=text if text is not None else paragraph.text,
        provenance=provenance,
        insertions=paragraph.insertions + new,
    )


# --------------------------------------------------------------------------- entry point


def apply_provenance(article: Article, original: list[str] | None) -> Article:
    """The article with each paragraph marked own, quoted or edited.

    With `original` (its paragraphs, see `read_original`) by comparison with it; without,
    from the page's own markup (text block quotes, bracketed editorial insertions), keeping
    what the parser already marked.
    """
    if original is None:
        changed = False
        paragraphs: list[Paragraph] = []
        for paragraph in article.paragraphs:
            marked = _from_markup(paragraph)
            changed = changed or marked is not None
            paragraphs.append(marked or paragraph)
        if not changed:
            return article
        return replace(article, paragraphs=tuple(paragraphs), provenance_basis="markup")
    # Text-form quote markers are presentation, not words of the quote.
    texts = [_unquote(p.text) or p.text for p in article.paragraphs]
    matches = match_paragraphs(texts, original)
    result: list[Paragraph] = []
    for paragraph, text, m in zip(article.paragraphs, texts, matches, strict=True):
        if m.provenance == "own" and paragraph.provenance == "quoted":
            # A block quote of something other than the original (a tweet, another
            # article) is still not the page's own words.
            result.append(replace(paragraph, text=text))
            continue
        result.append(
            Paragraph(
                text=text,
                provenance=m.provenance,
                source_index=m.source_start,
                edits=m.edits,
                insertions=m.insertions,
            )
        )
    return replace(article, paragraphs=tuple(result), provenance_basis="original")

"""What the HTML parsers share: loading a page once, the text of an element, the article,
and one linear pass over a comment region that each HTML variant configures with a
table of roles (which classes mark a comment, its author, date, body, reply list, chrome).

Nothing here recurses: libxml2 reads pages nested up to 2048 elements deep, past Python's
recursion limit, so trees are walked with lxml's own iteration or explicit stacks. Each
comment is read from its own elements only (its replies are never entered, so never
subtracted), which keeps a page at one pass however deeply its comments nest.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, cast
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from app.domain import Article, CommentKind, Paragraph, Provenance, Thread, ThreadWarning
from app.errors import ParseError
from app.threads.authors import clean_author
from app.threads.dates import parse_date
from app.threads.options import ParseOptions
from app.threads.provenance import find_insertions
from app.threads.tree import RawComment, build_thread, mark_linkback

Element = etree._Element
"""An element of a parsed page."""

# --------------------------------------------------------------------------- loading

# HTML5 looks for the charset in the first 1024 bytes; real pages put it later (after
# long <link> lists, as the Blogger fixture does), so look a little further.
_SNIFF_BYTES = 8192
_META_CHARSET_RE = re.compile(
    rb"""<meta\b[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE
)
# Labels the WHATWG encoding standard maps to windows-1252, which is what browsers decode
# them as; pages labelled latin-1 routinely contain curly quotes from the 0x80-0x9f range.
_AS_WINDOWS_1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})
_LD_JSON = "application/ld+json"
_CONTROL_BYTES = bytes([*range(1, 9), 0x0B, *range(0x0E, 0x20), 0x7F])
_DROPPED_TAGS = ("script", "style", "noscript", "template")


@dataclass(frozen=True, slots=True)
class HtmlPage:
    """A page parsed once and shared by every HTML variant."""

    root: Element
    json_ld: tuple[Any, ...]
    """The page's JSON-LD blocks, read before <script> elements were removed."""
    url: str | None
    """The URL given by the caller, else the page's canonical URL; relative links resolve
    against it."""
    outline: Outline
    warnings: tuple[ThreadWarning, ...] = ()
    include_pingbacks: bool = False
    """`ParseOptions.include_pingbacks`, for `finish`."""
    markers: frozenset[str] = frozenset()
    """The site-specific variants whose telltale markup the page has (`survey_markers`);
    a variant without its marker need not search the page."""

    def absolute(self, href: str | None) -> str | None:
        """`href` resolved against the page URL (as given when there is none)."""
        if not href:
            return None
        href = href.strip()
        if self.url is None or href.startswith(("https://", "http://")):
            return href
        if href.startswith("#"):
            return self.url.split("#", 1)[0] + href
        try:
            return urljoin(self.url, href)
        except ValueError:
            return href


def sniff_encoding(data: bytes) -> str:
    """The encoding of an HTML page: its BOM, else its <meta charset>, else UTF-8 when it
    decodes as UTF-8, else windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    found = _META_CHARSET_RE.search(data[:_SNIFF_BYTES])
    if found is not None:
        label = found.group(1).decode("ascii").lower()
        try:
            name = codecs.lookup(label).name
        except LookupError:
            name = ""
        if label in _AS_WINDOWS_1252 or name in ("latin-1", "ascii"):
            return "windows-1252"
        # A page that declares UTF-16 in ASCII bytes is not UTF-16 (HTML5 reads it as UTF-8).
        if name and not name.startswith(("utf-16", "utf-32")):
            return name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def parse_with(
    from_tree: Callable[[HtmlPage, ParseOptions], Thread | None],
    data: bytes,
    options: ParseOptions,
    *,
    not_found: str,
) -> Thread:
    """Load the page and read it with one variant's `from_tree`.

    Raises:
        ParseError: the page is not HTML, or (with `not_found` as the message) the variant
            does not recognise it.
    """
    thread = from_tree(load_page(data, options), options)
    if thread is None:
        raise ParseError(not_found)
    return thread


def load_page(data: bytes, options: ParseOptions) -> HtmlPage:
    """Parse an HTML page once: read its JSON-LD, drop scripts and styles, map its landmarks.

    Raises:
        ParseError: the input is empty, not HTML, or nested deeper than libxml2 reads.
    """
    if not data or data.isspace():
        raise ParseError("HTML page is empty")
    encoding = sniff_encoding(data)
    recode = encoding.startswith(("utf-16", "utf-32"))
    if not recode:
        try:
            parser = _parser(encoding)
        except LookupError:
            recode = True  # Python knows the page's encoding but libxml2 does not
    if recode:
        # Recoded to UTF-8 so that the control-character sweep below can work on bytes.
        data = data.decode(encoding, errors="replace").encode("utf-8")
        encoding = "utf-8"
        parser = _parser(encoding)
    if encoding == "utf-8" or encoding.startswith(("windows-", "cp12", "iso8859", "latin")):
        # Control characters are invisible junk in text; dropping them from the bytes once
        # is cheaper than from every text node. Only for encodings where a byte below 0x20
        # is always that character (not for ISO-2022's escape sequences, say).
        data = data.translate(None, _CONTROL_BYTES)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"HTML page could not be read: {exc}") from exc
    except ValueError as exc:
        raise ParseError(f"HTML page could not be decoded as {encoding}: {exc}") from exc
    if root is None:
        raise ParseError("HTML page has no elements (only whitespace or comments)")
    for entry in parser.error_log:
        if "Excessive depth" in entry.message:
            raise ParseError(
                f"HTML page is nested too deeply at line {entry.line}: libxml2 stops reading "
                "past 2048 open elements, so the comments below that point would be lost"
            )
    warnings: list[ThreadWarning] = []
    json_ld = _read_json_ld(root, warnings)
    etree.strip_elements(root, *_DROPPED_TAGS, with_tail=False)
    outline = survey(root)
    tail = data[-2048:].lower()
    if b"</html" not in tail and b"</body" not in tail:
        warnings.append(
            ThreadWarning(
                "truncated",
                "the page ends before </body> or </html>; it may have been cut short, "
                "so the last comments may be incomplete or missing",
            )
        )
    return HtmlPage(
        root=root,
        json_ld=tuple(json_ld),
        url=options.url or outline.canonical,
        outline=outline,
        warnings=tuple(warnings),
        include_pingbacks=options.include_pingbacks,
        markers=survey_markers(root, outline),
    )


_FORUM_ID_RE = re.compile(r"p\d+|post_?\d+")


def survey_markers(root: Element, outline: Outline) -> frozenset[str]:
    """Which site-specific variants (`hackernews`, `reddit-html`, `forum`, `disqus-html`,
    `discourse-html`) have their telltale element on the page.

    One walk for all of them, instead of one each over the whole page; it does not enter
    WordPress or Blogger comment lists, where none of these markers can start, so a page of
    100,000 WordPress comments costs it only the elements around its list. Each marker is
    a necessary condition only: the variant still checks the page itself.
    """
    skipped = {id(e) for e in (*outline.wordpress_lists, *outline.blogger_threads)}
    found: set[str] = set()
    stack: list[Element] = [root]
    while stack:
        element = stack.pop()
        if id(element) in skipped or not isinstance(element.tag, str):
            continue
        tag = element.tag
        if tag in ("div", "li", "table", "ul"):
            classes = element.get("class") or ""
            element_id = element.get("id") or ""
            if tag == "table" and "comment-tree" in classes:
                found.add("hackernews")
            if tag == "div" and (
                element.get("data-fullname") is not None or element.get("data-type") == "comment"
            ):
                found.add("reddit-html")
            if tag == "div" and "crawler-post" in classes:
                found.add("discourse-html")
            if tag == "ul" and (element_id == "post-list" or "post-list" in classes):
                found.add("disqus-html")
            if element_id and _FORUM_ID_RE.fullmatch(element_id):
                found.add("forum")
        if len(element):
            stack.extend(element)
    return frozenset(found)


def _parser(encoding: str) -> etree.HTMLParser:
    # A new parser per page: its error log is how a depth overflow is noticed. lxml.etree's
    # parser rather than lxml.html's: the latter calls back into Python to pick a class for
    # every element the walk touches, which doubles the cost of a large comment list.
    return etree.HTMLParser(
        encoding=encoding, huge_tree=True, remove_comments=True, remove_pis=True
    )


def _read_json_ld(root: Element, warnings: list[ThreadWarning]) -> list[Any]:
    blocks: list[Any] = []
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";", 1)[0].strip().lower()
        if kind != _LD_JSON or not script.text:
            continue
        text = script.text.strip()
        # Some themes wrap the block in CDATA or HTML comment markers for old browsers.
        text = re.sub(r"^(?:/\*\s*)?<!\[CDATA\[(?:\s*\*/)?|(?:/\*\s*)?\]\]>(?:\s*\*/)?$", "", text)
        text = text.strip().removeprefix("<!--").removesuffix("-->")
        try:
            blocks.append(json.loads(text))
        except (json.JSONDecodeError, RecursionError) as exc:
            warnings.append(
                ThreadWarning(
                    "other",
                    f"a JSON-LD block on line {script.sourceline} was "
                    f"ignored because it is not valid JSON: {exc}",
                )
            )
    return blocks


def finish(
    page: HtmlPage,
    records: list[RawComment],
    *,
    source_format: str,
    article: Article | None = None,
) -> Thread:
    """Build the thread from a variant's records, with the page's article and warnings."""
    return build_thread(
        records,
        article=article if article is not None else extract_article(page),
        url=page.url,
        source_format=source_format,
        warnings=page.warnings,
        include_pingbacks=page.include_pingbacks,
    )


# --------------------------------------------------------------------------- classes


def strip_says(name: str) -> str | None:
    """An author as shown without the "says:" / "sagt:" that follows it, or None."""
    return clean_author(name)[0]


def has_class_xpath(name: str) -> str:
    """The XPath test for "the class attribute holds the token `name`"."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def xpath_elements(root: Element, path: str) -> list[Element]:
    """The elements `path` selects under `root` (an XPath may also give strings)."""
    found = root.xpath(path)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def class_tokens(element: Element) -> list[str]:
    """The element's class names."""
    value = element.get("class")
    return value.split() if value else []


def comment_id_from_anchor(anchor: str) -> str:
    """The comment id an element id names: "comment-123" and "div-comment-123" -> "123"."""
    if anchor.startswith("comment-") and anchor[8:].isalnum():
        return anchor[8:]
    found = _COMMENT_ANCHOR_RE.fullmatch(anchor)
    return found.group(1) if found else anchor


_COMMENT_ANCHOR_RE = re.compile(r"(?:[a-z]+-)*comment[-_](\w+)", re.IGNORECASE)

# Page furniture that never holds the article or its comments. Matched against whole class
# names, so "site-content-with-sidebar" is not furniture but "sidebar" is.
_NOISE_TOKENS = frozenset(
    {
        "sidebar",
        "widget",
        "widgets",
        "widget-area",
        "widget_recent_comments",
        "recentcomments",
        "jp-relatedposts",
        "related-posts",
        "relatedposts",
        "yarpp-related",
        "sharedaddy",
        "sharing",
        "share-buttons",
        "post-share-buttons",
        "social-share",
        "breadcrumbs",
        "breadcrumb",
        "post-breadcrumbs",
        "post-navigation",
        "navigation",
        "nav-links",
        "menu",
        "footer-widgets",
        "blog-subscribe",
        "comment-respond",
    }
)
_NOISE_IDS = frozenset({"sidebar", "secondary", "respond", "colophon", "jp-relatedposts"})
_NOISE_TAGS = frozenset({"aside", "nav", "form", "button", "select", "textarea", "svg"})
_NOISE_ROLES = frozenset({"navigation", "complementary", "banner", "search"})


def is_noise(element: Element, tokens: list[str] | None = None) -> bool:
    """True for page furniture: sidebars, widgets, related posts, navigation, forms."""
    tag = element.tag
    if tag in _NOISE_TAGS:
        return True
    if tokens is None:
        tokens = class_tokens(element)
    for token in tokens:
        if token in _NOISE_TOKENS:
            # Blogger wraps the post and its comments in <div class="widget Blog">.
            return not (token == "widget" and "Blog" in tokens)
    if element.get("id") in _NOISE_IDS:
        return True
    return element.get("role") in _NOISE_ROLES


# --------------------------------------------------------------------------- text

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p "
    "pre section summary table tbody tfoot thead tr ul".split()
)
_CELL_TAGS = frozenset({"td", "th"})
# Markers put between text pieces while walking; NUL cannot occur in parsed text (libxml2
# turns it into U+FFFD), so a marker never collides with the page's own characters.
_BR = "\x00b"
_PARA = "\x00p"
_QUOTE_IN = "\x00q"
_QUOTE_OUT = "\x00u"
_WS_RE = re.compile(r"[\s\x01-\x08\x7f]+")
_MARKS_RE = re.compile(r"((?: ?\x00[bpqu])+ ?)")

Skip = Callable[[Element], bool]


def _text_parts(element: Element, skip: Skip | None, quotes: bool) -> str:
    """The element's text with break markers, in one pass of lxml's own iteration.

    An element's closing markers and tail are emitted when the iteration leaves it, which
    is when the next element's parent is no longer it.
    """
    parts: list[str] = []
    if element.text:
        parts.append(element.text)
    open_: list[tuple[Element, str]] = []
    resume: Element | None = None
    iterator = element.iter()
    next(iterator)
    for item in iterator:
        if resume is not None:
            if item is not resume:
                continue
            resume = None
        parent = item.getparent()
        while open_ and open_[-1][0] is not parent:
            parts.append(open_.pop()[1])
        tag = item.tag
        if not isinstance(tag, str) or (skip is not None and skip(item)):
            if tag in _BLOCK_TAGS:
                parts.append(_PARA)
            if item.tail:
                parts.append(item.tail)
            resume = _following(item, element)
            if resume is None:
                break
            continue
        if tag == "br":
            parts.append(_BR)
            if item.tail:
                parts.append(item.tail)
            continue
        closing = ""
        if tag in _BLOCK_TAGS:
            parts.append(_PARA)
            if quotes and tag == "blockquote":
                parts.append(_QUOTE_IN)
                closing = _QUOTE_OUT + _PARA
            else:
                closing = _PARA
        elif tag in _CELL_TAGS:
            closing = " "
        if item.text:
            parts.append(item.text)
        tail = item.tail
        open_.append((item, closing + tail if tail else closing))
    while open_:
        parts.append(open_.pop()[1])
    return "".join(parts)


def text_segments(element: Element, skip: Skip | None = None) -> list[tuple[str, bool]]:
    """The element's paragraphs, each with whether it sits inside a <blockquote>.

    Paragraphs break at block elements and at a blank line made of two <br>; a single <br>
    stays a line break inside the paragraph.
    """
    out: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = False
    depth = 0
    joined = _WS_RE.sub(" ", _text_parts(element, skip, quotes=True))
    for i, piece in enumerate(_MARKS_RE.split(joined)):
        if i % 2 == 0:
            if piece.strip():
                if not current:
                    quoted = depth > 0
                current.append(piece)
            continue
        breaks = piece.count(_BR)
        new_depth = max(0, depth + piece.count(_QUOTE_IN) - piece.count(_QUOTE_OUT))
        if _PARA in piece or breaks >= 2 or new_depth != depth:
            _flush(current, quoted, out)
        elif breaks == 1 and current:
            current.append("\n")
        depth = new_depth
    _flush(current, quoted, out)
    return out


def _flush(current: list[str], quoted: bool, out: list[tuple[str, bool]]) -> None:
    text = _LINE_EDGE_RE.sub("\n", "".join(current)).strip()
    if text:
        out.append((text, quoted))
    current.clear()


_LINE_EDGE_RE = re.compile(r" *\n *")


def element_text(element: Element, skip: Skip | None = None) -> str:
    """The visible text of an element: whitespace collapsed, "\\n" for <br>, "\\n\\n"
    between paragraphs (and for two <br> in a row); subtrees for which `skip` is true are
    left out."""
    if not len(element):
        return " ".join((element.text or "").split())
    out: list[str] = []
    # Plain string operations rather than regular expressions: this runs for every comment.
    for block in _text_parts(element, skip, quotes=False).split(_PARA):
        if _BR not in block:
            text = " ".join(block.split())
            if text:
                out.append(text)
            continue
        lines: list[str] = []
        for line in block.split(_BR):
            text = " ".join(line.split())
            if text:
                lines.append(text)
            elif lines:
                out.append("\n".join(lines))
                lines = []
        if lines:
            out.append("\n".join(lines))
    return "\n\n".join(out)


def plain_text(html_or_text: str) -> str:
    """Plain text of a string that may hold HTML markup (e.g. a JSON-LD comment body)."""
    if "<" not in html_or_text and "&" not in html_or_text:
        return _WS_RE.sub(" ", html_or_text).strip()
    try:
        fragment = lxml.html.fragment_fromstring(html_or_text, create_parent="div")
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return _WS_RE.sub(" ", html_or_text).strip()
    etree.strip_elements(fragment, *_DROPPED_TAGS, with_tail=False)
    return element_text(fragment)


# --------------------------------------------------------------------------- outline


@dataclass(slots=True)
class Outline:
    """Landmarks of a page, found in one pass that does not enter comment lists."""

    wordpress_lists: list[Element] = field(default_factory=list)
    blogger_threads: list[Element] = field(default_factory=list)
    blogger_blocks: list[Element] = field(default_factory=list)
    comment_sections: set[str] = field(default_factory=set)
    """Variants whose (possibly empty) comments section is on the page."""
    first: dict[str, Element] = field(default_factory=dict)
    """The first element of each landmark kind (see `_LANDMARK_CLASSES`)."""
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None


_LANDMARK_CLASSES = {
    "entry-title": "title:entry-title",
    "post-title": "title:post-title",
    "entry-content": "body:entry-content",
    "post-body": "body:post-body",
    "entrytext": "body:entrytext",
    "entry-text": "body:entrytext",
    "post-content": "body:post-content",
    "article-content": "body:article-content",
    "article-body": "body:article-content",
    "entry-body": "body:article-content",
    "story-body": "body:article-content",
    "entry": "body:entry",
    "byline": "author:byline",
    "post-author": "author:post-author",
    "entry-author": "author:post-author",
    "post-author-name": "author:post-author",
    "published": "date:published",
    "entry-date": "date:published",
    "post-timestamp": "date:timestamp",
    "posted-on": "date:timestamp",
    "date-header": "date:timestamp",
}
_WORDPRESS_LISTS = frozenset({"comment-list", "commentlist"})
_WORDPRESS_SECTIONS = frozenset({"comments-area", "comment-respond"})


def survey(root: Element) -> Outline:
    """Map the page: comment regions of the known variants, article landmarks, <meta>.

    Comment regions and page furniture are not entered, so a page with 100,000 comments
    costs this pass only the elements outside its comment list.
    """
    outline = Outline()
    first = outline.first
    stack: list[Element] = [root]
    while stack:
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == "meta":
            _note_meta(element, outline)
            continue
        if tag == "link":
            if "canonical" in (element.get("rel") or "").lower().split():
                outline.canonical = outline.canonical or (element.get("href") or "").strip() or None
            continue
        tokens = class_tokens(element)
        element_id = element.get("id")
        if not _WORDPRESS_LISTS.isdisjoint(tokens):
            outline.wordpress_lists.append(element)
            outline.comment_sections.add("wordpress")
            continue
        if element_id == "comment-holder" or (
            "comment-thread" in tokens and "toplevel-thread" in tokens
        ):
            outline.blogger_threads.append(element)
            outline.comment_sections.add("blogger")
            continue
        if tag == "dl" and (element_id == "comments-block" or "comments-block" in tokens):
            outline.blogger_blocks.append(element)
            outline.comment_sections.add("blogger")
            continue
        if "comments-content" in tokens:
            outline.comment_sections.add("blogger")
        if not _WORDPRESS_SECTIONS.isdisjoint(tokens) or element_id == "commentform":
            outline.comment_sections.add("wordpress")
        if is_noise(element, tokens):
            continue
        for token in tokens:
            kind = _LANDMARK_CLASSES.get(token)
            if kind is not None and kind not in first:
                first[kind] = element
        if tag in ("h1", "article", "main", "title") and f"tag:{tag}" not in first:
            first[f"tag:{tag}"] = element
        if tag == "h1" and "entry-title" in tokens and "h1:entry-title" not in first:
            first["h1:entry-title"] = element
        if tag == "time" and "date:time" not in first and element.get("datetime"):
            first["date:time"] = element
        itemprop = element.get("itemprop")
        if itemprop and f"itemprop:{itemprop}" not in first:
            first[f"itemprop:{itemprop}"] = element
        if "author" in (element.get("rel") or "").split() and "rel:author" not in first:
            first["rel:author"] = element
        if len(element):
            stack.extend(reversed(element))
    return outline


def _note_meta(element: Element, outline: Outline) -> None:
    key = (element.get("property") or element.get("name") or "").strip().lower()
    content = element.get("content")
    if key and content and key not in outline.meta:
        outline.meta[key] = content.strip()


# --------------------------------------------------------------------------- article

_BODY_KINDS = (
    "itemprop:articleBody",
    "body:entry-content",
    "body:post-body",
    "body:entrytext",
    "body:post-content",
    "body:article-content",
    "body:entry",
    "tag:article",
    "tag:main",
)
_ARTICLE_SKIP_TAGS = frozenset({"header", "footer", "figcaption", "iframe", "object", "video"})
_ARTICLE_SKIP_TOKENS = frozenset(
    {
        "post-footer",
        "post-header",
        "entry-meta",
        "entry-footer",
        "author-info",
        "comments",
        "comments-area",
        "screen-reader-text",
        "wp-block-buttons",
        "wp-caption-text",
    }
)
_ARTICLE_TYPES = frozenset(
    {
        "Article",
        "BlogPosting",
        "NewsArticle",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
        "SocialMediaPosting",
        "DiscussionForumPosting",
        "LiveBlogPosting",
        "OpinionNewsArticle",
        "AnalysisNewsArticle",
    }
)


def _skip_in_article(element: Element) -> bool:
    if element.tag in _ARTICLE_SKIP_TAGS:
        return True
    tokens = class_tokens(element)
    if not _ARTICLE_SKIP_TOKENS.isdisjoint(tokens) or not _WORDPRESS_LISTS.isdisjoint(tokens):
        return True
    if element.get("id") in ("comments", "comment-holder"):
        return True
    return is_noise(element, tokens)


def extract_article(page: HtmlPage) -> Article:
    """The post the comments belong to: title, author, date and paragraphs with provenance."""
    outline = page.outline
    first = outline.first
    ld = _json_ld_article(page.json_ld)
    title = _first_text(
        first.get("h1:entry-title"),
        first.get("title:entry-title"),
        first.get("title:post-title"),
        first.get("itemprop:headline"),
    )
    title = title or outline.meta.get("og:title") or _ld_str(ld.get("headline"))
    title = title or _first_text(first.get("tag:h1"), first.get("tag:title"))
    author = _first_text(
        *(_author_name(first.get(k)) for k in ("author:byline", "author:post-author")),
        _author_name(first.get("itemprop:author")),
        _author_name(first.get("rel:author")),
    )
    meta_author = outline.meta.get("author") or outline.meta.get("article:author")
    if not author and meta_author and not meta_author.startswith(("http:", "https:")):
        author = meta_author
    author = author or _ld_person(ld.get("author"))
    posted_at = parse_date(outline.meta.get("article:published_time"))
    posted_at = posted_at or parse_date(_ld_str(ld.get("datePublished")))
    for kind in ("itemprop:datePublished", "date:published", "date:time", "date:timestamp"):
        if posted_at is not None:
            break
        element = first.get(kind)
        if element is not None:
            posted_at = parse_date(
                element.get("datetime")
                or element.get("content")
                or element.get("title")
                or element_text(element)
            )
    body = next((first[k] for k in _BODY_KINDS if k in first), None)
    if body is not None:
        segments = text_segments(body, _skip_in_article)
    else:
        text = _ld_str(ld.get("articleBody")) or ""
        segments = [(p.strip(), False) for p in re.split(r"\n\s*\n", text) if p.strip()]
    paragraphs, marked = article_paragraphs(segments)
    return Article(
        title=title or None,
        author=author or None,
        posted_at=posted_at,
        paragraphs=paragraphs,
        provenance_basis="markup" if marked else "none",
    )


def article_paragraphs(segments: Iterable[tuple[str, bool]]) -> tuple[tuple[Paragraph, ...], bool]:
    """Paragraphs with provenance from markup, and whether any markup was found.

    A paragraph inside <blockquote> is "quoted"; one holding a bracketed editorial
    insertion ("[sic]", "[Despite …]") is "edited" whether quoted or not.
    """
    out: list[Paragraph] = []
    marked = False
    for text, quoted in segments:
        insertions = find_insertions(text)
        provenance: Provenance = "edited" if insertions else "quoted" if quoted else "own"
        marked = marked or provenance != "own"
        out.append(Paragraph(text=text, provenance=provenance, insertions=insertions))
    return tuple(out), marked


def _first_text(*candidates: Element | str | None) -> str | None:
    for candidate in candidates:
        if candidate is None:
            continue
        text = candidate if isinstance(candidate, str) else element_text(candidate, _skip_chrome)
        text = text.replace("\n", " ").strip()
        if text:
            return text
    return None


def _skip_chrome(element: Element) -> bool:
    return "screen-reader-text" in class_tokens(element)


def _author_name(element: Element | None) -> str | None:
    if element is None:
        return None
    if element.tag == "meta":
        return element.get("content")
    for inner in element.iter():
        if "fn" in class_tokens(inner) or inner.get("itemprop") == "name":
            return element_text(inner, _skip_chrome) or None
    text = element_text(element, _skip_chrome)
    text = re.sub(r"^(?:posted\s+)?by\s+", "", text, flags=re.IGNORECASE)
    return text.replace("\n", " ").strip() or None


def walk_json(value: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every JSON object under `value` with its nearest enclosing schema.org Comment."""
    stack: list[tuple[Any, dict[str, Any] | None]] = [(value, None)]
    while stack:
        node, comment = stack.pop()
        if isinstance(node, list):
            stack.extend((item, comment) for item in reversed(node))
        elif isinstance(node, dict):
            yield node, comment
            inner = node if "Comment" in json_types(node) else comment
            stack.extend((item, inner) for item in reversed(list(node.values())))


def json_types(node: dict[str, Any]) -> list[str]:
    """The schema.org types of a JSON-LD object ("https://schema.org/Comment" -> "Comment")."""
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)]


def _json_ld_article(blocks: tuple[Any, ...]) -> dict[str, Any]:
    for block in blocks:
        for node, inside in walk_json(block):
            if inside is None and not _ARTICLE_TYPES.isdisjoint(json_types(node)):
                return node
    return {}


def _ld_str(value: Any) -> str | None:
    if isinstance(value, str):
        return plain_text(value) or None
    if isinstance(value, list) and value:
        return _ld_str(value[0])
    return None


def _ld_person(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return _ld_str(value)


def json_ld_comments(page: HtmlPage) -> list[RawComment]:
    """The schema.org `Comment` objects in the page's JSON-LD, with their reply structure.

    A comment's parent is its `parentItem` when given, else the Comment whose `comment`
    list holds it.
    """
    records: list[RawComment] = []
    for block in page.json_ld:
        ids: dict[int, str] = {}
        for node, enclosing in walk_json(block):
            if "Comment" not in json_types(node):
                continue
            comment_id = _ld_comment_id(node) or f"jsonld-{len(records) + 1}"
            ids[id(node)] = comment_id
            parent: str | None = None
            parent_item = node.get("parentItem")
            if isinstance(parent_item, dict):
                parent_item = parent_item.get("@id") or parent_item.get("url")
            if isinstance(parent_item, str) and parent_item.strip():
                parent = _ld_id_text(parent_item)
            elif enclosing is not None:
                parent = ids.get(id(enclosing))
            date_value = _ld_str(node.get("dateCreated")) or _ld_str(node.get("datePublished"))
            raw_text = _ld_text(node.get("text")) or _ld_text(node.get("description")) or ""
            anchor = _ld_text(node.get("@id"))
            url = _ld_text(node.get("url")) or anchor
            records.append(
                RawComment(
                    comment_id=comment_id,
                    parent_id=parent,
                    text=plain_text(raw_text),
                    author=_ld_person(node.get("author")),
                    posted_at=parse_date(date_value),
                    date_text=date_value,
                    url=page.absolute(url) if url else None,
                    anchor=anchor.rsplit("#", 1)[-1] if anchor and "#" in anchor else None,
                )
            )
    return records


def _ld_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _ld_comment_id(node: dict[str, Any]) -> str | None:
    for key in ("@id", "identifier", "url"):
        value = node.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return _ld_id_text(value)
    return None


def _ld_id_text(value: str) -> str:
    anchor = value.strip().rsplit("#", 1)[-1]
    return comment_id_from_anchor(anchor) if anchor else value.strip()


# --------------------------------------------------------------------------- comments


class Role(IntEnum):
    """What an element is to the comment walk."""

    OTHER = 0
    COMMENT = 1
    """One comment; comments found inside it are its replies."""
    CHILDREN = 2
    """A list of replies: to the comment it sits in, or to the comment just before it."""
    AUTHOR = 3
    DATE = 4
    """A <time> element (its datetime attribute is the moment)."""
    DATE_BOX = 5
    """Where the date is shown, usually as the comment's permalink."""
    BODY = 6
    """The comment's text and nothing else."""
    BODY_BOX = 7
    """The text together with the header and footer (read without them)."""
    CHROME = 8
    """Buttons, counters, avatars, forms: never part of the text."""


_OUTSIDE_BODY = frozenset({Role.CHROME, Role.COMMENT, Role.CHILDREN})
_OUTSIDE_TEXT = _OUTSIDE_BODY | {Role.AUTHOR, Role.DATE, Role.DATE_BOX}
_LEVEL_RE = re.compile(r"(?:depth|level|indent|nest(?:ed|ing)?|lvl)[-_]?(\d{1,4})$", re.IGNORECASE)
_CHROME_TAGS = frozenset({"form", "button", "input", "select", "textarea", "iframe", "svg", "img"})
_TAG_ROLES: dict[str, Role] = dict.fromkeys(_CHROME_TAGS, Role.CHROME) | {"time": Role.DATE}


class CommentMarkup:
    """How a family of pages marks its comments up. Subclasses implement `classify`."""

    comment_tags: tuple[tuple[str, ...], ...] = (("li",), ("div", "article"))
    """Tags a comment element may have, tried in turn until one finds comments (looking
    at every <li> of a comment list is cheap, at every <div> much less so)."""
    merge_nested: bool = True
    """A comment element directly inside another is the same comment (a theme that wraps
    <article class="comment"> in <li class="comment">), not its reply."""

    def __init__(self) -> None:
        self._memo: dict[str, Role] = {}
        self.comment_tag_set = frozenset(t for tags in self.comment_tags for t in tags)

    def classify(self, tokens: list[str]) -> Role:
        """The role an element's class names give it (its tag may still make it chrome)."""
        raise NotImplementedError

    def role(self, element: Element) -> Role:
        """The role of `element`: from its class names (memoised), else from its tag."""
        value = element.get("class")
        if value is None:
            return _TAG_ROLES.get(element.tag, Role.OTHER)
        role = self._memo.get(value)
        if role is None:
            role = self._memo[value] = self.classify(class_tokens(element))
        if role is Role.COMMENT:
            return role if element.tag in self.comment_tag_set else Role.OTHER
        if role is Role.OTHER:
            return _TAG_ROLES.get(element.tag, Role.OTHER)
        return role

    def outside_body(self, element: Element) -> bool:
        """True for what a comment body's text leaves out: chrome and nested comments."""
        if element.get("class") is None:
            return element.tag in _CHROME_TAGS
        return self.role(element) in _OUTSIDE_BODY

    def outside_text(self, element: Element) -> bool:
        """True for what a comment's text leaves out when it has no body element."""
        return self.role(element) in _OUTSIDE_TEXT

    def comment_id(self, element: Element) -> str | None:
        """The comment's id from its element (None when the element has none)."""
        anchor = element.get("id")
        return comment_id_from_anchor(anchor) if anchor else None

    def level(self, element: Element) -> int | None:
        """The nesting level a class such as "depth-2" gives, if any."""
        value = element.get("class")
        if not value or not _DIGIT_RE.search(value):
            return None
        for token in value.split():
            found = _LEVEL_RE.search(token)
            if found:
                return int(found.group(1))
        return None

    def fallback_author(self, element: Element, body: Element | None) -> str | None:
        """The author when no author element was found (e.g. a pingback's source)."""
        return None

    def is_deleted(self, element: Element, body: Element | None, text: str) -> bool:
        """True when the comment is a placeholder for a removed one."""
        return False

    def kind(self, element: Element) -> CommentKind:
        """What the comment element's markup says it is ("Pingback:" prefixes are read
        for every variant, after this)."""
        return "comment"


_DIGIT_RE = re.compile(r"\d")


@dataclass(slots=True)
class _Parts:
    """The elements of one comment's own content (its replies excluded)."""

    author: Element | None = None
    time: Element | None = None
    date_box: Element | None = None
    body: Element | None = None
    body_is_box: bool = False
    inner: Element | None = None
    """A comment element directly inside this one that is the same comment."""
    author_in_body: bool = False


def collect_comments(
    regions: Iterable[Element], markup: CommentMarkup, page: HtmlPage
) -> list[RawComment]:
    """The comments in `regions`, in document order, parents from the DOM.

    A comment's parent is the nearest comment around it, or the comment just before the
    reply list it sits in; when the DOM is flat, "depth-N" classes give the nesting. The
    comments are found with lxml's own (C) iteration, and each comment's parts are read
    from its own content only, which comes before its replies; so a page costs one pass
    however deeply its comments nest.
    """
    records: list[RawComment] = []
    for region in regions:
        found = False
        for tags in markup.comment_tags:
            found = _collect_region(region, tags, markup, page, records)
            if found:
                break
    return records


def _collect_region(
    region: Element,
    tags: tuple[str, ...],
    markup: CommentMarkup,
    page: HtmlPage,
    records: list[RawComment],
) -> bool:
    ids: dict[Element, str] = {}
    # Comments the DOM leaves at the top, with their "depth-N" level: the open branch.
    levels: list[tuple[int, str]] = []
    role_of = markup.role
    comment = Role.COMMENT
    for element in region.iter(*tags):
        if element is region or role_of(element) is not comment:
            continue
        parent, merged = _dom_parent(element, region, ids, markup)
        if merged is not None:
            # The inner element of a comment already read: same comment, same id.
            ids[element] = merged
            continue
        level = markup.level(element) if parent is None else None
        if level is not None:
            while levels and levels[-1][0] >= level:
                levels.pop()
            if levels and level > 1:
                parent = levels[-1][1]
        record = _read_comment(element, parent, markup, page, len(records))
        if level is not None:
            levels.append((level, record.comment_id))
        records.append(record)
        ids[element] = record.comment_id
    return bool(ids)


def _dom_parent(
    element: Element, region: Element, ids: dict[Element, str], markup: CommentMarkup
) -> tuple[str | None, str | None]:
    """(the parent comment's id, None) from the elements around `element`, or (None,
    the id) when `element` is the inner element of a comment already read."""
    node = element.getparent()
    first = True
    while node is not None and node is not region:
        known = ids.get(node)
        if known is not None:
            if first and markup.merge_nested:
                return None, known
            return known, None
        if markup.role(node) is Role.CHILDREN:
            before = node.getprevious()
            if before is not None and before in ids:
                return ids[before], None
        first = False
        node = node.getparent()
    return None, None


def _following(element: Element, within: Element) -> Element | None:
    """The first element after `element`'s subtree in document order, inside `within`."""
    node: Element | None = element
    while node is not None and node is not within:
        after = node.getnext()
        if after is not None:
            return after
        node = node.getparent()
    return None


def _own_parts(element: Element, markup: CommentMarkup) -> _Parts:
    """Find a comment's author, date and body in its own content.

    Walks the comment's subtree in document order (lxml's iteration, not a Python stack),
    passes over the inside of the parts it finds, and stops at the first reply or reply
    list: a comment's own content comes before its replies.
    """
    parts = _Parts()
    role_of = markup.role
    resume: Element | None = None
    iterator = element.iter()
    next(iterator)
    for item in iterator:
        if resume is not None:
            if item is not resume:
                continue
            resume = None
        role = role_of(item)
        if role is Role.OTHER:
            continue
        if role is Role.COMMENT or role is Role.CHILDREN:
            if (
                role is Role.COMMENT
                and markup.merge_nested
                and parts.inner is None
                and parts.author is None
                and parts.body is None
                and item.getparent() is element
            ):
                parts.inner = item
                continue
            break
        if role is Role.BODY_BOX:
            if parts.body is None:
                parts.body, parts.body_is_box = item, True
            continue
        if role is Role.AUTHOR:
            if parts.author is None:
                parts.author = item
        elif role is Role.DATE:
            if parts.time is None:
                parts.time = item
        elif role is Role.DATE_BOX:
            if parts.date_box is None:
                parts.date_box = item
        elif role is Role.BODY:
            if parts.body is None or parts.body_is_box:
                parts.body, parts.body_is_box = item, False
        if (
            parts.author is not None
            and (parts.date_box is not None or parts.time is not None)
            and parts.body is not None
            and not parts.body_is_box
        ):
            break
        resume = _following(item, element)
        if resume is None:
            break
    if parts.author is None and parts.body is not None and not parts.body_is_box:
        # Some themes put the header inside the content element ("div.comment-content >
        # ul.comment-meta > li.comment-author").
        parts.author = next(
            (e for e in parts.body.iter() if e is not parts.body and role_of(e) is Role.AUTHOR),
            None,
        )
        parts.author_in_body = parts.author is not None
        if parts.author_in_body and parts.time is None and parts.date_box is None:
            parts.date_box = next(
                (e for e in parts.body.iter() if role_of(e) is Role.DATE_BOX), None
            )
    return parts


def _read_comment(
    element: Element, parent: str | None, markup: CommentMarkup, page: HtmlPage, index: int
) -> RawComment:
    parts = _own_parts(element, markup)
    anchor = element.get("id")
    comment_id = markup.comment_id(element)
    # Without an id of its own, the comment may be named by the element that wraps its
    # content ("div-comment-5" in WordPress's classic markup).
    for named in (parts.inner, parts.body):
        if named is not None and (anchor is None or comment_id is None):
            anchor = anchor or named.get("id")
            comment_id = comment_id or (markup.comment_id(named) if named.get("id") else None)
    body = parts.body
    if body is not None and not parts.body_is_box:
        # A header found inside the content element is left out of the text with it.
        skip = markup.outside_text if parts.author_in_body else markup.outside_body
        text = element_text(body, skip)
    else:
        text = element_text(body if body is not None else element, markup.outside_text)
    author_raw: str | None = None
    if parts.author is not None:
        author, author_raw = _author_of(parts.author, markup)
        if parts.time is None and parts.date_box is None:
            # Themes that print the date inside the author element ("<strong>Anna
            # <a href="#comment-5">5. März</a></strong>") still give the comment its date.
            parts.time = next(parts.author.iter("time"), None)
            parts.date_box = next((a for a in parts.author.iter("a") if _is_permalink(a)), None)
    else:
        author = markup.fallback_author(element, body)
    record = RawComment(
        comment_id=comment_id or f"html-{index + 1}",
        parent_id=parent,
        text=text,
        author=author,
        anchor=anchor,
        deleted=markup.is_deleted(element, body, text),
        author_raw=author_raw,
        kind=markup.kind(element),
    )
    _read_date(parts, record, page, markup.outside_body)
    return mark_linkback(record)


_NOT_NAME_TOKENS = frozenset(
    {"comment-meta", "comment-metadata", "commentmetadata", "says", "screen-reader-text"}
)
_NOT_NAME_ROLES = frozenset({Role.CHROME, Role.DATE, Role.DATE_BOX})
_NAME_TAGS = frozenset({"a", "strong", "b", "cite"})


def _is_permalink(element: Element) -> bool:
    return element.tag == "a" and "#comment" in (element.get("href") or "")


def _author_of(author: Element, markup: CommentMarkup) -> tuple[str | None, str | None]:
    """(the name, the element's text when it differs) of a comment's author element.

    By structure first: the name element inside it (`.fn`, `[itemprop=name]`, else its
    first link that is not the permalink), without the date, metadata and "says" chrome
    some themes put beside the name; what is left goes through `clean_author`.
    """
    shown = " ".join("".join(cast(Iterator[str], author.itertext())).split()) or None

    def not_name(element: Element) -> bool:
        if element.tag == "time" or _is_permalink(element):
            return True
        if not _NOT_NAME_TOKENS.isdisjoint(class_tokens(element)):
            return True
        return markup.role(element) in _NOT_NAME_ROLES

    named: Element = author
    links: list[Element] = []
    skipped: set[Element] = set()
    for inner in author.iter():
        if inner is not author and (not_name(inner) or inner.getparent() in skipped):
            skipped.add(inner)
            continue
        if "fn" in class_tokens(inner) or inner.get("itemprop") == "name":
            if element_text(inner, not_name):
                named = inner
                break
        elif inner.tag in _NAME_TAGS and inner is not author and element_text(inner, not_name):
            links.append(inner)
    else:
        if links:
            # A name in <strong> beats a link beside it (the link is then the site's).
            named = next((e for e in links if e.tag != "a"), links[0])
    # A line break inside the name element starts a badge or role ("Martina Berg<br>
    # <span>Autor</span>"): the name is its first line.
    first_line = next(iter(element_text(named, not_name).split("\n")), "")
    name, _ = clean_author(first_line)
    if name is None:
        name, _ = clean_author(shown)
    return name, (shown if shown != name else None)


def _read_date(parts: _Parts, record: RawComment, page: HtmlPage, skip: Skip) -> None:
    box, time = parts.date_box, parts.time
    if time is None and box is not None:
        time = next(box.iter("time"), None)
    shown: str | None = None
    if time is not None:
        shown = element_text(time).replace("\n", " ") or None
        moment = time.get("datetime")
        record.posted_at = parse_date(moment) or parse_date(shown)
        record.date_text = shown or moment
    if box is not None:
        if shown is None:
            shown = element_text(box, skip).replace("\n", " ") or None
            record.date_text = shown
            record.posted_at = parse_date(box.get("title")) or parse_date(shown)
        link = box if box.tag == "a" else next(box.iter("a"), None)
        if link is not None:
            record.url = page.absolute(link.get("href"))
    elif time is not None:
        link = time.getparent()
        if link is not None and link.tag == "a":
            record.url = page.absolute(link.get("href"))

"""Any HTML page: choosing the variant, the article, broken and hostile input."""

import codecs
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import threads
from app.domain import Paragraph
from app.errors import ParseError
from app.threads import htmlpage
from app.threads.htmlutil import sniff_encoding
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

HTML = DATA / "html"
OPTIONS = ParseOptions()


@pytest.mark.parametrize(
    ("name", "variant", "count"),
    [
        ("wordpress_classic.html", "wordpress", 3),  # and a pingback beside the tree
        ("wordpress_jsonld.html", "wordpress", 4),
        ("blogger_threaded.html", "blogger", 3),
        ("generic_forum.html", "html-generic", 4),
        ("generic_indented.html", "html-generic", 5),
        ("article_provenance.html", "wordpress", 0),
    ],
)
def test_picks_the_variant(name: str, variant: str, count: int) -> None:
    data = (HTML / name).read_bytes()
    thread = htmlpage.parse(data, OPTIONS)
    assert (thread.source_format, len(thread.comments)) == (variant, count)
    # The registry sniffs "html" and reads the same; the variant's name reads it alike.
    assert threads.parse(data) == thread
    assert threads.parse(data, format=variant) == thread


@pytest.mark.parametrize(
    ("name", "variant", "count"),
    [
        ("wordpress_com_diverse_contributors_en.html", "wordpress", 13),
        ("wordpress_lemire_me_json_en.html", "wordpress", 5),
        ("blogger_luxuryhaven_threaded_en.html", "blogger", 24),
    ],
)
def test_picks_the_variant_of_public_pages(name: str, variant: str, count: int) -> None:
    thread = htmlpage.parse(shared_file(THREAD_FIXTURES / name).read_bytes(), OPTIONS)
    assert (thread.source_format, len(thread.comments)) == (variant, count)


def test_article_provenance_from_markup() -> None:
    thread = htmlpage.parse((HTML / "article_provenance.html").read_bytes(), OPTIONS)
    article = thread.article
    assert article.title == "UN council meets on North Korea"  # h1, not og:title
    assert article.author == "Kim Lee"
    assert article.posted_at == datetime(2019, 12, 10, 12, 0, tzinfo=UTC)
    assert article.provenance_basis == "markup"
    assert article.paragraphs == (
        Paragraph("Here is what Reuters reported on Monday."),
        Paragraph(
            "Concerns were growing internationally that North Korea could resume testing. "
            "[Despite Pyongyang\u2019s willingness to make concessions.]",
            provenance="edited",
            insertions=("[Despite Pyongyang\u2019s willingness to make concessions.]",),
        ),
        Paragraph(
            "\u201cOn North Korea, it\u2019s very important that the council maintains "
            "unity,\u201d the ambassador said.",
            provenance="quoted",
        ),
        Paragraph(
            "The envoy called it \u201ca historical mistake [sic]\u201d, which tells you a lot.",
            provenance="edited",
            insertions=("[sic]",),
        ),
        Paragraph("See the footnote [1] for the source."),  # a footnote is not an insertion
    )
    assert "Share this" not in article.text and "Recent Posts" not in article.text


def test_plain_article_has_no_provenance_basis() -> None:
    thread = htmlpage.parse((HTML / "wordpress_classic.html").read_bytes(), OPTIONS)
    assert thread.article.provenance_basis == "none"
    assert {p.provenance for p in thread.article.paragraphs} == {"own"}


def test_page_without_comments_section() -> None:
    with pytest.raises(ParseError, match="no comments section that threadguard recognises"):
        htmlpage.parse((HTML / "no_comments.html").read_bytes(), OPTIONS)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "HTML page is empty"),
        (b"\r\n\t ", "HTML page is empty"),
        (b"<!-- only a comment -->", "no elements"),
        (b"just some words", "no comments section"),
    ],
)
def test_unreadable_pages(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        htmlpage.parse(data, OPTIONS)


# --------------------------------------------------------------------------- truncation


def test_page_cut_mid_comment() -> None:
    data = (HTML / "wordpress_classic.html").read_bytes()
    cut = data.index(b"Water evenly")
    thread = htmlpage.parse(data[:cut], OPTIONS)
    # The complete comment, and what lxml recovers of the one that was cut.
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [("11", None), ("12", "11")]
    assert thread.comments[0].text == "Which variety did you grow?\n\nMine split\nevery time."
    assert thread.comments[1].text == "Moneymaker."
    assert [w.code for w in thread.warnings] == ["truncated"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fraction=st.floats(min_value=0.0, max_value=1.0))
def test_any_cut_gives_a_prefix_of_the_thread_or_a_parse_error(fraction: float) -> None:
    data = (HTML / "wordpress_classic.html").read_bytes()
    whole = [c.comment_id for c in htmlpage.parse(data, OPTIONS).comments]
    try:
        thread = htmlpage.parse(data[: int(len(data) * fraction)], OPTIONS)
    except ParseError:
        return
    got = [c.comment_id for c in thread.comments]
    # Document order of the complete page is 11, 12, 14, 13: a cut keeps a prefix of it.
    assert got == whole[: len(got)]


# --------------------------------------------------------------------------- nesting


def _nested(levels: int) -> bytes:
    opening = "".join(
        f'<li class="comment depth-{i + 1}" id="comment-{i}"><div class="comment-content">'
        f'<p>level {i}</p></div><ul class="children">'
        for i in range(levels)
    )
    return f'<html><body><ol class="comment-list">{opening}{"</ul></li>" * levels}</ol>'.encode()


def test_deep_nesting_within_the_parser_limit() -> None:
    thread = htmlpage.parse(_nested(1000), OPTIONS)
    assert len(thread.comments) == 1000
    last = thread.comments[-1]
    assert (last.comment_id, last.parent_id, last.depth, last.text) == (
        "999",
        "998",
        999,
        "level 999",
    )
    # Each comment's text is its own, not its replies'.
    assert thread.comments[0].text == "level 0"


def test_ten_thousand_levels_is_a_clear_error() -> None:
    # libxml2 stops at 2048 open elements (with huge_tree) and drops the rest of the page;
    # a thread silently cut at level ~1020 would be wrong, so this is an error.
    with pytest.raises(ParseError, match="nested too deeply"):
        htmlpage.parse(_nested(10_000), OPTIONS)


# --------------------------------------------------------------------------- encodings

PAGE = (
    "<html><head>{meta}</head><body><h1 class='entry-title'>Caf\u00e9 \u201cnotes\u201d</h1>"
    "<ol class='commentlist'><li class='comment' id='comment-1'><cite class='fn'>Ren\u00e9e</cite>"
    "<div class='comment-content'><p>Na\u00efve \u2013 but fun.</p></div></li></ol></body></html>"
)


@pytest.mark.parametrize(
    ("meta", "encoding", "prefix"),
    [
        ("<meta charset='windows-1252'>", "cp1252", b""),
        ("<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'>", "cp1252", b""),
        ("", "cp1252", b""),  # no label, not UTF-8: windows-1252 like a browser
        ("<meta charset='utf-8'>", "utf-8", b""),
        ("", "utf-8", codecs.BOM_UTF8),
        ("<meta charset='utf-16'>", "utf-16", b""),  # BOM included by the codec
        ("<meta charset='koi8-r'>", "utf-8", b""),  # wrong label: decoded as declared
    ],
)
def test_encodings(meta: str, encoding: str, prefix: bytes) -> None:
    data = prefix + PAGE.format(meta=meta).encode(encoding)
    thread = htmlpage.parse(data, OPTIONS)
    (comment,) = thread.comments
    if "koi8" in meta:
        assert comment.author != "Ren\u00e9e"  # mojibake, as a browser would show
        return
    assert comment.author == "Ren\u00e9e"
    assert comment.text == "Na\u00efve \u2013 but fun."
    assert thread.title == "Caf\u00e9 \u201cnotes\u201d"


def test_sniff_encoding() -> None:
    assert sniff_encoding(b"<meta charset=latin1><p>x</p>") == "windows-1252"
    assert sniff_encoding(b"<meta charset='no-such-codec'><p>caf\xc3\xa9</p>") == "utf-8"
    assert sniff_encoding(b"\xff\xfe<\x00") == "utf-16"
    assert sniff_encoding(b"<p>caf\xe9</p>") == "windows-1252"


def test_control_characters_are_dropped() -> None:
    data = (
        b"<ol class='comment-list'><li class='comment' id='comment-1'>"
        b"<div class='comment-content'>a\x01b\x08c\x1bd\x7fe</div></li></ol>"
    )
    assert htmlpage.parse(data, OPTIONS).comments[0].text == "abcde"

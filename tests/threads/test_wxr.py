"""WordPress WXR exports: choosing the post, the comment tree, and hostile XML."""

from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import ParseError
from app.threads import wxr
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

SMALL = DATA / "exports" / "wxr_small.xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
)


def _wxr(items: str) -> bytes:
    return f"{HEAD}{items}</channel></rss>".encode()


def _comment(comment_id: str, parent: str, content: str, approved: str = "1") -> str:
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_content>{escape(content)}</wp:comment_content>"
        f"<wp:comment_approved>{approved}</wp:comment_approved>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )


def test_isso_fixture_reads_the_first_post_with_comments() -> None:
    # Counted by hand in the file: 8 <wp:comment> in all, 7 in the first <item>
    # (ids 2, 6, 7, 8, 9, 10, 11), 1 in the second (id 11), none in the third.
    data = shared_file(THREAD_FIXTURES / "wordpress_wxr_export_isso_fixture.xml").read_bytes()
    thread = wxr.parse(data, ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]
    assert edges == [
        ("2", None, 0),
        ("6", None, 0),
        ("7", "6", 1),
        ("8", "7", 2),
        ("9", "7", 2),
        ("10", None, 0),
        ("11", None, 0),
    ]
    assert thread.source_format == "wxr"
    assert thread.url == "http://example.tld/2014/test/"
    assert thread.article.title == "Hello, World…"
    assert thread.article.author == "Tester"
    assert thread.article.posted_at == datetime(2014, 1, 14, 17, 31, 3, tzinfo=UTC)
    first = thread.get("2")
    assert (first.author, first.text) == ("Ohai", "Erster!1")
    assert first.posted_at == datetime(2014, 1, 14, 17, 32, 12, tzinfo=UTC)
    assert first.url == "http://example.tld/2014/test/#comment-2"
    assert first.anchor == "comment-2"
    # Comment 7 has only a GMT date; comment 10's local and GMT dates differ.
    assert thread.get("7").posted_at == datetime(2014, 4, 29, 15, 21, 35, tzinfo=UTC)
    assert thread.get("10").posted_at == datetime(2022, 6, 6, 2, 13, 14, tzinfo=UTC)
    assert thread.get("10").date_text == "2022-06-06 12:13:14"
    assert thread.get("10").text == (
        "When you have a comment with multiple lines:\nWordPress exports it like this."
    )
    assert [w.code for w in thread.warnings] == ["other"]
    assert "2 posts with comments" in thread.warnings[0].message
    assert "skipped 1 other" in thread.warnings[0].message


def test_isso_fixture_picks_a_post_by_url() -> None:
    data = shared_file(THREAD_FIXTURES / "wordpress_wxr_export_isso_fixture.xml").read_bytes()
    thread = wxr.parse(data, ParseOptions(url="http://example.tld/?p=4"))
    assert [(c.comment_id, c.parent_id, c.author) for c in thread.comments] == [
        ("11", None, "Anonymous")
    ]
    assert thread.warnings == ()
    empty = wxr.parse(data, ParseOptions(url="http://example.tld/?p=6"))
    assert empty.comments == ()
    assert empty.article.title == "No comments"


def test_small_export_tree_and_moderation_states() -> None:
    thread = wxr.parse(SMALL.read_bytes(), ParseOptions())
    edges = [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]
    assert edges == [
        ("101", None, 0),
        ("102", "101", 1),
        ("103", "101", 1),
        ("104", "103", 2),
        ("106", None, 0),
        ("107", None, 0),  # its parent 999 is not in the export
        ("108", None, 0),
    ]
    deleted = {c.comment_id for c in thread.comments if c.deleted}
    assert deleted == {"103", "106"}  # spam and trash; pending 102 is an ordinary comment
    assert thread.get("101").text == ("I saw this coming.\n\nSecond paragraph,\nwith a line break.")
    assert thread.get("103").text == "Buy pills"
    (pingback,) = thread.pingbacks  # beside the tree
    assert (pingback.comment_id, pingback.kind) == ("105", "pingback")
    assert pingback.author == "Other Blog » Rates"
    assert pingback.text == "[…] as the bank said […]"
    assert thread.get("108").posted_at == datetime(2021, 3, 3, 12, 0)  # local, no zone
    assert thread.get("108").date_text == "2021-03-03 12:00:00"
    codes = sorted(w.code for w in thread.warnings)
    assert codes == ["orphan", "other"]


def test_small_export_article() -> None:
    article = wxr.parse(SMALL.read_bytes(), ParseOptions()).article
    assert article.title == "Rates are going up"
    assert article.author == "ed"
    assert article.posted_at == datetime(2021, 3, 1, 9, 30, tzinfo=UTC)
    assert [p.text for p in article.paragraphs] == [
        "The bank raised rates again.",
        "Nobody was surprised.\nLeast of all the markets.",
        "We will do what it takes.",
    ]


def test_url_matches_guid_too() -> None:
    thread = wxr.parse(SMALL.read_bytes(), ParseOptions(url="https://blog.example/?p=9"))
    assert [c.comment_id for c in thread.comments] == ["201"]
    assert thread.url == "https://blog.example/?p=9"


def test_unknown_url_names_the_links() -> None:
    with pytest.raises(
        ParseError, match=r"no post .* 'https://nope'.*'https://blog.example/about/'"
    ):
        wxr.parse(SMALL.read_bytes(), ParseOptions(url="https://nope"))


def test_posts_without_comments_give_the_first_post() -> None:
    thread = wxr.parse(_wxr("<item><title>Only</title></item>"), ParseOptions())
    assert thread.comments == ()
    assert thread.article.title == "Only"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"not well-formed XML"),
        (b"<rss><channel><item>", r"not well-formed XML: .*line 1"),
        (b"<feed><entry/></feed>", r"root element is <feed>, not <rss>"),
        (_wxr(""), r"holds no posts"),
        (
            _wxr(
                "<item><link>https://x/</link><wp:comment><wp:comment_parent>0"
                "</wp:comment_parent></wp:comment></item>"
            ),
            r"<wp:comment> number 1 of 'https://x/' has no <wp:comment_id>",
        ),
        (b"<rss>&undefined;</rss>", r"not well-formed XML: undefined entity"),
        (b'<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/x.dtd"><rss/>', r"declares a DTD"),
    ],
)
def test_malformed_input(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        wxr.parse(data, ParseOptions())


def test_billion_laughs_is_refused_without_expanding() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    data = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        "<rss><channel><item><title>&lol9;</title></item></channel></rss>"
    ).encode()
    # The message says the document was refused before its entities were read.
    with pytest.raises(ParseError, match="refuses to read, so nothing in it is expanded"):
        wxr.parse(data, ParseOptions())


def test_external_entity_is_refused_without_reading_it() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&xxe;</title>"
        + _comment("1", "0", "hi").encode()
        + b"</item></channel></rss>"
    )
    with pytest.raises(ParseError, match="declares a DTD or entities") as caught:
        wxr.parse(data, ParseOptions())
    assert "root:" not in str(caught.value)


def test_ten_thousand_level_reply_chain() -> None:
    # WordPress ids start at 1; parent "0" means the post.
    chain = "".join(_comment(str(i), str(i - 1), f"c{i}") for i in range(1, 10_001))
    thread = wxr.parse(_wxr(f"<item><title>Deep</title>{chain}</item>"), ParseOptions())
    assert len(thread.comments) == 10_000
    assert thread.comments[-1].comment_id == "10000"
    assert thread.comments[-1].depth == 9999


def test_deeply_nested_html_keeps_its_text() -> None:
    body = "<div>" * 5000 + "still here" + "</div>" * 5000
    thread = wxr.parse(_wxr(f"<item>{_comment('1', '0', body)}</item>"), ParseOptions())
    assert thread.get("1").text == "still here"


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé<&>", min_size=1, max_size=6)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
TEXT = st.lists(st.lists(LINE, min_size=1, max_size=3).map("\n".join), min_size=1, max_size=3).map(
    "\n\n".join
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=30), TEXT), max_size=25))
def test_random_trees_round_trip(spec: list[tuple[int, str]]) -> None:
    # Comment n (from 1, as in WordPress) replies to comment n - 1 - k when there is one.
    expected = {
        str(n): (str(n - 1 - k) if k < n - 1 else None, text) for n, (k, text) in enumerate(spec, 1)
    }
    # Text is HTML in WXR, so a literal "<" or "&" is escaped once for HTML.
    items = "".join(
        _comment(n, parent or "0", escape(text)) for n, (parent, text) in expected.items()
    )
    thread = wxr.parse(_wxr(f"<item>{items}</item>"), ParseOptions())
    assert {c.comment_id: (c.parent_id, c.text) for c in thread.comments} == expected

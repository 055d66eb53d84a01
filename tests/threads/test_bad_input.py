"""The bad inputs the parser must survive, each through the public `parse` entry point:
a clear ParseError or a correct, bounded result; never a hang or a RecursionError."""

import json
import time

import pytest

from app.errors import InputTooLarge, ParseError
from app.threads import ParseOptions, parse

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<disqus xmlns="http://disqus.com"><thread><title>&lol9;</title></thread></disqus>
"""

WORDPRESS_ITEM = (
    "<li id='comment-{i}' class='comment depth-1'><article class='comment-body'>"
    "<footer class='comment-meta'><div class='comment-author vcard'><b class='fn'>u{i}</b>"
    " <span class='says'>says:</span></div></footer>"
    "<div class='comment-content'><p>{text}</p></div></article></li>"
)


def wordpress_page(n: int, text: str = "a comment") -> bytes:
    items = "".join(WORDPRESS_ITEM.format(i=i, text=text) for i in range(1, n + 1))
    return (
        "<html><head><title>P</title></head><body><article><h1 class='entry-title'>P</h1>"
        "<div class='entry-content'><p>Post.</p></div></article>"
        f"<ol class='comment-list'>{items}</ol></body></html>"
    ).encode()


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "input is empty"),
        (b"\xef\xbb\xbf \n\t\n", "input is empty"),
        (bytes(range(256)) * 64, "input looks binary"),
        (b"\x00\x01\x02PK\x03\x04" + b"\x00" * 100, "input looks binary"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "unrecognised input"),
        (BILLION_LAUGHS, "DTD or entities"),
    ],
)
def test_refused_with_a_clear_error(data: bytes, match: str) -> None:
    start = time.monotonic()
    with pytest.raises(ParseError, match=match):
        parse(data)
    assert time.monotonic() - start < 5, "refusing bad input must not take long"


def test_truncated_html_keeps_the_complete_comments() -> None:
    page = wordpress_page(5)
    cut = page[: page.index(b"u5</b>")]
    thread = parse(cut)
    assert [c.author for c in thread.comments][:4] == ["u1", "u2", "u3", "u4"]
    assert [c.text for c in thread.comments][:4] == ["a comment"] * 4


def test_ten_thousand_levels_of_flat_records() -> None:
    # Ids from 1: a parent id of 0 means "reply to the article", as in WordPress exports.
    rows = [{"id": i, "parent_id": i - 1, "text": f"t{i}"} for i in range(1, 10_001)]
    thread = parse(json.dumps(rows).encode())
    assert thread.comments[-1].depth == 9_999


def test_ten_thousand_levels_of_nested_html() -> None:
    page = (
        "<html><body><ol class='comment-list'>"
        + "".join(
            f"<li id='comment-{i}' class='comment'><div class='comment-author'>"
            f"<b class='fn'>u{i}</b></div><div class='comment-content'><p>t{i}</p></div>"
            "<ol class='children'>"
            for i in range(10_000)
        )
        + "</ol></li>" * 10_000
        + "</ol></body></html>"
    ).encode()
    try:
        thread = parse(page)
    except ParseError as exc:
        assert "nested" in str(exc)
    else:
        # Whatever the HTML parser keeps must be a correct chain.
        assert thread.comments
        for comment in thread.comments:
            assert comment.depth == int(comment.comment_id)


def test_over_the_size_limit_is_refused_before_parsing() -> None:
    with pytest.raises(InputTooLarge, match="over the limit of 1,000 bytes"):
        parse(b"<html>" + b" " * 2000, options=ParseOptions(max_bytes=1000))


def test_too_many_comments_is_refused() -> None:
    with pytest.raises(InputTooLarge, match="over the limit of 10"):
        parse(wordpress_page(11), options=ParseOptions(max_comments=10))


@pytest.mark.slow
def test_fifty_megabyte_page_parses_completely() -> None:
    text = "word " * 100
    page = wordpress_page(50_000, text.strip())
    assert len(page) > 30_000_000
    page = page.replace(b"</body>", b"<!--" + b"x" * (50_000_000 - len(page)) + b"--></body>")
    assert len(page) >= 50_000_000
    thread = parse(page)
    assert len(thread.comments) == 50_000
    assert thread.comments[-1].author == "u50000"

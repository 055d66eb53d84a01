"""Discourse topics as HTML (the crawler view): post 1 as the article, replies from quotes."""

from datetime import UTC, datetime

import pytest

from app.errors import ParseError
from app.threads import discourse_html, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

TOPIC = DATA / "threads_new" / "discourse_topic.html"

# (id, parent, depth, author, text start), read off the fixture's quotes: 3 quotes post 2,
# 4 quotes post 1 (the topic: top-level), 5 quotes another topic first, then post 4.
EXPECTED = [
    ("2", None, 0, "oskar", "Use the manual feed tray."),
    ("3", "2", 1, "priya", "oskar:\n\nUse the manual feed tray.\n\nThat fixed it."),
    ("4", None, 0, "wen", "priya:\n\nMy printer jams\n\nMine too, on cardstock."),
    ("5", "4", 1, "lars", "kim:\n\nAnother topic entirely\n\nwen:\n\nMine too\n\nTry a"),
]


def test_crawler_view() -> None:
    thread = discourse_html.parse(TOPIC.read_bytes(), ParseOptions())
    assert len(thread.comments) == len(EXPECTED)
    for comment, (cid, parent, depth, author, start) in zip(thread.comments, EXPECTED, strict=True):
        assert (comment.comment_id, comment.parent_id, comment.depth) == (cid, parent, depth)
        assert comment.author == author
        assert comment.text.startswith(start), comment.text
        assert "Like" not in comment.text
        assert comment.anchor == f"post_{cid}"
    first = thread.comments[0]
    assert first.posted_at == datetime(2024, 7, 1, 8, 30, tzinfo=UTC)
    assert first.date_text == "July 1, 2024, 8:30am"
    assert thread.source_format == "discourse-html"
    assert thread.title == "Printer jams on thick paper"
    assert thread.article.author == "priya"
    assert [p.text for p in thread.article.paragraphs] == [
        "My printer jams on 300 gsm paper.",
        "Any settings to try?",
    ]
    assert thread.warnings == ()


def test_detected_from_content() -> None:
    thread = parse(TOPIC.read_bytes())
    assert thread.source_format == "discourse-html"
    assert [c.parent_id for c in thread.comments] == [row[1] for row in EXPECTED]


def test_number_from_position_when_the_id_is_missing() -> None:
    data = TOPIC.read_bytes().replace(b"<div id='post_3'", b"<div")
    thread = discourse_html.parse(data, ParseOptions())
    assert [c.comment_id for c in thread.comments] == ["2", "3", "4", "5"]


def test_only_the_opening_post_is_a_thread_without_comments() -> None:
    data = TOPIC.read_bytes()
    start = data.index(b"      <div id='post_2'")
    end = data.index(b"      </div>\n    </div>\n    <footer")
    thread = discourse_html.parse(data[:start] + data[end:], ParseOptions())
    assert thread.comments == ()
    assert thread.article.author == "priya"


def test_page_without_posts_is_refused() -> None:
    with pytest.raises(ParseError, match="no Discourse posts found"):
        discourse_html.parse(b"<html><body><div class='post'>x</div></body></html>", ParseOptions())


def test_post_without_number_is_refused() -> None:
    data = TOPIC.read_bytes().replace(b"<div id='post_4'", b"<div", 1)
    data = data.replace(b"<span itemprop='position'>4</span>", b"")
    with pytest.raises(ParseError, match=r"post on line \d+ has no number"):
        discourse_html.parse(data, ParseOptions())


def test_post_without_text_is_refused() -> None:
    data = TOPIC.read_bytes().replace(
        b"<div class='post' itemprop='text'>\n<p>Use the manual", b"<section>\n<p>Use the manual"
    )
    with pytest.raises(ParseError, match="post 2 .* has no div.post"):
        discourse_html.parse(data, ParseOptions())

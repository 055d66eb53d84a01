"""Disqus threads rendered by the embed: nesting from ul.children, deleted posts, detection."""

from datetime import datetime

import pytest

from app.errors import ParseError
from app.threads import disqus_html, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

EMBED = DATA / "threads_new" / "disqus_embed.html"

# (id, parent, depth, author, text start, deleted), read off the fixture's ul.children.
EXPECTED = [
    ("100", None, 0, "Ann", "Top-level comment about solar panels.\n\nSecond paragraph.", False),
    ("101", "100", 1, "Ben", "Reply to Ann.", False),
    ("102", "101", 2, "Cat", "Deep reply to Ben.", False),
    ("103", "100", 1, None, "This comment was deleted.", True),
    ("105", "103", 2, "Eve", "Reply under a deleted comment.", False),
    ("104", None, 0, "Dan", "Second top-level comment.", False),
]


def test_embed() -> None:
    thread = disqus_html.parse(EMBED.read_bytes(), ParseOptions())
    assert len(thread.comments) == len(EXPECTED)
    for comment, (cid, parent, depth, author, start, deleted) in zip(
        thread.comments, EXPECTED, strict=True
    ):
        assert (comment.comment_id, comment.parent_id, comment.depth) == (cid, parent, depth)
        assert comment.author == author
        assert comment.text.startswith(start), comment.text
        assert comment.deleted is deleted
        assert not comment.text.endswith(("Reply", "show more")), "footer is not text"
    first = thread.comments[0]
    assert first.date_text == "2 days ago"
    assert first.posted_at == datetime(2024, 6, 3, 9, 40)
    assert first.url == "https://blog.example.org/2024/06/solar/#comment-100"
    assert first.anchor == "post-100"
    assert thread.source_format == "disqus-html"
    assert thread.warnings == ()


def test_detected_from_content() -> None:
    thread = parse(EMBED.read_bytes())
    assert thread.source_format == "disqus-html"
    assert [c.parent_id for c in thread.comments] == [row[1] for row in EXPECTED]


def test_a_list_of_articles_named_post_list_is_not_a_thread() -> None:
    page = (
        b'<html><body><ul id="post-list"><li class="post" id="post-1"><h2>News</h2>'
        b'<span class="author">Ed</span></li></ul></body></html>'
    )
    with pytest.raises(ParseError, match="no Disqus thread found"):
        disqus_html.parse(page, ParseOptions())


def test_empty_post_list_is_refused() -> None:
    data = EMBED.read_bytes()
    start = data.index(b'<ul id="post-list" class="post-list">') + len(
        b'<ul id="post-list" class="post-list">'
    )
    end = data.rindex(b"</ul>")
    with pytest.raises(ParseError, match="no Disqus thread found"):
        disqus_html.parse(data[:start] + data[end:], ParseOptions())


def test_post_without_message_is_a_placeholder() -> None:
    data = EMBED.read_bytes().replace(
        b'<div class="post-message " data-role="message" dir="auto"><p>Reply to Ann.</p></div>',
        b"",
    )
    thread = disqus_html.parse(data, ParseOptions())
    assert thread.get("101").deleted
    assert thread.get("102").parent_id == "101"

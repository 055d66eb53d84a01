"""Old Reddit comment pages: nesting from div.child, deleted comments kept, stubs skipped."""

from __future__ import annotations

import pytest

from app.errors import ParseError
from app.threads import parse


def _thing(fullname: str, author: str, text: str, children: str = "", extra: str = "") -> str:
    return (
        f'<div class="thing id-{fullname} comment {extra}" data-fullname="{fullname}" '
        f'data-type="comment" data-author="{author}" '
        f'data-permalink="/r/town/comments/abc/bridge/{fullname[3:]}/">'
        '<div class="entry unvoted"><p class="tagline">'
        f'<a class="author">{author}</a> <span class="score">3 points</span> '
        '<time datetime="2026-11-30T10:00:00+00:00">2 hours ago</time></p>'
        f'<div class="usertext-body"><div class="md"><p>{text}</p></div></div>'
        '<ul class="flat-list buttons"><li><a>permalink</a></li><li><a>reply</a></li></ul>'
        f'</div><div class="child"><div class="sitetable listing">{children}</div></div></div>'
    )


MORE = '<div class="thing morechildren"><a>load more comments (3 replies)</a></div>'
PAGE = (
    "<html><head><title>The bridge : town</title></head><body>"
    '<div class="thing link self" data-fullname="t3_abc">'
    '<a class="title" href="/r/town/comments/abc/bridge/">The bridge vote</a>'
    '<div class="usertext-body"><div class="md"><p>Council voted yes.</p></div></div></div>'
    '<div class="commentarea"><div class="sitetable nestedlisting">'
    + _thing(
        "t1_a1",
        "ann",
        "A fine idea.",
        _thing("t1_b1", "[deleted]", "[removed]", _thing("t1_c1", "cy", "Why removed?"))
        + _thing("t1_b2", "bo", "Agreed.")
        + MORE,
    )
    + _thing("t1_a2", "dee", "Too expensive.")
    + "</div></div></body></html>"
).encode()


def test_an_old_reddit_page_is_read_from_its_nesting() -> None:
    thread = parse(PAGE)
    assert thread.source_format == "reddit-html"
    got = [(c.comment_id, c.parent_id, c.author, c.depth) for c in thread.comments]
    assert got == [
        ("t1_a1", None, "ann", 0),
        ("t1_b1", "t1_a1", None, 1),
        ("t1_c1", "t1_b1", "cy", 2),
        ("t1_b2", "t1_a1", "bo", 1),
        ("t1_a2", None, "dee", 0),
    ]
    first, removed = thread.comments[0], thread.comments[1]
    # Only the comment's own entry: not its replies' text, not the tagline or buttons.
    assert first.text == "A fine idea."
    assert removed.deleted and removed.text == "[removed]"
    assert first.url == "https://www.reddit.com/r/town/comments/abc/bridge/a1/"
    assert first.posted_at is not None and first.posted_at.isoformat().startswith("2026-11-30")
    assert thread.article.title == "The bridge vote"
    assert thread.article.text == "Council voted yes."


def test_the_format_can_be_forced_and_refuses_a_page_without_comments() -> None:
    assert parse(PAGE, format="reddit-html").source_format == "reddit-html"
    with pytest.raises(ParseError, match="no old Reddit comments"):
        parse(b"<html><body><p>nothing</p></body></html>", format="reddit-html")


def test_a_comment_without_an_id_is_a_clear_error() -> None:
    page = PAGE.replace(b'data-fullname="t1_b2"', b"")
    with pytest.raises(ParseError, match="no data-fullname"):
        parse(page)

"""Pages of unknown software: repeated comment blocks found by their classes."""

import pytest

from app.domain import Thread
from app.errors import ParseError
from app.threads import generic_html
from app.threads.options import ParseOptions
from tests.conftest import DATA

HTML = DATA / "html"


def _parse(data: bytes) -> Thread:
    return generic_html.parse(data, ParseOptions())


def test_forum_posts_nested_by_containment() -> None:
    thread = _parse((HTML / "generic_forum.html").read_bytes())
    assert [(c.comment_id, c.parent_id, c.depth) for c in thread.comments] == [
        ("p501", None, 0),
        ("p502", "p501", 1),
        ("p504", "p502", 2),
        ("p503", None, 0),
    ]
    first, second, third, lily = thread.comments
    assert first.author == "koi_karen"
    # The parent's text stops where its replies start.
    assert first.text == "Looking for a quiet pump for a 2000 litre pond.\nAny tips?"
    assert first.date_text == "12 May 2022, 14:02"
    assert first.posted_at is not None and first.posted_at.isoformat() == "2022-05-12T14:02:00"
    assert second.text == "I use a solar one. Works fine in summer."
    assert third.author == "koi_karen"
    assert lily.text == "Avoid the cheapest ones."  # the signature is chrome
    authors = {c.author for c in thread.comments}
    assert "sidebar_user" not in authors and "nav-user" not in authors
    assert thread.source_format == "html-generic"
    assert thread.title == "Best pond pump?"  # the <h1>, not the <title>


def test_flat_blocks_nested_by_indentation_classes() -> None:
    thread = _parse((HTML / "generic_indented.html").read_bytes())
    # level-0 is the top: levels count from whatever the page starts at.
    assert [(c.comment_id, c.parent_id, c.author, c.text) for c in thread.comments] == [
        ("r1", None, "Ann", "Finally!"),
        ("r2", "r1", "Ben", "It is five years late."),
        ("r3", "r2", "Ann", "Better late than never."),
        ("r4", "r1", "Cy", "Who pays for it?"),
        ("r5", None, "Dee", "Will it have a cycle lane?"),
    ]
    assert thread.title == "Town council votes on the new bridge"


def test_wordpress_markup_read_generically_keeps_the_outer_block() -> None:
    thread = _parse((HTML / "wordpress_classic.html").read_bytes())
    # li.comment and its div.comment-body both have authors and text; the outer one wins,
    # so replies nest. The pingback has no author element and its class is "pingback".
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [
        ("11", None),
        ("12", "11"),
        ("14", "12"),
    ]
    assert thread.comments[0].author == "Bob"


def test_posts_inside_a_moderation_form_are_found() -> None:
    blocks = "".join(
        f'<div class="post" id="post{i}"><span class="author">u{i}</span>'
        f'<div class="content">message {i}</div></div>'
        for i in range(3)
    )
    thread = _parse(f'<html><body><form action="/mod">{blocks}</form></body></html>'.encode())
    assert [(c.comment_id, c.author, c.text) for c in thread.comments] == [
        ("post0", "u0", "message 0"),
        ("post1", "u1", "message 1"),
        ("post2", "u2", "message 2"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "<p>Just an about page.</p>",
        # Repeated post blocks but no authors: an archive listing, not comments.
        '<div class="post"><p>one</p></div><div class="post"><p>two</p></div>',
        # Authors and text, but only in a sidebar.
        '<aside><div class="comment"><b class="author">a</b><p>hi</p></div></aside>',
    ],
)
def test_no_repeated_comment_blocks(body: str) -> None:
    with pytest.raises(ParseError, match="no repeated comment blocks"):
        _parse(f"<html><body>{body}</body></html>".encode())

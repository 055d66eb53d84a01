"""Flat comment pages that name the comment a reply answers next to a link to it."""

from __future__ import annotations

from app.threads import parse


def _block(n: int, author: str, text: str, reply_to: str | None = None, label: str = "") -> str:
    link = f'<a href="#c{reply_to}">{label} #{reply_to}</a>' if reply_to else ""
    return (
        f'<div id="c{n}" class="comment-box"><span class="comment-author">{author}</span>'
        f'<p class="comment-text">{text}</p>{link}</div>'
    )


def _page(*blocks: str) -> bytes:
    return ("<html><body><h1>Story</h1>" + "".join(blocks) + "</body></html>").encode()


def test_a_reply_label_with_a_link_to_an_earlier_comment_makes_it_the_parent() -> None:
    page = _page(
        _block(1, "Ann", "First."),
        _block(2, "Bo", "No.", reply_to="1", label="Antwort auf"),
        _block(3, "Cy", "Yes.", reply_to="2", label="In reply to"),
        _block(4, "Dee", "Also first."),
    )
    thread = parse(page)
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [
        ("c1", None),
        ("c2", "c1"),
        ("c3", "c2"),
        ("c4", None),
    ]


def test_a_link_without_a_reply_label_or_to_a_later_comment_changes_nothing() -> None:
    page = _page(
        _block(1, "Ann", "See below.", reply_to="3", label="In reply to"),
        _block(2, "Bo", "A link.", reply_to="1", label="see"),
        _block(3, "Cy", "Third."),
    )
    assert all(c.parent_id is None for c in parse(page).comments)

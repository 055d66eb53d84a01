"""WordPress pages: classic and WordPress.com comment lists, JSON-LD comments, chrome."""

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import Thread
from app.errors import ParseError
from app.threads import wordpress
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

HTML = DATA / "html"


def _parse(source: bytes | Path, url: str | None = None) -> Thread:
    data = source if isinstance(source, bytes) else source.read_bytes()
    return wordpress.parse(data, ParseOptions(url=url))


def _edges(thread: Thread) -> list[tuple[str, str | None, int]]:
    return [(c.comment_id, c.parent_id, c.depth) for c in thread.comments]


# --------------------------------------------------------------------------- public pages


def test_wordpress_com_page_tree_and_fields() -> None:
    thread = _parse(shared_file(THREAD_FIXTURES / "wordpress_com_diverse_contributors_en.html"))
    # Counted from the page: 13 li.comment; replies sit in a <ul class="children"> that
    # follows its comment's </li> (depth-2 and depth-3 classes agree).
    assert _edges(thread) == [
        ("411811", None, 0),
        ("411829", "411811", 1),
        ("411831", "411829", 2),
        ("411817", None, 0),
        ("411821", None, 0),
        ("411834", "411821", 1),
        ("411839", None, 0),
        ("411842", None, 0),
        ("411851", None, 0),
        ("411853", None, 0),
        ("411856", None, 0),
        ("411868", None, 0),
        ("411872", None, 0),
    ]
    by_id = {c.comment_id: c for c in thread.comments}
    assert by_id["411811"].author == "JanBeek"
    assert by_id["411829"].author == "Andrea Middleton"
    assert by_id["411868"].author == "I-AM-SEO (@i_am_seo_london)"
    assert by_id["411811"].text.startswith("Are there workshops available for an 80 year-old")
    assert by_id["411817"].text == "This sounds like a brilliant idea!"
    assert by_id["411811"].date_text == "Jun 20th at 2:41 am"
    assert by_id["411811"].posted_at is None  # the page shows no year
    assert by_id["411811"].anchor == "comment-411811"
    assert by_id["411811"].url == (
        "https://en.blog.wordpress.com/2019/06/19/"
        "want-to-see-a-more-diverse-wordpress-contributor-community-so-do-we/#comment-411811"
    )
    for comment in thread.comments:  # the "Like / Liked by N people" line is chrome
        assert "Liked by" not in comment.text
        assert not comment.text.endswith("Like")
    assert thread.source_format == "wordpress"
    assert thread.title == "Want to See a More Diverse WordPress Contributor Community? So Do We."
    assert thread.article.author == "Andrea Middleton"
    assert thread.article.posted_at == datetime(2019, 6, 19, 19, 38, 8, tzinfo=UTC)
    paragraphs = [p.text for p in thread.article.paragraphs]
    assert paragraphs[0].startswith("The mission of WordPress is to democratize publishing")
    assert paragraphs[-1].startswith("Would you like to help foster diversity")
    assert not any("Email Newsletter" in p or "Share this" in p for p in paragraphs)


def test_lemire_page_tree_ignores_recent_comments_widget() -> None:
    thread = _parse(shared_file(THREAD_FIXTURES / "wordpress_lemire_me_json_en.html"))
    # Counted from the page: 5 li.comment in ol.comment-list, two replies in ol.children;
    # the sidebar's five "Recent Comments" entries are not comments of this post.
    assert _edges(thread) == [
        ("421882", None, 0),
        ("422154", None, 0),
        ("422230", "422154", 1),
        ("422240", None, 0),
        ("422257", "422240", 1),
    ]
    authors = [c.author for c in thread.comments]
    assert authors == ["degski", "degski", "Daniel Lemire", "wmu", "Daniel Lemire"]
    first = thread.comments[0]
    assert first.text.startswith("Thanks, for posting this.\n\nThat is well a mega difference")
    assert "says" not in first.text and "Reply" not in first.text
    assert first.posted_at == datetime(2019, 8, 3, 4, 11, 57, tzinfo=UTC)
    assert first.date_text == "August 3, 2019 at 4:11 am"
    assert first.url == (
        "https://lemire.me/blog/2019/08/02/json-parsing-simdjson-vs-json-for-modern-c/"
        "#comment-421882"
    )
    assert thread.comments[2].text == "We are working toward releasing version 0.2 on vcpkg."
    assert thread.comments[4].text.endswith("Our DOM tree is immutable.\n\nPlease try it out!")
    assert thread.title == "JSON parsing: simdjson vs. JSON for Modern C++"
    assert thread.article.author == "Daniel Lemire"
    assert thread.article.posted_at == datetime(2019, 8, 2, 15, 57, 41, tzinfo=UTC)
    assert thread.article.paragraphs[0].text == (
        "JSON is the ubiquitous data format on the Internet. "
        "There is a lot of JSON that needs to be parsed and validated."
    )
    assert not any("Recent Comments" in p.text for p in thread.article.paragraphs)


# --------------------------------------------------------------------------- hand-made pages


def test_classic_markup_with_pingback_and_nested_replies() -> None:
    thread = _parse(HTML / "wordpress_classic.html")
    assert _edges(thread) == [("11", None, 0), ("12", "11", 1), ("14", "12", 2)]
    bob, ann, thanks = thread.comments
    (pingback,) = thread.pingbacks
    assert (pingback.comment_id, pingback.kind) == ("13", "pingback")
    assert bob.author == "Bob"
    assert bob.text == "Which variety did you grow?\n\nMine split\nevery time."
    assert bob.date_text == "January 5, 2020 at 10:00 am"  # without the "(Edit)" link
    assert bob.posted_at == datetime(2020, 1, 5, 10, 0)
    assert bob.url == "https://blog.example.org/2020/01/garden-notes/#comment-11"
    assert ann.author == "Ann Gardener"
    assert ann.url == "https://blog.example.org/2020/01/garden-notes/#comment-12"
    assert thanks.text == "Thanks!"  # "awaiting moderation" is chrome
    assert pingback.author == "Bean season « Other Blog"
    assert pingback.text == "Pingback: Bean season « Other Blog"
    assert all("Carol" != c.author for c in thread.comments)  # the widget
    assert thread.url == "https://blog.example.org/2020/01/garden-notes/"
    assert thread.title == "Garden notes"
    assert thread.article.author == "Ann Gardener"
    assert [p.text for p in thread.article.paragraphs] == [
        "The tomatoes did well this year.",
        "Next year: more beans.",
    ]
    assert thread.article.provenance_basis == "none"
    assert thread.warnings == ()


def test_given_url_wins_over_canonical() -> None:
    thread = _parse(HTML / "wordpress_classic.html", url="https://mirror.example/garden/")
    assert thread.url == "https://mirror.example/garden/"
    assert thread.comments[1].url == "https://mirror.example/garden/#comment-12"


def test_json_ld_comments_nested_and_by_parent_item() -> None:
    thread = _parse(HTML / "wordpress_jsonld.html")
    assert _edges(thread) == [
        ("301", None, 0),
        ("302", "301", 1),
        ("303", None, 0),
        ("304", "303", 1),
    ]
    first, reply, fay, gus = thread.comments
    assert first.text == "Great post!\n\nHow heavy is the bike?"  # HTML in "text" read as text
    assert first.author == "Eli"
    assert (
        first.posted_at is not None and first.posted_at.isoformat() == "2021-03-02T09:10:00+01:00"
    )
    assert reply.author == "Dana Rider"
    assert fay.author == "Fay" and fay.text == "We did the same & never looked back."
    assert gus.author == "Gus"
    assert thread.title == "Why we moved to bikes"
    assert thread.article.author == "Dana Rider"
    assert [w.code for w in thread.warnings] == ["other"]  # the block that is not JSON
    assert "line 51" in thread.warnings[0].message


def test_script_in_comment_is_dropped_and_escaped_markup_stays_text() -> None:
    thread = _parse(HTML / "xss_comment.html")
    (comment,) = thread.comments
    assert comment.author == "Mallory"
    assert comment.text == "Hello world\n\nI wrote <script>alert(2)</script> on purpose."
    assert "alert(1)" not in comment.text and "alert(3)" not in comment.text
    assert "color:red" not in comment.text and "Enable JS" not in comment.text


def test_recognised_empty_comments_section_is_an_empty_thread() -> None:
    thread = _parse(HTML / "article_provenance.html")
    assert thread.comments == ()
    assert thread.title == "UN council meets on North Korea"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "HTML page is empty"),
        (b"  \n ", "HTML page is empty"),
        (b"<!-- nothing -->", "no elements"),
        (b"<html><body><p>No comments here.</p></body></html>", "no WordPress comments found"),
    ],
)
def test_not_a_wordpress_page(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        wordpress.parse(data, ParseOptions())


def test_blogger_page_is_not_wordpress() -> None:
    data = (HTML / "blogger_threaded.html").read_bytes()
    with pytest.raises(ParseError, match="no WordPress comments found"):
        wordpress.parse(data, ParseOptions())


def test_flat_list_with_depth_classes_nests_by_depth() -> None:
    items = [("1", 1), ("2", 2), ("3", 3), ("4", 2), ("5", 1), ("6", 3)]
    lis = "".join(
        f'<li id="comment-{i}" class="comment depth-{d}"><div class="comment-content">'
        f"<p>c{i}</p></div></li>"
        for i, d in items
    )
    thread = _parse(f'<ol class="comment-list">{lis}</ol>'.encode())
    # "6" says depth 3 after a depth-1 comment: no depth-2 comment is open, so it goes
    # under the nearest shallower one.
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [
        ("1", None),
        ("2", "1"),
        ("3", "2"),
        ("4", "1"),
        ("5", None),
        ("6", "5"),
    ]


def test_li_wrapping_article_comment_is_one_comment() -> None:
    data = (
        b'<ol class="comment-list"><li class="comment" id="li-comment-5">'
        b'<article class="comment" id="comment-5"><footer><cite class="fn">Zoe</cite></footer>'
        b'<div class="comment-content"><p>One comment, two elements.</p></div></article>'
        b'<ol class="children"><li class="comment" id="li-comment-6">'
        b'<article class="comment" id="comment-6"><cite class="fn">Yan</cite>'
        b'<div class="comment-content">Reply.</div></article></li></ol></li></ol>'
    )
    thread = _parse(data)
    assert [(c.comment_id, c.parent_id, c.author) for c in thread.comments] == [
        ("5", None, "Zoe"),
        ("6", "5", "Yan"),
    ]


# --------------------------------------------------------------------------- property


@st.composite
def _trees(draw: st.DrawFn) -> list[tuple[int | None, str]]:
    """Comments as (parent index or None, text), parents always earlier."""
    size = draw(st.integers(min_value=1, max_value=25))
    words = st.text(alphabet="abcdefgh <>&\"'é", min_size=1, max_size=20)
    out: list[tuple[int | None, str]] = []
    for i in range(size):
        parent = (
            draw(st.one_of(st.none(), st.integers(min_value=0, max_value=i - 1))) if i else None
        )
        text = " ".join(draw(words).split())
        out.append((parent, text or "x"))
    return out


def _render(tree: list[tuple[int | None, str]], sibling_lists: bool) -> bytes:
    """WordPress markup for `tree`; replies inside the <li> or right after it."""
    children: dict[int | None, list[int]] = {}
    for i, (parent, _) in enumerate(tree):
        children.setdefault(parent, []).append(i)
    out: list[str] = ['<ol class="comment-list">']
    stack: list[tuple[str, int | None]] = [("open", i) for i in reversed(children[None])]
    while stack:
        action, i = stack.pop()
        if action != "open":
            out.append(action)
            continue
        assert i is not None
        text = html.escape(tree[i][1])
        out.append(
            f'<li id="comment-{i}" class="comment"><article class="comment-body">'
            f'<footer class="comment-meta"><div class="comment-author vcard">'
            f'<b class="fn">user{i}</b> <span class="says">says:</span></div></footer>'
            f'<div class="comment-content"><p>{text}</p></div>'
            f'<div class="reply"><a class="comment-reply-link">Reply</a></div></article>'
        )
        kids = children.get(i, [])
        if sibling_lists:
            stack.append(("</ol>" if kids else "", None))
            if kids:
                stack.extend(("open", k) for k in reversed(kids))
                stack.append(('</li><ol class="children">', None))
            else:
                stack.append(("</li>", None))
        else:
            stack.append(("</li>", None))
            if kids:
                stack.append(("</ol>", None))
                stack.extend(("open", k) for k in reversed(kids))
                stack.append(('<ol class="children">', None))
    out.append("</ol>")
    return "".join(out).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_trees(), sibling_lists=st.booleans())
def test_random_trees_round_trip(tree: list[tuple[int | None, str]], sibling_lists: bool) -> None:
    thread = _parse(_render(tree, sibling_lists))
    got = {c.comment_id: (c.parent_id, c.text, c.author) for c in thread.comments}
    want = {
        str(i): (None if parent is None else str(parent), text, f"user{i}")
        for i, (parent, text) in enumerate(tree)
    }
    assert got == want


def test_comment_without_id_is_named_by_its_body_or_numbered() -> None:
    data = (
        b'<ol class="commentlist"><li class="comment"><div class="comment-body" '
        b'id="div-comment-5"><cite class="fn">Al</cite><p>x</p></div></li>'
        b'<li class="comment"><p>y</p></li></ol>'
    )
    thread = _parse(data)
    assert [(c.comment_id, c.anchor, c.author, c.text) for c in thread.comments] == [
        ("5", "div-comment-5", "Al", "x"),
        ("html-2", None, None, "y"),
    ]

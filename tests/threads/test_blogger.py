"""Blogger pages: threaded comments, removed comments, classic dl#comments-block."""

from datetime import datetime

import pytest

from app.domain import Thread
from app.errors import ParseError
from app.threads import blogger
from app.threads.options import ParseOptions
from tests.conftest import DATA, THREAD_FIXTURES, shared_file

HTML = DATA / "html"

# Counted from the page: 24 <li class="comment"> in #comment-holder, none inside another's
# div.comment-replies (every reply list on the page is empty).
LUXURYHAVEN_IDS = [
    "c7704569152969066600",
    "c2925100285921034305",
    "c2605270586823214546",
    "c8558126846009562781",
    "c8776379075438665669",
    "c4456423330901151910",
    "c9057049636402700514",
    "c2798798960293209782",
    "c1329220156152292960",
    "c1590006011713954010",
    "c5772714855704248401",
    "c7588255742960684441",
    "c1648001528111248930",
    "c8573215561128398457",
    "c4579150749016334868",
    "c6562825361774497687",
    "c2792864984471204854",
    "c2628344504689912918",
    "c5096451107316814108",
    "c2461350786486794426",
    "c6384775904495872246",
    "c4119184502081895167",
    "c4932663984335708254",
    "c107785299162190222",
]


def _parse(data: bytes) -> Thread:
    return blogger.parse(data, ParseOptions())


def test_luxuryhaven_page() -> None:
    path = shared_file(THREAD_FIXTURES / "blogger_luxuryhaven_threaded_en.html")
    thread = _parse(path.read_bytes())
    assert [(c.comment_id, c.parent_id, c.depth) for c in thread.comments] == [
        (cid, None, 0) for cid in LUXURYHAVEN_IDS
    ]
    first = thread.comments[0]
    assert first.author == "Iwona"
    assert first.text == "Interesting place :)"
    assert first.date_text == "May 30, 2019 at 1:06 PM"
    assert first.posted_at == datetime(2019, 5, 30, 13, 6)
    assert first.anchor == "c7704569152969066600"
    assert first.url == (
        "https://www.luxuryhaven.co/2019/05/"
        "nam-nghi-phu-quoc-unbound-collection-by-hyatt-officially-opens.html"
        "?showComment=1559192764955#c7704569152969066600"
    )
    by_id = {c.comment_id: c for c in thread.comments}
    assert by_id["c9057049636402700514"].author == "Tanza Erlambang"
    assert by_id["c9057049636402700514"].text == "lovely hotel in lovely Vietnam....\nGreat review"
    assert by_id["c2461350786486794426"].author == "Królowa Karo"
    assert by_id["c107785299162190222"].author == "Amy Aed"
    assert by_id["c107785299162190222"].text.startswith("This looks lovely, I would definitely")
    for comment in thread.comments:
        assert "Reply" not in comment.text and "Delete" not in comment.text
        assert not comment.deleted
    assert thread.source_format == "blogger"
    assert thread.title == "Nam Nghi Phu Quoc, The Unbound Collection by Hyatt Officially Opens"
    assert thread.article.author == "Blackswan"
    assert thread.article.posted_at == datetime(2019, 5, 30)
    paragraphs = [p.text for p in thread.article.paragraphs]
    # The post body separates paragraphs with <br /><br />.
    assert paragraphs[2].startswith("Hyatt Hotels Corporation (NYSE: H) announced the opening")
    assert paragraphs[-1].startswith("Current hotel properties include Hotel SOFIA Barcelona")
    assert not any("Popular Posts" in p for p in paragraphs)


def test_threaded_replies_and_removed_comment() -> None:
    thread = _parse((HTML / "blogger_threaded.html").read_bytes())
    assert [(c.comment_id, c.parent_id, c.depth) for c in thread.comments] == [
        ("c1001", None, 0),
        ("c1002", "c1001", 1),
        ("c1003", None, 0),
    ]
    pete, marina, removed = thread.comments
    assert pete.author == "Pete"
    assert pete.text == "Lovely photos.\nWhich harbour?"
    assert "Replies" not in pete.text and "Delete" not in pete.text
    assert marina.author == "Marina"
    assert marina.text == "Whitby, on the east coast."
    assert removed.deleted is True
    assert removed.text == "This comment has been removed by the author."
    assert not pete.deleted and not marina.deleted
    assert thread.url == "https://tidenotes.example.com/2018/07/harbour-walk.html"
    assert thread.title == "Harbour Walk"
    assert thread.article.author == "Marina"
    assert [p.text for p in thread.article.paragraphs] == [
        "We walked the harbour at low tide.",
        "The gulls were loud.\nVery loud.",
    ]


CLASSIC = b"""<html><head><meta charset="utf-8"><title>Old post</title></head><body>
<div class="post"><h3 class="post-title">Old post</h3><div class="post-body">Text.</div></div>
<div id="comments"><h4>2 comments:</h4>
<dl id="comments-block">
<dt class="comment-author" id="c501"><a name="c501"></a>
<a href="https://www.blogger.com/profile/9" rel="nofollow">Ola</a> said...</dt>
<dd class="comment-body"><p>First!<br/>Nice.</p></dd>
<dd class="comment-footer"><span class="comment-timestamp">
<a href="https://old.example.com/p.html?showComment=1#c501" title="comment permalink">
March 3, 2009 at 4:05 PM</a></span></dd>
<dt class="comment-author"><a name="c502"></a>Anonymous said...</dt>
<dd class="comment-body"><p><span class="deleted-comment">
This post has been removed by a blog administrator.</span></p></dd>
<dd class="comment-footer"><span class="comment-timestamp">
<a href="#c502">March 4, 2009 at 9:00 AM</a></span></dd>
</dl></div></body></html>"""


def test_classic_comments_block() -> None:
    thread = _parse(CLASSIC)
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [
        ("c501", None),
        ("c502", None),
    ]
    ola, removed = thread.comments
    assert ola.author == "Ola"
    assert ola.text == "First!\nNice."
    assert ola.posted_at == datetime(2009, 3, 3, 16, 5)
    assert ola.url == "https://old.example.com/p.html?showComment=1#c501"
    assert removed.author == "Anonymous"
    assert removed.deleted is True


def test_empty_blogger_comments_section() -> None:
    data = (
        b"<html><body><div class='post-body entry-content'>Hi.</div>"
        b"<div class='comments' id='comments'><h4>No comments:</h4>"
        b"<div class='comments-content'><div id='comment-holder'></div></div></div>"
        b"</body></html>"
    )
    thread = _parse(data)
    assert thread.comments == ()
    assert thread.article.text == "Hi."


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"<html><body><p>Nothing.</p></body></html>", "no Blogger comments found"),
        (b"\n", "HTML page is empty"),
    ],
)
def test_not_a_blogger_page(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        _parse(data)


def test_wordpress_page_is_not_blogger() -> None:
    with pytest.raises(ParseError, match="no Blogger comments found"):
        _parse((HTML / "wordpress_classic.html").read_bytes())

"""Hacker News item pages: parents from indentation, deleted and flagged rows, detection."""

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ParseError
from app.threads import hackernews, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

ITEM = DATA / "threads_new" / "hackernews_item.html"

# (id, parent, depth, author, text start, deleted), read off the fixture's indent widths.
EXPECTED = [
    ("1001", None, 0, "alice", "First top-level comment.\n\nIt has a second", False),
    ("1002", "1001", 1, "bob", "Reply to alice, with a link.", False),
    ("1003", "1002", 2, "carol", "Deep reply to bob.", False),
    ("1004", "1001", 1, None, "[deleted]", True),
    ("1005", "1004", 2, "dave", "Reply under a deleted comment.", False),
    ("1006", None, 0, "erin", "[flagged]", True),
    ("1007", None, 0, "frank", "Second top-level comment.", False),
]


def _check(data: bytes) -> None:
    thread = hackernews.parse(data, ParseOptions())
    assert len(thread.comments) == len(EXPECTED)
    for comment, (cid, parent, depth, author, start, deleted) in zip(
        thread.comments, EXPECTED, strict=True
    ):
        assert (comment.comment_id, comment.parent_id, comment.depth) == (cid, parent, depth)
        assert comment.author == author
        assert comment.text.startswith(start), comment.text
        assert comment.deleted is deleted
        assert not comment.text.endswith("reply"), "the reply link is not text"


def test_item_page() -> None:
    data = ITEM.read_bytes()
    _check(data)
    thread = hackernews.parse(data, ParseOptions())
    first = thread.comments[0]
    assert first.posted_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert first.date_text == "3 hours ago"
    assert first.url == "https://news.ycombinator.com/item?id=1001"
    assert thread.source_format == "hackernews"
    assert thread.title == "Ask HN: How do you moderate small forums?"
    assert thread.article.author == "opposter"
    assert [p.text for p in thread.article.paragraphs] == [
        "I run a forum of a few hundred people.",
        "What tools do you use?",
    ]
    assert thread.warnings == ()


def test_older_markup_with_only_spacer_widths() -> None:
    # Pages saved before HN added indent="N" carry the depth only in the spacer's width.
    data = re.sub(rb' indent="\d+"', b"", ITEM.read_bytes())
    assert b"indent=" not in data
    _check(data)


def test_older_markup_without_commtext_or_age_titles() -> None:
    # Before about 2019 the text sat in a span with only its colour class, and the age
    # had no title.
    data = re.sub(rb'class="commtext (c[0-9a-f]{2})"', rb'class="\1"', ITEM.read_bytes())
    data = re.sub(rb'<span class="age" title="[^"]*">', b'<span class="age">', data)
    assert b"commtext" not in data
    _check(data)
    assert hackernews.parse(data, ParseOptions()).comments[0].posted_at is None


def test_real_page_of_2018() -> None:
    # tests/data/real/hn_item_en.html (see data/README.md): the old markup throughout.
    thread = hackernews.parse((DATA / "real" / "hn_item_en.html").read_bytes(), ParseOptions())
    assert len(thread.comments) == 115
    assert not any(c.deleted for c in thread.comments)
    assert all(c.text and not c.text.endswith("reply") for c in thread.comments)
    first = thread.comments[0]
    assert first.author == "peterburkimsher"
    assert first.text.startswith('"inhumane quasi-slavery visa situation')
    assert first.text.endswith("finding a country to call home.")
    assert first.date_text == "8 hours ago"


def test_detected_from_content() -> None:
    thread = parse(ITEM.read_bytes())
    assert thread.source_format == "hackernews"
    assert [c.parent_id for c in thread.comments] == [row[1] for row in EXPECTED]


def test_a_skipped_level_is_a_reply_to_the_comment_above_with_a_warning() -> None:
    data = ITEM.read_bytes().replace(
        b'indent="2"><img src="s.gif" height="1" width="80"', b'indent="3"', 1
    )
    thread = hackernews.parse(data, ParseOptions())
    assert thread.get("1003").parent_id == "1002"
    assert [w.comment_id for w in thread.warnings] == ["1003"]


def test_empty_comment_tree_is_refused() -> None:
    data = re.sub(
        rb'(<table border="0" class="comment-tree">).*?(</table><br><br></td>)',
        rb"\1\2",
        ITEM.read_bytes(),
        flags=re.DOTALL,
    )
    with pytest.raises(ParseError, match="comment tree is empty"):
        hackernews.parse(data, ParseOptions())


def test_row_without_id_is_refused() -> None:
    data = ITEM.read_bytes().replace(b'class="athing comtr" id="1003"', b'class="athing comtr"')
    with pytest.raises(ParseError, match=r"comment row on line \d+ has no id"):
        hackernews.parse(data, ParseOptions())


def test_row_without_indentation_is_refused() -> None:
    data = ITEM.read_bytes().replace(
        b'<td class="ind" indent="1"><img src="s.gif" height="1" width="40"></td>', b"", 1
    )
    with pytest.raises(ParseError, match="'1002'.*no td.ind"):
        hackernews.parse(data, ParseOptions())


def test_unreadable_indentation_is_refused() -> None:
    data = ITEM.read_bytes().replace(
        b'indent="1"><img src="s.gif" height="1" width="40">', b'><img src="s.gif">', 1
    )
    with pytest.raises(ParseError, match="neither an indent"):
        hackernews.parse(data, ParseOptions())


def test_page_without_comment_tree_is_refused() -> None:
    with pytest.raises(ParseError, match="no Hacker News comment tree"):
        hackernews.parse(b"<html><body><p>hello</p></body></html>", ParseOptions())


@st.composite
def _depths(draw: st.DrawFn) -> list[int]:
    steps = draw(st.lists(st.integers(min_value=-4, max_value=1), min_size=1, max_size=40))
    depths = [0]
    for step in steps:
        depths.append(max(0, depths[-1] + step))
    return depths


@given(_depths())
def test_parent_is_the_nearest_comment_one_level_up(depths: list[int]) -> None:
    rows = "".join(
        f'<tr class="athing comtr" id="{i}"><td class="ind" indent="{d}"></td><td>'
        f'<a class="hnuser">u{i}</a><div class="comment"><div class="commtext">t{i}</div>'
        "</div></td></tr>"
        for i, d in enumerate(depths)
    )
    page = f'<html><body><table class="comment-tree">{rows}</table></body></html>'
    thread = hackernews.parse(page.encode(), ParseOptions())
    by_id = {c.comment_id: c for c in thread.comments}
    for i, depth in enumerate(depths):
        above = [j for j in range(i) if depths[j] == depth - 1]
        expected = str(above[-1]) if depth and above else None
        comment = by_id[str(i)]
        assert comment.parent_id == expected
        assert comment.depth == depth
        assert comment.text == f"t{i}"
    assert thread.warnings == ()

"""phpBB and vBulletin topic pages: flat posts, replies from quotes, detection."""

from datetime import UTC, datetime

import pytest

from app.errors import ParseError
from app.threads import forum, parse
from app.threads.options import ParseOptions
from tests.conftest import DATA

PHPBB = DATA / "threads_new" / "phpbb_topic.html"
VBULLETIN = DATA / "threads_new" / "vbulletin_thread.html"
VBULLETIN3 = DATA / "threads_new" / "vbulletin3_thread.html"

# (id, parent, depth, author, text start), read off the fixtures' quotes: 502 quotes 501
# with a post link, 504 quotes "ohm wrote:" without one (ohm's latest post is 503), after
# an unnamed quote that names no one.
PHPBB_EXPECTED = [
    ("501", None, 0, "kettle", "My iron tip turns black after a week.\n\nWhat am I doing wrong?"),
    ("502", "501", 1, "flux_queen", "Always tin the tip before you switch it off."),
    ("503", None, 0, "ohm", "Which temperature do you use?"),
    ("504", "503", 1, "kettle", "About 400 degrees."),
]
VBULLETIN_EXPECTED = [
    ("7001", None, 0, "roadie", "Which winter tyres do you recommend for a small hatchback?"),
    ("7002", "7001", 1, "gripper", "Anything with the snowflake symbol will do."),
    ("7003", None, 0, "slush", "Chains are cheaper if you only need them twice a year."),
]

# 302 quotes 301 with a #post301 link; 304 quotes "Originally Posted by ivo" without one.
VBULLETIN3_EXPECTED = [
    ("301", None, 0, "hugo", "My aquarium water turns green within a week."),
    ("302", "301", 1, "marta", "Too much light. Cut it to eight hours."),
    ("303", None, 0, "ivo", "Snails help too."),
    ("304", "303", 1, "hugo", "Which kind?"),
]


def _rows(data: bytes) -> list[tuple[str, str | None, int, str | None, str]]:
    thread = forum.parse(data, ParseOptions())
    assert thread.source_format == "forum"
    return [(c.comment_id, c.parent_id, c.depth, c.author, c.text) for c in thread.comments]


def test_phpbb_topic() -> None:
    assert _rows(PHPBB.read_bytes()) == PHPBB_EXPECTED
    thread = forum.parse(PHPBB.read_bytes(), ParseOptions(url="https://forum.example.org/t"))
    first = thread.comments[0]
    assert first.posted_at == datetime(2024, 2, 10, 8, 15, tzinfo=UTC)
    assert first.date_text == "Sat Feb 10, 2024 8:15 am"
    assert first.url == "https://forum.example.org/viewtopic.php?p=501#p501"
    assert first.anchor == "p501"
    assert thread.title == "Soldering iron keeps oxidising"
    assert thread.warnings == ()


def test_phpbb_without_time_element_reads_the_author_line() -> None:
    data = PHPBB.read_bytes().replace(
        b'<time datetime="2024-02-10T08:15:00+00:00">Sat Feb 10, 2024 8:15 am</time>',
        b"Sat Feb 10, 2024 8:15 am",
    )
    first = forum.parse(data, ParseOptions()).comments[0]
    assert first.date_text == "Sat Feb 10, 2024 8:15 am"
    assert first.posted_at == datetime(2024, 2, 10, 8, 15)


def test_vbulletin_thread() -> None:
    assert _rows(VBULLETIN.read_bytes()) == VBULLETIN_EXPECTED
    thread = forum.parse(VBULLETIN.read_bytes(), ParseOptions())
    assert thread.comments[0].posted_at == datetime(2024, 1, 15, 9, 12)
    assert thread.comments[0].date_text == "01-15-2024, 09:12 AM"
    assert thread.title == "Best tyres for winter?"


def test_vbulletin3_thread() -> None:
    assert _rows(VBULLETIN3.read_bytes()) == VBULLETIN3_EXPECTED
    first = forum.parse(VBULLETIN3.read_bytes(), ParseOptions()).comments[0]
    assert first.date_text == "03-02-2008, 07:45 PM"
    assert first.posted_at == datetime(2008, 3, 2, 19, 45)
    assert first.anchor == "post301"


def test_a_table_named_post_without_a_message_is_not_a_post() -> None:
    page = b'<html><body><table id="post12"><tr><td>Hi</td></tr></table></body></html>'
    with pytest.raises(ParseError, match="no forum posts found"):
        forum.parse(page, ParseOptions())


@pytest.mark.parametrize("path", [PHPBB, VBULLETIN, VBULLETIN3])
def test_detected_from_content(path: object) -> None:
    thread = parse(path.read_bytes())  # type: ignore[attr-defined]
    assert thread.source_format == "forum"


def test_quote_of_a_post_not_on_the_page_is_an_orphan() -> None:
    data = PHPBB.read_bytes().replace(b'data-post-id="501"', b'data-post-id="400"')
    data = data.replace(b'viewtopic.php?p=501#p501" data', b'viewtopic.php?p=400#p400" data')
    thread = forum.parse(data, ParseOptions())
    assert thread.get("502").parent_id is None
    assert [(w.code, w.comment_id) for w in thread.warnings] == [("orphan", "502")]


def test_page_without_posts_is_refused() -> None:
    with pytest.raises(ParseError, match="no forum posts found"):
        forum.parse(b"<html><body><div class='post'>x</div></body></html>", ParseOptions())


def test_post_without_text_is_refused() -> None:
    data = PHPBB.read_bytes().replace(
        b'<div class="content">Which temperature do you use?</div>', b""
    )
    with pytest.raises(ParseError, match=r"phpbb post '503' \(line \d+\) has no text"):
        forum.parse(data, ParseOptions())


def test_post_without_author_has_none() -> None:
    data = VBULLETIN.read_bytes().replace(b'class="username offline popupctrl"', b"")
    thread = forum.parse(data, ParseOptions())
    assert [c.author for c in thread.comments] == [None, "gripper", None]
    # Without a name to match, the quote still names its post by link.
    assert thread.get("7002").parent_id == "7001"

from datetime import datetime

import pytest

from app.errors import ParseError
from app.threads import parse
from app.threads.options import ParseOptions
from app.threads.textdump import parse as parse_text
from app.threads.textdump import render

# Counted by reading ../shared/seeds/004_f987b5801adb0d07.txt by eye: numbering and
# indentation give each comment's path, e.g. "2.1.3" is the 3rd reply to the 1st reply
# of top-level comment 2.
SEED_EDGES = [
    ("1", None, "John Mason"),
    ("1.1", "1", "FilastinHuratan"),
    ("2", None, "Ricky Miller"),
    ("2.1", "2", "CHUCKMAN"),
    ("2.1.1", "2.1", "Ricky Miller"),
    ("2.1.2", "2.1", "Mary E"),
    ("2.1.3", "2.1", "DarkEyes"),
    ("2.2", "2", "JNDillard"),
    ("3", None, "thomas malthaus"),
    ("3.1", "3", "Mary E"),
    ("4", None, "Jozo Magoc"),
    ("5", None, "Mary E"),
    ("6", None, "JustPassingThrough"),
    ("7", None, "Terje M"),
]

# (first words, last words, number of paragraphs) of each comment, in order.
SEED_TEXTS = [
    ("Sometimes the Chinese", "their first targets.", 1),
    ("NK does not have", "knob notwithstanding.", 1),
    ("China and Russia should ignore", "voted on for cancellation.", 1),
    ("As easy and satisfying", "just have to live with.", 6),
    ("But they are not going", "economy hasn’t collapsed.", 1),
    ("Absolutely they do not HAVE TO", "better off we shall all be.", 1),
    ("UN Corp. have no integrity.", "But that is something different.", 5),
    ("Ricky, I have read", "your perceptive contributions.", 1),
    ("If Messrs. Putin and Kim", "for Washington’s comfort.", 3),
    ("I agree and with the rail", "would be a lovely sight!!", 1),
    ("Russia and China should back step", "Kol Nidre!!!", 1),
    ("Here is another example", "should not either!!", 1),
    ("Of course, that’s assuming", "behind closed doors.", 1),
    ("This was so obviously", "every 5 years?!", 2),
]


def test_seed_has_every_comment_with_its_exact_parent(seed_page: bytes) -> None:
    thread = parse(seed_page)
    assert thread.source_format == "text"
    got = [(c.comment_id, c.parent_id, c.author) for c in thread.comments]
    assert got == SEED_EDGES
    assert [c.depth for c in thread.comments] == [c[0].count(".") for c in SEED_EDGES]
    assert [c.position for c in thread.comments] == list(range(14))
    assert thread.warnings == ()
    # The seed page shows no comment dates; none may be invented.
    assert all(c.posted_at is None and c.date_text is None for c in thread.comments)


def test_seed_comment_texts_are_exact(seed_page: bytes) -> None:
    thread = parse(seed_page)
    for comment, (first, last, paragraphs) in zip(thread.comments, SEED_TEXTS, strict=True):
        assert comment.text.startswith(first), comment.comment_id
        assert comment.text.endswith(last), comment.comment_id
        assert len(comment.text.split("\n\n")) == paragraphs, comment.comment_id
        assert "Reply" not in comment.text.splitlines()
    # A hard-wrapped comment keeps its line breaks and loses only the indentation.
    assert thread.get("2.1.2").text == (
        "Absolutely they do not HAVE TO live with it! They should and could\n"
        "just go ahead with their Belt and Road right into North Korea and remove their "
        "sanctions against that beleagured country.\n"
        "The US is NOT the be all end all of the world and the sooner we all adjust our "
        "minds to that theory, the better off we shall all be."
    )
    assert thread.get("4").text == (
        "Russia and China should back step from the resolution against DPRK , as the "
        "ziomongrel Swamp Trump back pedalled from the JCPOA treaty with Iran! Kol Nidre!!!"
    )


def test_seed_article_is_everything_before_the_comments(seed_page: bytes) -> None:
    article = parse(seed_page).article
    assert article.title == (
        "China and Russia Try Lifting North Korea Sanctions They Helped Install, "
        "but It’s Already Too Late"
    )
    texts = [p.text for p in article.paragraphs]
    assert texts[0] == (
        "It was all too predictable the pair would come to regret facilitating the Empire"
    )
    assert texts[-1].startswith("A sudden concern for the humanitarian situation is nice")
    assert len(texts) == 23
    assert not any("says" in t.split()[-1:] for t in texts)


DUMP = """\
A small post

Its only paragraph.

3 Comments

  1. Ann says:
    March 3, 2014 at 5:22 pm
    First comment.
    Reply

    1. Bob said
      Second line of thought:

      2. This line only looks like a header, says the test
      Reply

  2. Cy wrote on 2019-12-17 10:00
    Top again.
"""


def test_dates_chrome_and_lookalike_headers() -> None:
    thread = parse_text(DUMP.encode(), ParseOptions())
    assert thread.article.title == "A small post"
    assert [p.text for p in thread.article.paragraphs] == ["Its only paragraph."]
    assert [(c.comment_id, c.parent_id) for c in thread.comments] == [
        ("1", None),
        ("1.1", "1"),
        ("2", None),
    ]
    ann, bob, cy = thread.comments
    assert ann.text == "First comment."
    assert ann.posted_at == datetime(2014, 3, 3, 17, 22)
    assert ann.date_text == "March 3, 2014 at 5:22 pm"
    # Bob has no replies, so a reply would be numbered 1: "2. …" is a line of his text.
    assert bob.text == (
        "Second line of thought:\n\n2. This line only looks like a header, says the test"
    )
    assert cy.posted_at == datetime(2019, 12, 17, 10, 0)
    assert cy.text == "Top again."


def test_numbering_tells_body_lines_from_headers() -> None:
    dump = "T\n\n  1. Ann says\n    Steps:\n    3. Nobody says this is a header\n"
    thread = parse_text(dump.encode(), ParseOptions())
    assert len(thread.comments) == 1
    assert thread.comments[0].text == "Steps:\n3. Nobody says this is a header"


@pytest.mark.parametrize(
    "text, match",
    [
        ("just some words\nwith no comments\n", "no numbered comment headers"),
        ("Title\n\n  2. Ann says\n    hi\n", "no numbered comment headers"),
    ],
)
def test_text_without_comments_is_refused(text: str, match: str) -> None:
    with pytest.raises(ParseError, match=match):
        parse_text(text.encode(), ParseOptions())


def test_render_reads_back(seed_page: bytes) -> None:
    thread = parse(seed_page)
    again = parse_text(render(thread).encode(), ParseOptions())
    assert [(c.comment_id, c.parent_id, c.author, c.text) for c in again.comments] == [
        (c.comment_id, c.parent_id, c.author, c.text) for c in thread.comments
    ]


def test_ten_thousand_levels_parse_without_recursion() -> None:
    lines = ["Deep", ""]
    for depth in range(10_000):
        pad = "  " * (depth + 1)
        lines += [f"{pad}1. user{depth} says", f"{pad}  level {depth}", ""]
    thread = parse_text("\n".join(lines).encode(), ParseOptions())
    assert len(thread.comments) == 10_000
    assert thread.comments[-1].depth == 9_999
    assert thread.comments[-1].text == "level 9999"

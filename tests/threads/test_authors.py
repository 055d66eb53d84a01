"""Author names as themes print them: the verb of saying and the date come out, the raw
text stays in `author_raw`."""

from datetime import datetime

import pytest

from app.domain import Comment, Thread
from app.threads import ParseOptions, parse, wordpress
from app.threads.authors import SAYING_VERBS, clean_author
from app.threads.textdump import render


def _page(items: str) -> bytes:
    return (
        "<html><body><article><h1 class='entry-title'>Post</h1>"
        "<div class='entry-content'><p>The post.</p></div></article>"
        f"<ol class='comment-list'>{items}</ol></body></html>"
    ).encode()


def _one(author_markup: str) -> Comment:
    item = (
        f"<li class='comment depth-1' id='comment-7'>{author_markup}"
        "<div class='comment-content'><p>Hello there.</p></div></li>"
    )
    thread = wordpress.parse(_page(item), ParseOptions(url="https://blog.example/post/"))
    (comment,) = thread.comments
    assert comment.text == "Hello there."
    return comment


@pytest.mark.parametrize(
    ("name", "verb"),
    [
        ("Anna", "sagt:"),  # German
        ("Chloé", "dit :"),  # French, with the space French puts before the colon
        ("Marco", "dice:"),  # Spanish and Italian
        ("Jan", "zegt:"),  # Dutch
        ("Ana", "disse:"),  # Portuguese
        ("Piotr", "pisze:"),  # Polish
        ("Bob", "says:"),  # English
        ("Hans", "schreibt:"),
        ("Luis", "escribió:"),
        ("Léa", "a écrit :"),
        ("Gianni", "ha scritto:"),
        ("Ed", "wrote"),
    ],
)
def test_verb_of_saying_in_the_author_text(name: str, verb: str) -> None:
    # No "says" span to leave out: the verb is plain text beside the name.
    comment = _one(f"<div class='comment-author vcard'>{name} {verb}</div>")
    assert (comment.author, comment.author_raw) == (name, f"{name} {verb}")


def test_classic_theme_reads_the_fn_element() -> None:
    comment = _one(
        "<div class='comment-author vcard'><img class='avatar' src='/a.png' alt=''>"
        "<cite class='fn'><a href='https://anna.example/' class='url'>Anna Berg</a></cite> "
        "<span class='says'>sagt:</span></div>"
        "<div class='comment-metadata'><a href='https://blog.example/post/#comment-7'>"
        "<time datetime='2024-03-03T10:15:00+00:00'>3. März 2024 um 10:15</time></a></div>"
    )
    assert (comment.author, comment.author_raw) == ("Anna Berg", "Anna Berg sagt:")
    assert comment.date_text == "3. März 2024 um 10:15"


def test_author_link_inside_comment_author() -> None:
    comment = _one(
        "<div class='comment-author'><a href='https://bob.example/'>Bob Stone</a> says:</div>"
    )
    assert comment.author == "Bob Stone"


def test_itemprop_name_inside_the_author() -> None:
    comment = _one(
        "<div class='comment-author' itemprop='author'>"
        "<span itemprop='name'>Marco Rossi</span> dice:</div>"
    )
    assert (comment.author, comment.author_raw) == ("Marco Rossi", "Marco Rossi dice:")


def test_date_inside_the_same_strong_as_the_author() -> None:
    comment = _one(
        "<div class='comment-author'><strong>Anna "
        "<a href='https://blog.example/post/#comment-7'>March 3, 2024 at 10:15 am</a>"
        "</strong></div>"
    )
    assert comment.author == "Anna"
    assert comment.author_raw == "Anna March 3, 2024 at 10:15 am"
    # The permalink inside the author element still gives the comment its date and URL.
    assert comment.posted_at == datetime(2024, 3, 3, 10, 15)
    assert comment.url == "https://blog.example/post/#comment-7"


def test_time_element_beside_the_name() -> None:
    comment = _one(
        "<div class='comment-author'><strong>Jan</strong> "
        "<time datetime='2024-03-03T09:00:00'>3 maart 2024</time> zegt:</div>"
    )
    assert comment.author == "Jan"
    assert comment.posted_at == datetime(2024, 3, 3, 9, 0)


def test_badge_after_a_line_break_in_the_name() -> None:
    comment = _one(
        "<div class='comment-author'><cite class='fn'>Martina Berg<br>"
        "<span class='p3_comment_author'>Autor</span></cite></div>"
    )
    assert (comment.author, comment.author_raw) == ("Martina Berg", "Martina BergAutor")


def test_name_in_strong_with_a_day_first_date_beside_it() -> None:
    comment = _one(
        "<div class='comment-author meta'><strong>Ben</strong> 19. Juni 2018 um 15:28 Uhr "
        "<a class='comment-reply-link' href='?replytocom=7#respond'>Antworten</a></div>"
    )
    assert comment.author == "Ben"
    assert clean_author("Jan 3 maart 2024") == ("Jan", "Jan 3 maart 2024")
    assert clean_author("Swen denkt")[0] == "Swen denkt"


def test_author_inside_the_content_element() -> None:
    item = (
        "<li class='comment depth-1' id='comment-7'><div class='comment-content'>"
        "<ul class='comment-meta'><li class='comment-author'>Dietmar H.</li>"
        "<li class='comment-time'><a href='https://blog.example/post/#comment-7'>"
        "April 8, 2019 at 11:38 am</a></li></ul><p>Hello there.</p></div></li>"
    )
    (found,) = wordpress.parse(_page(item), ParseOptions()).comments
    assert (found.author, found.text) == ("Dietmar H.", "Hello there.")
    assert found.posted_at == datetime(2019, 4, 8, 11, 38)


def test_russian_verb() -> None:
    assert clean_author("Andrew пишет: Март 2018") == ("Andrew", "Andrew пишет: Март 2018")


def test_date_as_plain_text_after_the_name() -> None:
    comment = _one("<div class='comment-author'><strong>Anna on March 3, 2024</strong></div>")
    assert (comment.author, comment.author_raw) == ("Anna", "Anna on March 3, 2024")


@pytest.mark.parametrize("name", ["Says Ali", "Dice Master", "Master Dice", "Ali Says"])
def test_names_holding_a_verb_like_word_survive(name: str) -> None:
    # The verb follows the name, lowercase or with a colon; a capitalised word that ends
    # a name without a colon is part of the name.
    comment = _one(f"<div class='comment-author'><a href='https://x.example/'>{name}</a></div>")
    assert (comment.author, comment.author_raw) == (name, None)
    assert clean_author(name) == (name, None)


def test_a_name_with_a_verb_after_it_keeps_its_own_words() -> None:
    assert clean_author("Dice Master dice:") == ("Dice Master", "Dice Master dice:")
    assert clean_author("Says Ali says:") == ("Says Ali", "Says Ali says:")


def test_verb_with_a_date_after_it() -> None:
    assert clean_author("Bob Says: March 3, 2024 at 10:00 am") == (
        "Bob",
        "Bob Says: March 3, 2024 at 10:00 am",
    )
    # Words after the colon that are not a date are not the theme's.
    assert clean_author("Bob says: hi")[0] == "Bob says: hi"


def test_text_that_is_only_a_verb_is_kept() -> None:
    assert clean_author("sagt:")[0] == "sagt"
    assert clean_author("  ") == (None, None)
    assert clean_author(None) == (None, None)


def test_the_verb_list_covers_the_documented_languages() -> None:
    for verb in ("says", "sagt", "dit", "dice", "zegt", "disse", "pisze", "wrote", "schreibt"):
        assert verb in SAYING_VERBS
    assert len(set(SAYING_VERBS)) == len(SAYING_VERBS)


def test_blogger_classic_author_is_cleaned() -> None:
    page = (
        "<html><body><div class='post'><h3 class='post-title'>P</h3>"
        "<div class='post-body'><p>Body.</p></div></div>"
        "<div id='comments'><dl id='comments-block'>"
        "<dt class='comment-author' id='c1'><a href='https://x.example/'>Ana</a> disse...</dt>"
        "<dd class='comment-body'><p>Olá!</p></dd>"
        "</dl></div></body></html>"
    ).encode()
    thread = parse(page, format="blogger")
    assert [(c.author, c.author_raw) for c in thread.comments] == [("Ana", "Ana disse...")]


def test_json_form_round_trips_author_raw() -> None:
    comment = _one("<div class='comment-author'>Piotr pisze:</div>")
    thread = Thread(comments=(comment,))
    data = thread.to_dict()
    assert data["comments"][0]["author_raw"] == "Piotr pisze:"
    assert Thread.from_dict(data) == thread
    # Documents written before the field existed still load.
    del data["comments"][0]["author_raw"]
    del data["comments"][0]["kind"]
    old = Thread.from_dict(data).comments[0]
    assert (old.author, old.author_raw, old.kind) == ("Piotr", None, "comment")


def test_text_dump_headers_keep_working() -> None:
    thread = parse(b"Title\n\n1. Anna says:\nHallo.\n\n  1. Bob says\n  Hi.\n", format="text")
    assert [(c.author, c.parent_id is None) for c in thread.comments] == [
        ("Anna", True),
        ("Bob", False),
    ]
    again = parse(render(thread).encode(), format="text")
    assert [c.author for c in again.comments] == ["Anna", "Bob"]

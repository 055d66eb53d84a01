"""Article provenance: which page paragraphs are the page's own, quoted or edited quotes."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.domain import Article, Paragraph, WordEdit
from app.errors import InputTooLarge, ParseError
from app.threads.provenance import (
    apply_provenance,
    find_insertions,
    match_paragraphs,
    read_original,
)
from tests.conftest import DATA

FIXTURES = DATA / "provenance"


def _article(paragraphs: list[str], title: str = "A page") -> Article:
    return Article(title=title, paragraphs=tuple(Paragraph(text) for text in paragraphs))


def _blocks(text: str) -> list[str]:
    return [block.strip() for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def _seed_page(data: bytes) -> Article:
    """The seed blog page's article, built here (not by the text-dump parser)."""
    text = data.decode("utf-8")
    head = text[: text.index("\n  1. John Mason says")]
    title, *paragraphs = _blocks(head)
    return _article(paragraphs, title=title)


# --------------------------------------------------------------------------- seed pair

DESPITE = "[Despite\u2019 Pyongyang\u2019s willingness to make concessions.]"

# Every page paragraph: (its first words, provenance, original paragraph index). Counted by
# eye from the two files: the page's blank-line blocks after the title, and the 000 file's
# blocks (see test_seed_original_paragraphs for the indices).
SEED_EXPECTED = [
    ("It was all too predictable", "own", None),
    ("Trump who was too much", "own", None),
    ("Of course, the effort", "own", None),
    ("I said at the time that Moscow", "own", None),
    ("I said at the time it made", "own", None),
    ("China and Russia on Monday proposed", "edited", 4),
    ("The draft also called", "quoted", 5),
    ("It was not immediately clear", "quoted", 6),
    ("\u201cWe\u2019re not rushing things", "quoted", 7),
    ("A U.S. State Department official", "quoted", 8),
    ("The sanctions on industries", "quoted", 9),
    ("The United States, Britain and France", "quoted", 10),
    ("\u201cOn North Korea, as in the past", "quoted", 11),
    ("Concerns were growing internationally", "edited", 13),
    ("North Korean leader Kim Jong Un", "quoted", 14),
    ("The State Department official said Trump", "quoted", 16),
    ("Nebenzia said the draft resolution", "quoted", 17),
    ("The draft welcomes", "quoted", 18),
    ("It also calls the so-called six-party talks", "quoted", 19),
    ("Russia and China have long said", "quoted", 21),
    ("At a council meeting on North Korea", "quoted", 23),
    ("The draft resolution circulated", "quoted", 24),
    ("A sudden concern for the humanitarian", "own", None),
]


def test_seed_original_paragraphs(seed_original: bytes) -> None:
    paragraphs = read_original(seed_original)
    assert len(paragraphs) == 31
    assert paragraphs[:3] == [
        "China And Russia Propose Lifting Some UN Sanctions on N. Korea",
        "By Reuters",
        "December 17, 2019",
    ]
    assert paragraphs[3].endswith("on North Korea. Yuri Smityuk / TASS")
    assert paragraphs[12] == (
        "Related article: Russian, North Korean State Media Team Up to Fight 'Fake News'"
    )
    assert paragraphs[15] == "Hundreds of millions of dollars"
    assert paragraphs[20] == 'through dialogue."'
    assert "some $295 million" in paragraphs[26]
    assert paragraphs[30].startswith("https://www.themoscowtimes.com/2019/12/17/")
    for index in (4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 16, 17, 18, 19, 21, 23, 24):
        page_start = next(s for s, _, i in SEED_EXPECTED if i == index)
        assert (
            paragraphs[index].replace('"', "\u201c").replace("'", "\u2019")[:12]
            == (page_start[:12])
        ), index


def test_seed_every_paragraph(seed_page: bytes, seed_original: bytes) -> None:
    article = apply_provenance(_seed_page(seed_page), read_original(seed_original))
    assert article.provenance_basis == "original"
    assert article.title is not None and article.title.startswith("China and Russia Try")
    assert len(article.paragraphs) == len(SEED_EXPECTED)
    for paragraph, (start, provenance, source) in zip(
        article.paragraphs, SEED_EXPECTED, strict=True
    ):
        assert paragraph.text.startswith(start)
        assert (paragraph.provenance, paragraph.source_index) == (provenance, source), start
        if provenance != "edited":
            assert paragraph.edits == () and paragraph.insertions == (), start

    proposed = article.paragraphs[5]
    assert proposed.edits == (WordEdit("replace", 15, "Korean", "Korea"),)
    assert proposed.text.split()[15] == "Korea"
    assert proposed.insertions == ()

    concerns = article.paragraphs[13]
    assert concerns.edits == (WordEdit("insert", 28, "", DESPITE),)
    assert concerns.text.split()[28] == "[Despite\u2019"
    assert concerns.insertions == (DESPITE,)


def test_seed_original_paragraphs_not_quoted(seed_page: bytes, seed_original: bytes) -> None:
    original = read_original(seed_original)
    page = [p.text for p in _seed_page(seed_page).paragraphs]
    covered: set[int] = set()
    for match in match_paragraphs(page, original):
        if match.source_start is not None and match.source_stop is not None:
            covered.update(range(match.source_start, match.source_stop))
    not_quoted = [original[i] for i in range(len(original)) if i not in covered]
    # Title, byline, date, photo caption, the two "Related article" links, the sub-heading,
    # the last four paragraphs and the source link. "through dialogue." (20) is quoted:
    # the page joined it to the paragraph before, as its last words.
    assert [text[:30] for text in not_quoted] == [
        "China And Russia Propose Lifti",
        "By Reuters",
        "December 17, 2019",
        "A U.S. State Department offici",
        "Related article: Russian, Nort",
        "Hundreds of millions of dollar",
        "Related article: Russia Seizes",
        "Pyongyang was famous for build",
        "It also made millions of dolla",
        "Textiles were North Korea's se",
        "The wages of workers sent abro",
        "Original url:",
        "https://www.themoscowtimes.com",
    ]
    article = apply_provenance(_seed_page(seed_page), original)
    sources = {p.source_index for p in article.paragraphs if p.source_index is not None}
    assert sorted(set(range(len(original))) - sources) == sorted(
        {0, 1, 2, 3, 12, 15, 20, 22, 25, 26, 27, 28, 29, 30}
    )


def test_seed_without_original_finds_the_insertion(seed_page: bytes) -> None:
    article = apply_provenance(_seed_page(seed_page), None)
    assert article.provenance_basis == "markup"
    marked = [(i, p.provenance, p.insertions) for i, p in enumerate(article.paragraphs)]
    assert [m for m in marked if m[1] != "own"] == [(13, "edited", (DESPITE,))]
    assert article.paragraphs[13].edits == ()


# --------------------------------------------------------------------------- hand-made pair

PAGE_TEXT = (FIXTURES / "page.txt").read_text(encoding="utf-8")
MD_PARAGRAPHS = [
    "Council Approves Riverside Bike Lane",
    "By Jane Doe",
    "March 3, 2024",
    "The city council voted 7-2 on Tuesday to build a protected bike lane along Riverside "
    "Avenue, ending a debate that has run for three years.",
    "Supporters said the lane would cut collisions on one of the city's busiest streets. "
    '"This is about keeping people alive," said council member Ana Ruiz.',
    "What happens next",
    "Construction is expected to begin in June and cost about $4 million, paid for by a "
    "state grant.",
    "Opponents, mostly shop owners, warned that removing 40 parking spaces would hurt business.",
]
OPPONENTS = (
    "Opponents, mostly shop owners, warned that removing 40 parking\nspaces would hurt business."
)


def test_read_markdown_original() -> None:
    assert read_original((FIXTURES / "original.md").read_bytes()) == MD_PARAGRAPHS


def test_read_html_original_takes_the_article_body() -> None:
    paragraphs = read_original((FIXTURES / "original.html").read_bytes())
    curly = [MD_PARAGRAPHS[4].replace("city's", "city\u2019s").replace('"This', "\u201cThis")]
    curly = [curly[0].replace('alive,"', "alive,\u201d")]
    # Not the nav list, the aside, the script, the comments or the footer; the byline sits
    # outside itemprop=articleBody.
    assert paragraphs == [MD_PARAGRAPHS[3], *curly, MD_PARAGRAPHS[6], MD_PARAGRAPHS[7]]


@pytest.mark.parametrize(
    ("name", "sources"),
    [
        ("original.md", [None, 3, 4, 6, 7, None, None]),
        ("original.html", [None, 0, 1, 2, 3, None, None]),
    ],
)
def test_hand_made_page_against_original(name: str, sources: list[int | None]) -> None:
    original = read_original((FIXTURES / name).read_bytes())
    article = apply_provenance(_article(_blocks(PAGE_TEXT)), original)
    assert article.provenance_basis == "original"
    got = [(p.provenance, p.source_index) for p in article.paragraphs]
    kinds = ["own", "quoted", "edited", "edited", "quoted", "own", "own"]
    assert got == list(zip(kinds, sources, strict=True))
    ruiz, july = article.paragraphs[2], article.paragraphs[3]
    assert ruiz.edits == (WordEdit("replace", 24, "Ruiz.", "Ruiz [a cyclist herself]."),)
    assert ruiz.insertions == ("[a cyclist herself]",)
    assert july.edits == (WordEdit("replace", 6, "June", "July"),)
    assert july.insertions == ()
    assert article.paragraphs[4].text == OPPONENTS
    # The footnote mark is no editorial insertion.
    assert article.paragraphs[5].insertions == ()


def test_hand_made_page_without_original() -> None:
    article = apply_provenance(_article(_blocks(PAGE_TEXT)), None)
    assert article.provenance_basis == "markup"
    got = [(p.provenance, p.insertions) for p in article.paragraphs]
    assert got == [
        ("own", ()),
        ("own", ()),
        ("edited", ("[a cyclist herself]",)),
        ("own", ()),
        ("quoted", ()),
        ("own", ()),
        ("own", ()),
    ]
    assert article.paragraphs[4].text == OPPONENTS
    assert all(p.source_index is None and p.edits == () for p in article.paragraphs)


# --------------------------------------------------------------------------- matching

ORIGINAL = [
    "Concerns were growing internationally that North Korea could resume nuclear or "
    "long-range missile testing \u2013 suspended since 2017 \u2013 because talks between "
    "Pyongyang and Washington have stalled. The talks began in 2018 in Singapore.",
    "Kim Jong Un has given Trump until the end of 2019 to show flexibility.",
]


@pytest.mark.parametrize(
    "page",
    [
        # Straight quotes, spaced hyphen for the en dash, doubled spaces, no-break space.
        "concerns were growing internationally that North  Korea could resume nuclear or "
        "long range missile testing - suspended since 2017 - because talks between "
        "Pyongyang and Washington have stalled. The talks began in 2018 in\u00a0Singapore.",
        # Unspaced em dashes, different case.
        "CONCERNS were growing internationally that North Korea could resume nuclear or "
        "long\u2011range missile testing\u2014suspended since 2017\u2014because talks between "
        "Pyongyang and Washington have stalled. The talks began in 2018 in Singapore.",
    ],
)
def test_typography_is_not_an_edit(page: str) -> None:
    (match,) = match_paragraphs([page], ORIGINAL)
    assert (match.provenance, match.source_start, match.edits) == ("quoted", 0, ())


def test_quotes_and_apostrophes_are_not_edits() -> None:
    original = ['"We\'re not rushing things," he said, adding that it\'s "humanitarian."']
    page = (
        "\u201cWe\u2019re not rushing things,\u201d he said, "
        "adding that it\u2019s \u201chumanitarian.\u201d"
    )
    assert match_paragraphs([page], original)[0].provenance == "quoted"


def test_excerpt_of_a_paragraph_is_quoted() -> None:
    page = ["Pyongyang and Washington have stalled. The talks began in 2018 in Singapore."]
    (match,) = match_paragraphs(page, ORIGINAL)
    assert (match.provenance, match.source_start, match.source_stop) == ("quoted", 0, 1)


def test_paragraph_split_in_two_on_the_page() -> None:
    first, second = ORIGINAL[0].split(" The talks began")
    matches = match_paragraphs([first, "The talks began" + second], ORIGINAL)
    assert [(m.provenance, m.source_start) for m in matches] == [("quoted", 0), ("quoted", 0)]


def test_two_paragraphs_joined_on_the_page() -> None:
    (match,) = match_paragraphs([" ".join(ORIGINAL)], ORIGINAL)
    assert (match.provenance, match.source_start, match.source_stop) == ("quoted", 0, 2)


def test_own_lead_in_before_an_excerpt() -> None:
    page = "As Reuters put it, Kim Jong Un has given Trump until the end of 2019."
    (match,) = match_paragraphs([page], ORIGINAL)
    assert match.provenance == "edited"
    assert match.edits == (
        WordEdit("insert", 0, "", "As Reuters put it,"),
        WordEdit("replace", 14, "2019", "2019."),
    )


def test_changed_first_and_last_words_are_replacements() -> None:
    page = "Kim Jong Un had given Trump until the end of 2019 to show weakness."
    (match,) = match_paragraphs(["Mr " + page], ORIGINAL)
    assert match.provenance == "edited"
    assert match.edits == (
        WordEdit("insert", 0, "", "Mr"),
        WordEdit("replace", 4, "has", "had"),
        WordEdit("replace", 14, "flexibility.", "weakness."),
    )


def test_deleted_and_hyphenated_words() -> None:
    original = [
        "The draft would exempt inter-Korean rail and road cooperation projects "
        "from U.N. sanctions."
    ]
    page = "The draft would exempt inter rail and road cooperation projects from sanctions."
    (match,) = match_paragraphs([page], original)
    assert match.edits == (
        WordEdit("replace", 4, "inter-Korean", "inter"),
        WordEdit("delete", 11, "U.N.", ""),
    )


@pytest.mark.parametrize(
    "page",
    [
        "North Korea.",  # a few words that occur in the original are not a quote
        "Of course the talks between Pyongyang and Washington have stalled, what did "
        "anyone expect from a president who cannot read a briefing, let alone a treaty?",
        "",
    ],
)
def test_own_paragraphs(page: str) -> None:
    (match,) = match_paragraphs([page], ORIGINAL)
    assert (match.provenance, match.source_start, match.edits) == ("own", None, ())


def test_original_mode_strips_text_quote_markers() -> None:
    article = _article(["> Kim Jong Un has given Trump until the end of 2019 to show flexibility."])
    paragraph = apply_provenance(article, ORIGINAL).paragraphs[0]
    assert (paragraph.provenance, paragraph.source_index) == ("quoted", 1)
    assert paragraph.text.startswith("Kim Jong Un")


def test_empty_original_marks_everything_own() -> None:
    article = apply_provenance(_article(["Anything at all, really."]), [])
    assert article.provenance_basis == "original"
    assert article.paragraphs[0].provenance == "own"


def test_many_paragraphs_are_fast_enough() -> None:
    words = [f"w{i}" for i in range(3000)] + ["the", "of", "and", "a", "to", "in"] * 300
    rng = __import__("random").Random(7)
    original = [" ".join(rng.choices(words, k=rng.randint(20, 120))) for _ in range(500)]
    page: list[str] = []
    for i, text in enumerate(original):
        tokens = text.split()
        if i % 4 == 0:
            page.append(text)
        elif i % 4 == 1:
            tokens[len(tokens) // 2] = "CHANGED"
            page.append(" ".join(tokens))
        elif i % 4 == 2:
            page.append(" ".join(rng.choices(words, k=60)))
        else:
            page.append(" ".join(tokens[5:15]))
    started = time.perf_counter()
    matches = match_paragraphs(page, original)
    elapsed = time.perf_counter() - started
    kinds = ["quoted", "edited", "own", "quoted"]
    assert [m.provenance for m in matches] == [kinds[i % 4] for i in range(500)]
    assert all(m.source_start == i for i, m in enumerate(matches) if i % 4 != 2)
    # Not a timing assertion; a hint in the failure output if this ever becomes slow.
    print(f"500 x 500 paragraphs matched in {elapsed:.2f}s")


# --------------------------------------------------------------------------- properties

WORDS = st.sampled_from(
    "the council voted on tuesday to build a lane along avenue ending debate years "
    "supporters said would cut collisions one city's busiest streets mayor budget".split()
)
# Distinct words: with repeats ("the the the") where a change sits is ambiguous.
PARAGRAPH = st.lists(WORDS, min_size=8, max_size=20, unique=True).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(paragraphs=st.lists(PARAGRAPH, min_size=1, max_size=6, unique=True))
def test_property_typography_variants_are_quoted(paragraphs: list[str]) -> None:
    page = [
        p.replace("'", "\u2019").replace(" ", "  ").upper() if i % 2 else p
        for i, p in enumerate(paragraphs)
    ]
    matches = match_paragraphs(page, paragraphs)
    assert [(m.provenance, m.source_start) for m in matches] == [
        ("quoted", i) for i in range(len(paragraphs))
    ]


@settings(max_examples=80, deadline=None)
@given(paragraph=PARAGRAPH, data=st.data())
def test_property_one_replaced_word(paragraph: str, data: st.DataObject) -> None:
    words = paragraph.split()
    at = data.draw(st.integers(0, len(words) - 1))
    page = [*words[:at], "ZEBRA", *words[at + 1 :]]
    (match,) = match_paragraphs([" ".join(page)], [paragraph])
    assert match.provenance == "edited"
    assert match.edits == (WordEdit("replace", at, words[at], "ZEBRA"),)


@settings(max_examples=80, deadline=None)
@given(paragraph=PARAGRAPH, data=st.data())
def test_property_bracketed_insertion(paragraph: str, data: st.DataObject) -> None:
    words = paragraph.split()
    at = data.draw(st.integers(1, len(words) - 1))
    remark = "[no zebras here]"  # words outside WORDS: where it sits is unambiguous
    page = " ".join([*words[:at], remark, *words[at:]])
    assume(len(words) >= 8)
    (match,) = match_paragraphs([page], [paragraph])
    assert match.provenance == "edited"
    assert match.insertions == (remark,)
    assert match.edits == (WordEdit("insert", at, "", remark),)


# --------------------------------------------------------------------------- markup only


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("He said it was [sic] fine.", ("[sic]",)),
        ("He said it was [sic.] fine.", ("[sic.]",)),
        ("It was good [emphasis added].", ("[emphasis added]",)),
        ("It was good [ed.] and bad.", ("[ed.]",)),
        ("The first part [\u2026] the last part.", ("[\u2026]",)),
        ("The first part [...] the last part.", ("[...]",)),
        ("They [the council] voted.", ("[the council]",)),
        ("As shown before [1], and again [12, 14].", ()),
        ("See [a] and [x] and [ ].", ()),
        ("Read [the full story](https://example.org/story) here.", ()),
        ("Read [the full story][ref] here.", ()),
        ("An image ![a cat sleeping](cat.png) here.", ()),
        ("A lone [word] in brackets.", ()),
        ("A link [https://example.org/x] here.", ()),
        ("No brackets at all.", ()),
    ],
)
def test_find_insertions(text: str, found: tuple[str, ...]) -> None:
    assert find_insertions(text) == found


def test_markup_text_block_quote() -> None:
    article = _article(
        [
            "> Quoted line one\n>  quoted line two\n>> nested line three",
            "> Quoted\nbut this line is not",
            "Ends with a > sign",
        ]
    )
    marked = apply_provenance(article, None)
    assert marked.provenance_basis == "markup"
    assert [(p.provenance, p.text) for p in marked.paragraphs] == [
        ("quoted", "Quoted line one\nquoted line two\nnested line three"),
        ("own", "> Quoted\nbut this line is not"),
        ("own", "Ends with a > sign"),
    ]


def test_markup_keeps_what_the_parser_marked() -> None:
    article = Article(
        paragraphs=(
            Paragraph("From the report, verbatim.", provenance="quoted"),
            Paragraph("From the report [sic], verbatim.", provenance="quoted"),
            Paragraph("Own words [1].", provenance="own"),
        ),
        provenance_basis="markup",
    )
    marked = apply_provenance(article, None)
    assert marked.provenance_basis == "markup"
    assert [(p.provenance, p.insertions) for p in marked.paragraphs] == [
        ("quoted", ()),
        ("edited", ("[sic]",)),
        ("own", ()),
    ]


def test_markup_nothing_found_keeps_the_article() -> None:
    article = _article(["Plain words.", "More plain words [2]."])
    assert apply_provenance(article, None) is article
    assert article.provenance_basis == "none"


def test_markup_is_idempotent() -> None:
    once = apply_provenance(_article(["They [the council] voted.", "> a quote"]), None)
    assert apply_provenance(once, None) is once


# --------------------------------------------------------------------------- read_original


def test_read_plain_text_and_str_input() -> None:
    text = "First paragraph,\nwrapped.\n\n\n  Second one.  \n\n- a bullet item\n"
    assert read_original(text) == ["First paragraph, wrapped.", "Second one.", "a bullet item"]
    assert read_original(text.encode("utf-16")) == read_original(text)


def test_read_markdown_inline_forms() -> None:
    text = (
        "Setext title\n============\n\n"
        "Some *emphasis*, __strong__, `code`, snake_case_name and 2 * 3 * 4.\n\n"
        "[![badge](b.svg)](https://example.org)\n\n"
        "---\n\n"
        "[ref]: https://example.org/ref\n\n"
        "#hashtag stays, <https://example.org/auto> too &amp; this."
    )
    assert read_original(text) == [
        "Setext title",
        "Some emphasis, strong, code, snake_case_name and 2 * 3 * 4.",
        "#hashtag stays, https://example.org/auto too & this.",
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<html><body><div class='sidebar'><p>Ad</p></div>"
            "<div class='post entry-content'><p>One</p><p>Two <i>and</i> a half</p></div>"
            "</body></html>",
            ["One", "Two and a half"],
        ),
        (
            # Two <article>s: the one with the most paragraph text is the story.
            "<html><body><article><p>Short teaser.</p></article>"
            "<article><p>The real story, which is longer.</p><p>More of it.</p></article>"
            "</body></html>",
            ["The real story, which is longer.", "More of it."],
        ),
        (
            "<div><p>Lead<br>on two lines</p><blockquote>Quoted <p>inner</p> tail</blockquote>"
            "<ul><li>outer<ul><li>inner item</li></ul></li></ul></div>",
            ["Lead on two lines", "Quoted tail", "inner", "outer", "inner item"],
        ),
        (
            "<html><body><div class='commentary'><p>Kept: not a comment section.</p></div>"
            "<div class='comments-area'><p>Dropped.</p></div></body></html>",
            ["Kept: not a comment section."],
        ),
        ("<html><body><div>No paragraph markup\n<b>at all</b></div></body></html>", None),
    ],
)
def test_read_html_variants(html: str, expected: list[str] | None) -> None:
    got = read_original(html)
    if expected is None:
        assert got == ["No paragraph markup", "at all"]
    else:
        assert got == expected


def test_read_deeply_nested_html_does_not_recurse() -> None:
    depth = 10_000
    html = "<html><body>" + "<div>" * depth + "<p>Deep text here.</p>" + "</div>" * depth
    try:
        paragraphs = read_original(html)
    except ParseError as exc:  # libxml2 may give up on the depth; it must say so cleanly
        assert "no paragraphs" in str(exc)
    else:
        assert paragraphs == ["Deep text here."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "original article is empty"),
        (" \n\t\n", "original article is empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        ("<html><body><script>x()</script></body></html>", "no paragraphs"),
        ("<html><body><nav><p>Menu</p></nav></body></html>", "no paragraphs"),
    ],
)
def test_read_original_errors(data: bytes | str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_original(data)


def test_read_original_too_large() -> None:
    with pytest.raises(InputTooLarge, match="over the limit of 10 bytes"):
        read_original(b"x" * 11, max_bytes=10)


def test_block_quote_of_another_source_stays_quoted_with_an_original() -> None:
    article = Article(
        title="t",
        paragraphs=(
            Paragraph("A tweet that the blogger embedded, quoted from somewhere else.", "quoted"),
            Paragraph("The original article says this much and no more today."),
        ),
    )
    marked = apply_provenance(article, ["The original article says this much and no more today."])
    assert [p.provenance for p in marked.paragraphs] == ["quoted", "quoted"]
    assert [p.source_index for p in marked.paragraphs] == [None, 0]

"""Tests for app.textnorm: each step alone, the whole pipeline on ordinary text, the offset
map's invariants (hypothesis), hostile input sizes, argument errors, and the steps that
shipped bundles use giving the output they were fitted with."""

from __future__ import annotations

import hashlib
import pickle
import random
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.textnorm import (
    CODED_LEXICON,
    CODED_MARKER,
    DEFAULT_STEPS,
    ECHO_MARKER,
    MASK_LEXICON,
    STEPS,
    Normalised,
    normalise,
    normalise_text,
)

ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
MARKS = "\u0301\u0316\u0327\u0308\u0303\u20dd\ufe0f\u05b8\u0651\u093f"
# Characters no normalised character maps to: zero-width ones, bidi controls, marks with no
# base, and the separators between spaced-out letters (a no-break space is one after NFKC).
DROPPABLE = set(ZERO_WIDTH) | set(BIDI_CONTROLS) | set(" .-_*\u00a0") | set(MARKS)
# The steps before "bidi" and "fold_accents": what the shipped bundle was fitted with.
LEGACY_STEPS = (
    "nfkc",
    "zero_width",
    "confusables",
    "spacing",
    "masked",
    "leet",
    "repeats",
    "coded",
)

PROSE = (
    "The city council voted 7-2 on Tuesday to approve a $3.5 million budget for 2024/25, "
    "up 12% from last year. Critics, including Rep. Jane O\u2019Neil (D-N.Y.), said the plan "
    "\u201cwould cut services\u201d \u2014 details at "
    "https://example.com/news/2024/budget?id=42&ref=rss or by e-mail to press@example.org. "
    "Open 24/7 since 1948; see pp. 3-5 of the report.\n"
    "As a Jew, I think the debate about Zionism matters, and we loved Zion National Park! "
    "\U0001f44d \U0001f389 \U0001f468\u200d\U0001f469\u200d\U0001f467 \u2764\ufe0f\n"
    "World War II ended in 1945; Henry VIII had six wives. The AAA report (U.S.A.) said so... "
    "Is it 4chan or mp3 files? We met at 10am on the 1st, e.g. at Caf\u00e9 M\u00fcller, "
    "na\u00efve but fine. Zionists and anti-Zionists argued; the H1B visa, F-35 jets, "
    "COVID-19 and the 1980s. \u041f\u0440\u0438\u0432\u0435\u0442, "
    "\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1!"
)


def folded(text: str) -> str:
    """`text` with the accented Latin letters of PROSE and ORDINARY_WORDS folded."""
    return text.translate(str.maketrans("\u00e9\u00fc\u00ef", "eui"))


def only(step: str, text: str) -> str:
    """`text` normalised by one step."""
    return normalise(text, {step}).text


def check_map(original: str, result: Normalised) -> None:
    """The offset map's invariants, for any input and any steps."""
    size = len(result.text)
    assert len(result.starts) == len(result.ends) == size
    assert list(result.starts) == sorted(result.starts)
    assert list(result.ends) == sorted(result.ends)
    for i, char in enumerate(result.text):
        start, end = result.starts[i], result.ends[i]
        assert 0 <= start < end <= len(original)
        source = original[start]
        # An ASCII letter or space mapped one-to-one is a copy: no step rewrites those.
        if end - start == 1 and source.isascii() and (source.isalpha() or source.isspace()):
            assert char == source, (i, char, source)


def uncovered(original: str, result: Normalised) -> set[str]:
    """Original characters that no normalised character's span covers."""
    covered = [False] * len(original)
    for start, end in zip(result.starts, result.ends, strict=True):
        covered[start:end] = [True] * (end - start)
    return {original[i] for i, seen in enumerate(covered) if not seen}


# --------------------------------------------------------------------------- the API


def test_steps_are_the_documented_ones_in_order() -> None:
    assert STEPS == (
        "bidi",
        "nfkc",
        "zero_width",
        "fold_accents",
        "confusables",
        "spacing",
        "masked",
        "leet",
        "repeats",
        "coded",
    )
    assert DEFAULT_STEPS == frozenset(STEPS)


def test_unknown_steps_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown normalisation step\(s\): bogus, leeet"):
        normalise("x", {"nfkc", "leeet", "bogus"})


def test_a_string_is_not_a_collection_of_steps() -> None:
    with pytest.raises(ValueError, match="not the string 'leet'"):
        normalise("x", "leet")


def test_no_steps_is_the_identity() -> None:
    result = normalise("k1ke (((x)))", set())
    assert result == Normalised("k1ke (((x)))", tuple(range(12)), tuple(range(1, 13)))


def test_empty_text() -> None:
    result = normalise("")
    assert result == Normalised("", (), ())
    assert result.span(0, 0) == (0, 0)


def test_normalise_text_is_the_text_and_pickles() -> None:
    restored = pickle.loads(pickle.dumps(normalise_text))
    assert restored("the k1ke") == normalise("the k1ke").text == f"the kike {CODED_MARKER}"


def test_lexicons_are_lowercase_and_sized_as_agreed() -> None:
    assert 60 <= len(MASK_LEXICON) <= 150
    assert {"kike", "yid", "heeb", "hymie", "shylock", "goy", "jewboy"} <= MASK_LEXICON
    assert all(word == word.lower() and word.isalpha() for word in MASK_LEXICON)
    assert all(term == term.lower() for term in CODED_LEXICON)
    assert not {"globalist", "globalists", "the tribe", "jew", "jews", "zionist"} & CODED_LEXICON


# --------------------------------------------------------------------------- each step


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I think \u202eswej llik\u202c today", "I think kill jews today"),
        ("\u202eswej llik", "kill jews"),  # unterminated: to the end of the text
        ("a\u202ecba\nxyz \u202efed", "aabc\nxyz def"),  # ... or of the paragraph
        ("\u202e(a) [b] {c} <d>\u202c", "<d> {c} [b] (a)"),  # brackets mirrored
        ("\u202e(((soroS)))\u202c", "(((Soros)))"),
        ("\u202e\u00abetouq\u00bb\u202c", "\u00abquote\u00bb"),
        ("\u202es\u0301we\u0301J\u202c", "Je\u0301ws\u0301"),  # marks stay on their base
        ("\u202bhello\u202c \u202aworld\u202c", "hello world"),  # embeddings: stripped
        ("\u2067abc\u2069 \u2066def\u2069 \u2068ghi\u2069", "abc def ghi"),  # isolates too
        ("\u202dabc\u202c", "abc"),  # an LRO of Latin text changes nothing
        ("a\u200eb\u200fc\u061cd", "abcd"),  # invisible direction marks
        ("a\u202c\u2069b", "ab"),  # closers with nothing to close
        ("x \u2067\u202ecba\u2069 y", "x abc y"),  # the PDI closes what its isolate left open
        ("x \u2067\u202ecba\u202c def\u2069 y", "x abc def y"),
        ("\u202ec \u2066ab\u2069 d\u202c", "d ab c"),  # an isolate moves as one block
        ("\u202ea\u202db c\u202c d\u202c", "d b ca"),  # ... and so does a nested LRO
        ("\u202e\u202ecba\u202c\u202c", "abc"),  # an RLO in an RLO is still right to left
        ("\u202b" * 10 + "\u202ecba", "abc"),
        ("\u202b" * 70 + "\u202ecba", "cba"),  # past UAX #9's depth limit: ignored
        ("\u202e\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd\u202c", "שלום עולם"),
        ("\u202d\u05dd\u05d5\u05dc\u05e9\u202c", "שלום"),  # Hebrew shown reversed by an LRO
        ("\u202eabc \u05e9\u05dc\u05d5\u05dd\u202c", "שלום cba"),
        ("\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627", "שלום مرحبا"),
    ],
)
def test_bidi(text: str, expected: str) -> None:
    assert only("bidi", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\uff4b\uff49\uff4b\uff45", "kike"),  # fullwidth
        ("\ufb01ne \ufb02ag", "fine flag"),  # ligatures
        ("e\u0301", "\u00e9"),  # a base and its mark compose
        ("\u2460 and \u00bd", "1 and 1\u20442"),
        ("x\u00a0y", "x y"),  # no-break space
        ("\u0420\u0443\u0441\u0441\u043a\u0438\u0439 caf\u00e9", "Русский café"),
    ],
)
def test_nfkc(text: str, expected: str) -> None:
    assert only("nfkc", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k\u200bi\u200ck\u00ade", "kike"),
        ("\ufeffhello\u2060 world\u200e", "hello world"),
        ("z\u0301\u0316\u0327\u0308algo", "zalgo"),  # a stack of >2 marks goes
        ("\u00e9\u0316\u0301\u0308", "e"),  # ... with the base's own marks
        ("\u0301\u0316\u0327abc", "abc"),  # a stack with no base
        ("nai\u0308ve re\u0301sume\u0301", "nai\u0308ve re\u0301sume\u0301"),  # one mark stays
        ("\U0001f468\u200d\U0001f469", "\U0001f468\u200d\U0001f469"),  # emoji ZWJ sequence
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "می‌خواهم"),  # Persian ZWNJ
        ("a\u200b\u200b\u200bb", "ab"),
    ],
)
def test_zero_width(text: str, expected: str) -> None:
    assert only("zero_width", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J\u0301e\u0301w\u0301s\u0301", "Jews"),
        ("k\u0301i\u0300k\u0302e\u0308\u0303", "kike"),
        ("Caf\u00e9 M\u00fcller, se\u00f1or, na\u00efve", "Cafe Muller, senor, naive"),
        ("e\u0301 n\u0303 u\u0308 \u00e9\u0301", "e n u e"),
        ("\u00c9COLE \u00d8re \u0142\u00f3d\u017a \u0110\u1ec7 \u01ed", "ECOLE Ore lodz De o"),
        ("\u0301" * 10_000, ""),
        ("a \u0301b !\u0301 \u0301", "a b ! "),  # marks after a space or punctuation
        ("1\ufe0f\u20e3 \u2764\ufe0f \u2460\u0301", "1 \u2764\ufe0f \u2460\u0301"),
        ("\u0408\u0301e\u0301ws", "\u0408ews"),  # a word with Latin letters loses all marks
        ("\u0438\u0306 \u0439\u043e\u0301\u0436", "\u0438\u0306 \u0439\u043e\u0301\u0436"),
        ("\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03b1\u0301", "καλημέρα \u03b1\u0301"),
        ("\u05e9\u05b8\u05dc\u05d5\u05b9\u05dd", "\u05e9\u05b8\u05dc\u05d5\u05b9\u05dd"),
        ("\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627", "مَرْحَبًا"),
        ("\u0928\u092e\u0938\u094d\u0924\u0947 \u0915\u093f", "नमस्ते कि"),
        ("\u09b0\u200d\u09cd\u09af", "\u09b0\u200d\u09cd\u09af"),  # Bengali, over a ZWJ
        ("stra\u00dfe \u00e6on \u01c8", "stra\u00dfe \u00e6on \u01c8"),  # no diacritics
    ],
)
def test_fold_accents(text: str, expected: str) -> None:
    assert only("fold_accents", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k\u0456ke", "kike"),  # Cyrillic i
        ("\u0408\u0435ws", "Jews"),  # Cyrillic J and e
        ("n\u0430z\u03b9", "nazi"),  # Cyrillic a, Greek iota
        ("\u0261oy", "goy"),  # Latin script g
        ("\u0440\u0430\u0441\u0430", "\u0440\u0430\u0441\u0430"),  # Russian word: untouched
        ("\u043f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", "привет мир"),
        ("\u03bf\u03b9\u03ba\u03bf\u03c2", "οικος"),  # Greek word: untouched
        ("\u0441\u043e\u0441 cocoa", "сос cocoa"),  # look-alikes only, no Latin: untouched
    ],
)
def test_confusables(text: str, expected: str) -> None:
    assert only("confusables", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the k i k e said", "the kike said"),
        ("n.a.z.i", "nazi"),
        ("j-e-w", "jew"),
        ("k_i_k_e and k*i*k*e", "kike and kike"),
        ("F U C K", "FUCK"),
        ("a I saw", "a I saw"),  # two single letters
        ("U.S.A. and N.A.T.O.", "U.S.A. and N.A.T.O."),  # initialisms stay
        ("k i-k e", "k i-k e"),  # separators must agree
        ("a  b  c", "a  b  c"),  # double spaces are not one separator
        ("k i k ebay", "kik ebay"),  # only the single letters join
    ],
)
def test_spacing(text: str, expected: str) -> None:
    assert only("spacing", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f*ck", "fuck"),
        ("k*ke", "kike"),
        ("n****r", "nigger"),
        ("n***r", "nigger"),  # a run stands for a run, length +-1
        ("n****rs", "niggers"),
        ("sh!t", "shit"),
        ("F*CK!!", "FUCK!!"),  # case kept, sentence punctuation kept
        ("sh*t.", "shit."),
        ("f***ing", "fucking"),
        ("y#d", "yid"),
        ("j*ws", "jews"),
        ("n1gg*r", "nigger"),  # leet digits count as letters
        ("#f*ck", "#fuck"),
        ("f***", "f***"),  # fuck? fag? fags? ambiguous: left alone
        ("*a*", "*a*"),  # markdown emphasis
        ("@user e.g. co-op self-made x_y", "@user e.g. co-op self-made x_y"),
        ("word* footnote", "word* footnote"),
        ("mail f*ck@example.com", "mail f*ck@example.com"),  # inside an e-mail address
    ],
)
def test_masked(text: str, expected: str) -> None:
    assert only("masked", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k1ke", "kike"),
        ("j3w", "jew"),
        ("n1gg3r", "nigger"),
        ("sh1t!", "shit!"),
        ("5hit", "shit"),  # edge digit, lexicon word
        ("@ss and a$$", "ass and ass"),
        ("K1KE", "KIKE"),
        ("l33t h4x0r", "leet haxor"),
        ("Micro$oft", "Microsoft"),
        ("1948 3.5 24/7 $5 100%", "1948 3.5 24/7 $5 100%"),  # numbers
        ("4chan mp3 1st 10am 3d", "4chan mp3 1st 10am 3d"),  # edge digits, not lexicon
        ("1980s b2b i18n COVID19 H1B F35", "1980s b2b i18n COVID19 H1B F35"),
        ("wow!that yes|no", "wow!that yes|no"),  # "!" and "|" alone need the lexicon
        ("b!tch", "bitch"),
        ("mail bob@ex4mple.com", "mail bob@ex4mple.com"),
        ("see https://t.co/k1ke", "see https://t.co/k1ke"),
    ],
)
def test_leet(text: str, expected: str) -> None:
    assert only("leet", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fuuuuck", "fuuck"),
        ("jeeeews", "jeews"),
        ("FUUUuuCK", "FUUuuCK"),  # case kept; runs are of identical characters
        ("!!!!!!", "!!!"),
        ("no!!! way??", "no!!! way??"),
        ("wait.... what-----", "wait... what---"),
        (
            "AAA batteries, World War III, Henry VIII, zzz",
            "AAA batteries, World War III, Henry VIII, zzz",
        ),
        ("www.example.com/aaaa", "www.example.com/aaaa"),
        ("1000000", "1000000"),
    ],
)
def test_repeats(text: str, expected: str) -> None:
    assert only("repeats", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(((Soros)))", f"{ECHO_MARKER} Soros"),
        ("((( them )))", f"{ECHO_MARKER} them"),
        ("the ((((media))))!", f"the {ECHO_MARKER} media!"),
        ("x(((y)))z", f"x {ECHO_MARKER} y z"),
        ("((( )))", "((( )))"),
        ("((just two))", "((just two))"),
        ("the ziomongrel swamp", f"the zio mongrel {CODED_MARKER} swamp"),
        ("ZioNazi", f"Zio Nazi {CODED_MARKER}"),
        ("Zio-Nazi", f"Zio Nazi {CODED_MARKER}"),
        ("zionazis", f"zio nazis {CODED_MARKER}"),
        ("zioshits", f"zio shits {CODED_MARKER}"),
        ("Zio", f"Zio {CODED_MARKER}"),
        ("Zio's", f"Zio {CODED_MARKER} 's"),
        (
            "Zion, Zionist, Zionism, Zionsville, Ziobro",
            "Zion, Zionist, Zionism, Zionsville, Ziobro",
        ),
        ("Israhell", f"Israel hell {CODED_MARKER}"),
        ("IsraHELL", f"Israel HELL {CODED_MARKER}"),
        ("ISRAHELL", f"ISRAEL HELL {CODED_MARKER}"),
        ("israhellies", f"israel hellies {CODED_MARKER}"),
        ("crypto-jews", f"crypto jews {CODED_MARKER}"),
        ("Cryptojew", f"Crypto jew {CODED_MARKER}"),
        ("the goyim know", f"the goyim {CODED_MARKER} know"),
        ("kikes.", f"kikes {CODED_MARKER}."),
        ("ZOG and oy  vey", f"ZOG {CODED_MARKER} and oy  vey {CODED_MARKER}"),
        ("the happy merchant", f"the happy merchant {CODED_MARKER}"),
        ("Khazarian mafia", f"Khazarian {CODED_MARKER} mafia"),
        ("globalists and the tribe", "globalists and the tribe"),
        ("as a Jew, I think Zionism", "as a Jew, I think Zionism"),
        ("a goyish joke, cryptocurrency", "a goyish joke, cryptocurrency"),  # whole words only
    ],
)
def test_coded(text: str, expected: str) -> None:
    assert only("coded", text) == expected


# --------------------------------------------------------------------------- whole pipeline


def test_ordinary_text_is_unchanged_and_maps_to_itself() -> None:
    result = normalise(PROSE)
    assert result.text == folded(PROSE)  # "Café Müller" -> "Cafe Muller"; Greek keeps its
    assert result.starts == tuple(range(len(PROSE)))
    assert result.ends == tuple(range(1, len(PROSE) + 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the k 1 k e", "the k 1 k e"),  # digits are not letters for spacing
        ("\uff4b\u200b\u0456k\u0435s!!!!!", f"kikes {CODED_MARKER}!!!"),
        ("n.a.z.i j3wwwws", "nazi jewws"),
        ("((((\u0405\u043eros))))", f"{ECHO_MARKER} Soros"),
        ("f*cking z10n4z1", f"fucking zio nazi {CODED_MARKER}"),
        ("Z\u0456oN\u0430z\u0456", f"Zio Nazi {CODED_MARKER}"),
        ("\u202eswej llik\u202c", "kill jews"),
        ("\u202e(((soroS)))\u202c", f"{ECHO_MARKER} Soros"),
        ("\u202es\u0301w\u0301e\u0301J\u0301 llik\u202c", "kill Jews"),
        ("J\u0301e\u0301w\u0301s\u0301 k\u0301\u0456k\u0301e\u0301", f"Jews kike {CODED_MARKER}"),
        ("\u0408\u0301\u0435\u0301ws", "Jews"),
        ("k\u0301 i\u0301 k\u0301 e\u0301", f"kike {CODED_MARKER}"),
        ("\u0301" * 10_000, ""),
        ("\u202e\u202c\u2069\u0301\u200f", ""),
        ("\u0301\u20dd\u093f" * 1_000, ""),
        ("?\u0301" * 1_000, "???"),
        ("x", "x"),
        ("#$%^&*()_+ asdfghjkl;qwerty", "#$%^&*()_+ asdfghjkl;qwerty"),
    ],
)
def test_steps_compose(text: str, expected: str) -> None:
    result = normalise(text)
    assert result.text == expected
    check_map(text, result)


# --------------------------------------------------------------------------- the offset map


def test_expansions_map_to_their_source() -> None:
    result = normalise("a\ufb01b", {"nfkc"})
    assert result.text == "afib"
    assert result.starts == (0, 1, 1, 2)
    assert result.ends == (1, 2, 2, 3)


def test_spaced_letters_keep_their_own_positions() -> None:
    result = normalise("k i k e", {"spacing"})
    assert (result.starts, result.ends) == ((0, 2, 4, 6), (1, 3, 5, 7))
    assert result.span(0, 4) == (0, 7)


def test_collapsed_repeats_map_to_their_run() -> None:
    result = normalise("fuuuuck", {"repeats"})
    assert result.text == "fuuck"
    assert result.starts == (0, 1, 2, 5, 6)
    assert result.ends == (1, 2, 5, 6, 7)
    assert result.span(1, 3) == (1, 5)


def test_masks_map_one_to_one_or_by_run() -> None:
    assert normalise("f*ck", {"masked"}).starts == (0, 1, 2, 3)
    result = normalise("n***r", {"masked"})
    assert result.text == "nigger"
    assert result.starts == (0, 1, 1, 1, 1, 4)
    assert result.ends == (1, 4, 4, 4, 4, 5)


def test_a_marker_spans_the_form_that_caused_it() -> None:
    original = "the ziomongrel swamp"
    result = normalise(original)
    at = result.text.index(CODED_MARKER)
    start, end = result.span(at, at + len(CODED_MARKER))
    assert original[start:end] == "ziomongrel"
    at = result.text.index("swamp")
    assert original[slice(*result.span(at, at + 5))] == "swamp"


def test_an_echo_marker_spans_the_parentheses() -> None:
    original = "ask (((them))) why"
    result = normalise(original)
    at = result.text.index(ECHO_MARKER)
    assert original[slice(*result.span(at, at + len(ECHO_MARKER)))] == "(((them)))"


def test_dropped_zero_width_characters_are_inside_a_covering_span() -> None:
    original = "k\u200bi\u200bk\u200be"
    result = normalise(original, {"zero_width"})
    assert result.text == "kike"
    assert result.span(0, 4) == (0, 7)
    assert uncovered(original, result) == {"\u200b"}


def test_a_reversed_override_maps_to_its_whole_content() -> None:
    # Character by character, "kill" would map after "jews": the map would not be monotone.
    original = "I think \u202eswej llik\u202c today"
    result = normalise(original, {"bidi"})
    at = result.text.index("kill jews")
    assert {result.span(k, k + 1) for k in range(at, at + 9)} == {(9, 18)}
    assert original[9:18] == "swej llik"
    assert result.span(0, at) == (0, 8)
    at = result.text.index("today")
    assert original[slice(*result.span(at, at + 5))] == "today"
    assert result.starts[at:] == tuple(range(20, 25))
    assert uncovered(original, result) == {"\u202e", "\u202c"}
    check_map(original, result)


def test_an_override_that_moves_nothing_keeps_the_exact_map() -> None:
    result = normalise("x\u202e(\u202cy \u202dab\u202c \u202e\u05d0\u05d1\u202c", {"bidi"})
    assert result.text == "x)y ab \u05d0\u05d1"
    assert result.starts == (0, 2, 4, 5, 7, 8, 10, 12, 13)
    assert result.ends == (1, 3, 5, 6, 8, 9, 11, 13, 14)


def test_an_unterminated_override_maps_to_its_paragraph() -> None:
    original = "a\u202ecb\nde"
    result = normalise(original, {"bidi"})
    assert result.text == "abc\nde"
    assert result.starts == (0, 2, 2, 4, 5, 6)
    assert result.ends == (1, 4, 4, 5, 6, 7)


def test_folded_letters_map_to_their_base_and_marks() -> None:
    result = normalise("J\u0301e\u0301ws Caf\u00e9 \u0301x", {"fold_accents"})
    assert result.text == "Jews Cafe x"
    assert result.starts == (0, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13)
    assert result.ends == (2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14)
    assert result.span(0, 4) == (0, 6)


def test_span_of_nothing_is_a_point() -> None:
    result = normalise("ab\u200bc", {"zero_width"})
    assert result.span(2, 2) == (3, 3)
    assert result.span(3, 3) == (4, 4)


@pytest.mark.parametrize(("start", "end"), [(-1, 1), (2, 1), (0, 4)])
def test_span_outside_the_text_is_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.3"):
        normalise("abc").span(start, end)


# Fragments random texts are built from: ordinary characters plus every kind of disguise.
FRAGMENTS = [
    *"abcdefghijklmnopqrstuvwxyzKIJE ",
    *"0123456789.,;:!?*#@$_-|'()",
    *ZERO_WIDTH,
    "\u0430", "\u0435", "\u043e", "\u0456", "\u03bf", "\u03b1", "\u0261", "\u0416",
    "\uff4b", "\ufb01", "\u2460", "\u00bd", "\u00e9", "\u00a0", "\U0001f44d",
    "\u0301", "\u0316", "\u0327", "\u0308",
    "k1ke", "f*ck", "n****r", "sh!t", "(((", ")))", "zio", "nazi", "Zion", "israhell",
    "crypto-jew", "goyim", "oy vey", "k i k e", "n.a.z.i", "aaaa", "!!!!!", "http://x.io/",
    "a@b.co", "\u0301\u0316\u0327\u0308",
    *BIDI_CONTROLS, *MARKS, *"[]{}<>\n\u2029\u00ab\u00bb", "\u05d0", "\u05e9", "\u0627", "\u0928",
    "\u00f8", "\u0142", "\u00c9", "\u202eswej llik\u202c", "\u202e(((soroS)))\u202c",
    "J\u0301e\u0301w\u0301s\u0301", "\u2067\u202e", "\u202b\u202d",
]  # fmt: skip
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
step_sets = st.sets(st.sampled_from(STEPS))


@settings(max_examples=400, deadline=None)
@given(texts, step_sets)
def test_the_map_is_monotone_in_bounds_and_copies_are_copies(text: str, steps: set[str]) -> None:
    check_map(text, normalise(text, steps))


@settings(max_examples=300, deadline=None)
@given(texts, step_sets)
def test_only_dropping_steps_leave_characters_uncovered(text: str, steps: set[str]) -> None:
    result = normalise(text, steps)
    lost = uncovered(text, result)
    assert lost <= DROPPABLE
    if not steps & {"bidi", "zero_width", "fold_accents", "spacing"}:
        assert not lost
        if text:
            assert result.starts[0] == 0 and result.ends[-1] == len(text)
            assert all(b <= a for a, b in zip(result.ends, result.starts[1:], strict=False))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), step_sets)
def test_any_unicode_keeps_the_map_invariants(text: str, steps: set[str]) -> None:
    check_map(text, normalise(text, steps))


ORDINARY_WORDS = [
    "the", "council", "said", "Israel", "Jewish", "Zion", "Zionism", "a", "I", "news",
    "1948", "3.5", "24/7", "(see", "page)", "U.S.", "e.g.", "co-op", "it's", "well...",
    "really?", "yes!", "\u2014", "caf\u00e9", "Jews,", "rabbi", "AAA", "III",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ORDINARY_WORDS), max_size=30).map(" ".join))
@example("a a U.S.")
@example("e.g. a I U.S. a")
def test_ordinary_words_pass_through_unchanged(text: str) -> None:
    result = normalise(text)
    assert result.text == folded(text)  # "café" is read as "cafe", in place
    assert result.starts == tuple(range(len(text)))


# --------------------------------------------------------------------------- hostile sizes


HOSTILE = {
    "open parens": "(" * 100_000,
    "close parens": ")" * 100_000,
    "one long word": "a" * 100_000,
    "stars and spaces": "* " * 50_000,
    "zero-width run": "\u200b" * 100_000,
    "zero-width in a word": "k\u200b" * 50_000,
    "zalgo": "a" + "\u0301\u0316\u0327" * 33_000,
    "bare marks": "\u0301" * 100_000,
    "echo never closed": "(((" + "a" * 100_000,
    "echo many opens": "((( x " * 20_000,
    "single letters then a word": "a " * 50_000 + "ab",
    "dotted letters": "a." * 50_000,
    "masks": "a*" * 50_000,
    "leet": "a1" * 50_000,
    "digits": "1" * 100_000,
    "at signs": "a@" * 50_000,
    "almost an e-mail": "a." * 50_000 + "@",
    "long url": "http://" + "a" * 100_000,
    "zio": "zio" * 30_000,
    "homoglyph word": "\u0430a" * 50_000,
    "fullwidth": "\uff4b" * 100_000,
    "e-mails": "a@b.c " * 20_000,
    "mixed": "k1ke f*ck (((x))) ziomongrel \u043a i k e " * 3_000,
    "override never closed": "\u202e" + "abc " * 25_000,
    "overrides nested": "\u202e\u202d" * 50_000 + "abc",
    "isolates nested": "\u2067" * 100_000,
    "override pairs": "\u202ea\u202c" * 33_000,
    "stray closers": "\u202c\u2069" * 50_000,
    "overrides per line": "\u202eab\n" * 33_000,
    "hebrew override": "\u202e" + "\u05e9 " * 50_000,
    "a mark on every letter": "a\u0301" * 50_000,
    "reversed marked letters": "\u202e" + "a\u0301" * 50_000,
    "accented letters": "\u00e9" * 100_000,
    "marks of every kind": "\u0301\u20dd\u093f" * 33_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_inputs_finish_quickly(name: str) -> None:
    text = HOSTILE[name]
    began = time.perf_counter()
    result = normalise(text)
    # A hang guard, not a speed test: these take milliseconds, and a catastrophic
    # (quadratic or backtracking) regression would take minutes. Speed is `make bench`'s.
    assert time.perf_counter() - began < 30.0
    assert len(result.starts) == len(result.text)


@pytest.mark.parametrize(
    "steps", [{"fold_accents"}, {"bidi", "fold_accents"}, {"nfkc", "fold_accents"}, DEFAULT_STEPS]
)
def test_ten_thousand_combining_marks_leave_nothing(steps: set[str]) -> None:
    text = "\u0301" * 10_000
    began = time.perf_counter()
    result = normalise(text, steps)
    assert time.perf_counter() - began < 30.0  # a hang guard, as above
    assert result.text == ""
    assert result == normalise("\u0301\u0316\u20dd" * 3_334, steps) == Normalised("", (), ())


def test_a_megabyte_of_prose_comes_back_unchanged_but_for_accents() -> None:
    # Its speed is measured by `make bench` (score_bench), not asserted here: a timed test
    # fails on a busy machine without any change to the code.
    text = (PROSE + "\n") * (1_000_000 // (len(PROSE) + 1))
    result = normalise(text)
    assert result.text == folded(text)
    assert len(result.starts) == len(text)


# --------------------------------------------------------------------------- shipped steps

# Bundles store their step list and are scored with it, so the steps a bundle was fitted
# with must keep giving exactly the output they gave then. These digests were recorded with
# the code before "bidi" and "fold_accents" existed, over a fixed corpus that includes
# their kind of input (bidi controls, marks on every letter, bare marks). The pieces are
# kept apart from FRAGMENTS so that widening the hypothesis strategies cannot move them;
# changing the corpus means recording again with the old code (Unicode data is Python's:
# 3.11 has Unicode 14, and a Python with newer data may change NFKC's output).
LEGACY_PIECES = (
    *"abcdefghijklmnopqrstuvwxyzKIJE ",
    *"0123456789.,;:!?*#@$_-|'()[]{}<>\n",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u061c", "\u2029",
    "\u0430", "\u0435", "\u043e", "\u0456", "\u03bf", "\u03b1", "\u0261", "\u0416", "\u0408",
    "\uff4b", "\ufb01", "\u2460", "\u00bd", "\u00e9", "\u00f1", "\u00fc", "\u00f8", "\u0142",
    "\u00a0", "\U0001f44d", "\u2764\ufe0f", "1\ufe0f\u20e3",
    "\u0301", "\u0316", "\u0327", "\u0308", "\u0303", "\u20dd", "\ufe0f",
    "\u05e9\u05b8\u05dc\u05d5\u05b9\u05dd",
    "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",
    "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0438\u0306",
    "\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
    "Ti\u1ebfng Vi\u1ec7t", "J\u0301e\u0301w\u0301s\u0301", "\u202eswej llik\u202c",
    "\u202e)))soroS(((\u202c", "\u2067\u202eab\u2069", "\u0301\u0316\u0327\u0308",
    "k1ke", "f*ck", "n****r", "sh!t", "(((", ")))", "zio", "nazi", "Zion", "israhell",
    "crypto-jew", "goyim", "oy vey", "k i k e", "n.a.z.i", "aaaa", "!!!!!", "http://x.io/",
    "a@b.co",
)  # fmt: skip


def legacy_corpus() -> list[str]:
    """PROSE, a few hostile shapes, and 1,500 seeded random texts of LEGACY_PIECES."""
    rng = random.Random(20261124)
    texts = [
        PROSE,
        "",
        "\u0301" * 10_000,
        "a" + "\u0301\u0316\u0327" * 300,
        "\u202e" + "abc " * 200,
        "\u202e\u202d" * 200 + "xyz",
        "\u2067" * 300 + "abc",
        "(" * 3000,
        "(((" + "a" * 3000,
        "k\u200b" * 1000,
        "\u0430a" * 1000,
        "a1" * 1000,
        "a." * 1000 + "@",
        "k1ke f*ck (((x))) ziomongrel \u043a i k e " * 50,
        "\uff4b" * 2000,
    ]
    for _ in range(1500):
        texts.append("".join(rng.choice(LEGACY_PIECES) for _ in range(rng.randrange(1, 30))))
    return texts


LEGACY_DIGESTS = {
    LEGACY_STEPS: "ed720f1aa35dec22b32666d6",
    ("nfkc",): "7dcf8951ed845cced93f7baf",
    ("zero_width",): "896966bf9e52d7b91ad987c3",
    ("confusables",): "4985444ea376b82dbd2208c9",
    ("spacing",): "530584c30190f5e635f2c46a",
    ("masked",): "e5603ba3abf13193f31e82b9",
    ("leet",): "cef37493e98492dc2b34e39c",
    ("repeats",): "087793f7b56aa2a2bd6d4138",
    ("coded",): "58958af98660af1cddd7909c",
    ("nfkc", "zero_width", "spacing", "leet", "repeats"): "4733a4212ba1bfa20518e5c3",
    ("nfkc", "zero_width", "confusables", "spacing", "masked", "repeats", "coded"): (
        "e873e7bc6080af3eddb27ec0"
    ),
    ("spacing", "leet", "coded"): "83648c79cd15d45fe67c424a",
    ("nfkc", "zero_width", "confusables", "masked", "coded"): "169e76935f4924234ae8f915",
    ("zero_width", "confusables", "spacing", "leet", "repeats"): "6be8ae14e894728e2dff27fa",
    ("nfkc", "zero_width", "masked"): "535504007f5de009f73c387f",
}


@pytest.mark.parametrize("steps", list(LEGACY_DIGESTS), ids="+".join)
def test_the_legacy_steps_give_the_output_they_always_gave(steps: tuple[str, ...]) -> None:
    digest = hashlib.sha256()
    for text in legacy_corpus():
        result = normalise(text, steps)
        digest.update(repr((result.text, result.starts, result.ends)).encode())
    assert digest.hexdigest()[:24] == LEGACY_DIGESTS[steps]


def test_the_legacy_steps_leave_display_tricks_alone() -> None:
    # What the shipped bundle sees, spelled out: the old steps never learnt these tricks.
    assert normalise("\u202eswej llik\u202c", LEGACY_STEPS).text == "\u202eswej llik\u202c"
    marked = normalise("J\u0301e\u0301w\u0301s\u0301", LEGACY_STEPS)
    assert marked.text == "J\u0301\u00e9\u1e83\u015b"  # NFKC composes what it can
    assert normalise("Caf\u00e9", LEGACY_STEPS).text == "Caf\u00e9"
    assert set(STEPS) - set(LEGACY_STEPS) == {"bidi", "fold_accents"}

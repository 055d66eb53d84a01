"""The `untrusted` filter, and the review pages it guards: no user string can hide a character."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy.engine import Engine

from app.api.app import create_app
from app.api.display import code_point_name, is_hidden, untrusted
from app.auth import Role
from app.config import Settings
from app.policy import load_policy
from app.queue.ingest import Incoming, Report, ThreadInfo, ingest_comments
from app.queue.keys import SqlKeyStore
from app.queue.review import Filters, Labels, decide, list_items
from tests.api.test_review_page import sign_in

if TYPE_CHECKING:
    from app.registry import LoadedModel

RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"
LISTED = [
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
    *range(0x200B, 0x200E),
    *range(0x2060, 0x2065),
    0xFEFF,
    0x00AD,
    *range(0xE0000, 0xE0080),
]
MARKER = re.compile(
    r'<span class="invisible-char" dir="ltr" title="([^"]*)">⟨U\+([0-9A-F]{4,6})⟩</span>'
)


def every_format_character() -> list[str]:
    return [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]


def bare(html: str) -> str:
    """`html` without its markers and the bdi wrapper: what the string was, escaped."""
    inner = MARKER.sub("", html)
    assert inner.startswith('<bdi dir="auto">') and inner.endswith("</bdi>"), html
    return inner[len('<bdi dir="auto">') : -len("</bdi>")]


@pytest.mark.parametrize("code", LISTED, ids=lambda c: f"U+{c:04X}")
def test_every_listed_character_becomes_a_marker(code: int) -> None:
    shown = untrusted(f"a{chr(code)}b")
    assert isinstance(shown, Markup)
    [(title, label)] = MARKER.findall(shown)
    assert label == f"{code:04X}"
    assert title.startswith(f"U+{code:04X} ")
    assert chr(code) not in shown
    assert bare(shown) == "ab"


def test_markers_are_named_by_unicode_with_a_fallback() -> None:
    assert code_point_name(RLO) == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert code_point_name("\u200d") == "U+200D ZERO WIDTH JOINER"
    assert code_point_name("\U000e0000") == "U+E0000 UNASSIGNED TAG CHARACTER"
    assert code_point_name("\x07") == "U+0007 CONTROL CHARACTER"
    assert 'title="U+202E RIGHT-TO-LEFT OVERRIDE">⟨U+202E⟩</span>' in untrusted(RLO)


def test_no_format_character_survives() -> None:
    everything = "".join(every_format_character())
    shown = untrusted(everything)
    assert not any(unicodedata.category(ch) == "Cf" for ch in shown)
    assert len(MARKER.findall(shown)) == len(everything)
    assert bare(shown) == ""


def test_controls_and_separators_are_marked_but_layout_whitespace_is_not() -> None:
    for char in ("\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"):
        assert is_hidden(char), repr(char)
        assert char not in untrusted(f"x{char}y")
    assert untrusted("one\ttwo\nthree\r") == '<bdi dir="auto">one\ttwo\nthree\r</bdi>'


def test_markup_in_the_input_stays_escaped_around_a_marker() -> None:
    shown = untrusted(f"<script>{RLO}alert(1)</script>")
    assert "<script>" not in shown and RLO not in shown
    assert bare(shown) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "⟨U+202E⟩</span>alert(1)&lt;/script&gt;" in shown
    # A character that ends up inside an escaped attribute payload is still replaced.
    attribute = untrusted(f'"><img src=x onerror={ZWSP}alert(1)>')
    assert "<img" not in attribute and ZWSP not in attribute
    assert bare(attribute) == "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def test_markup_objects_are_shown_as_text_not_obeyed() -> None:
    shown = untrusted(Markup(f'<b title="x{RLO}">bold</b>'))
    assert "<b title" not in shown and RLO not in shown
    assert bare(shown) == "&lt;b title=&#34;x&#34;&gt;bold&lt;/b&gt;"


def test_plain_and_non_latin_text_is_only_escaped_and_isolated() -> None:
    for text in (
        "plain words & more",
        "שלום עולם",  # Hebrew: right-to-left letters need no control character
        "مرحبا بالعالم",  # Arabic
        "naïve café 日本語 😀",
        "",
    ):
        expected = text.replace("&", "&amp;")
        assert untrusted(text) == f'<bdi dir="auto">{expected}</bdi>'
    assert untrusted(None) == '<bdi dir="auto"></bdi>'
    assert untrusted(42) == '<bdi dir="auto">42</bdi>'


def test_a_zero_width_joiner_in_an_emoji_is_marked_too() -> None:
    # A deliberate choice (app.api.display): the family stays readable as its members, and
    # the same joiner cannot pass "ad\u200dmin" off as "admin".
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    shown = untrusted(family)
    assert len(MARKER.findall(shown)) == 2
    assert bare(shown) == "\U0001f468\U0001f469\U0001f467"


def test_pieces_of_one_string_may_leave_out_the_isolation() -> None:
    assert untrusted(f"vile{RLO}", isolate=False) == Markup(
        'vile<span class="invisible-char" dir="ltr" '
        'title="U+202E RIGHT-TO-LEFT OVERRIDE">⟨U+202E⟩</span>'
    )


# --- the pages -------------------------------------------------------------------------------

SPOOF = f"{RLO}nimda{PDF}"
TEXT = f"pay {RLO}yenom ruoy{PDF} now{ZWSP}please vermin"
VERMIN = TEXT.index("vermin")
HIDDEN = re.compile("[" + "".join(re.escape(c) for c in every_format_character()) + "]")


@pytest.fixture
def spoofed(engine: Engine, tiny_model: LoadedModel) -> int:
    """An item whose every outside string carries a bidi control, decided once."""
    policy = load_policy(None, {"hate": 0.5, "toxic": 0.5, "conspiracy": 0.5})
    info = ThreadInfo(
        source=f"src{RLO}",
        source_format="api",
        url=f"https://example.org/{RLO}gpj.exe",
        title=f"Title {RLO}eltit",
        article_text=f"Article {ZWSP}text",
    )
    evidence = {"hate": [{"text": f"ver{RLO}min", "start": VERMIN, "end": VERMIN + 6}]}
    scores: dict[str, Any] = {
        "hate": 0.95,
        "hate_flag": True,
        "toxic": 0.1,
        "conspiracy": 0.1,
        "hate_target": f"tar{RLO}get",
        "stance": f"st{ZWSP}ance",
        "reply_stance": f"re{ZWSP}ply",
        "model_version": f"v{RLO}1",
        "evidence": evidence,
    }
    calm = {"hate": 0.01, "toxic": 0.01, "conspiracy": 0.01, "stance": f"a{RLO}b"}
    ingest_comments(
        engine,
        tiny_model,
        policy,
        info,
        [
            Incoming(f"p{RLO}1", f"parent {RLO}txet", author=f"{RLO}rehtona", scores=calm),
            Incoming(
                f"c{RLO}1",
                TEXT,
                parent_id=f"p{RLO}1",
                author=SPOOF,
                scores=scores,
                report=Report(f"why{RLO}", reporter=f"who{RLO}"),
            ),
            Incoming(f"s{RLO}1", f"sibling {ZWSP}", parent_id=f"p{RLO}1", scores=calm),
            Incoming(f"r{RLO}1", f"reply {ZWSP}", parent_id=f"c{RLO}1", scores=calm),
        ],
    )
    [item] = [
        i
        for i in list_items(engine, Filters(queue="hate")).items
        if i["comment"]["comment_id"] == f"c{RLO}1"
    ]
    key = SqlKeyStore(engine).create(Role.moderator, "first moderator").key
    decide(
        engine,
        item["item_id"],
        action="label",
        item_version=item["version"],
        key=key,
        labels=Labels(toxic=True),
        reason=f"reason {RLO}",
        note=f"note {ZWSP}",
    )
    item_id: int = item["item_id"]
    return item_id


@pytest.fixture
def moderator(migrated_url: str, engine: Engine, tiny_model: LoadedModel) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=migrated_url), model=tiny_model, engine=engine)
    secret = SqlKeyStore(engine).create(Role.moderator, "page reader").secret
    with TestClient(app) as client:
        assert sign_in(client, secret).status_code == 303
        yield client


def test_no_page_lets_a_hidden_character_through(moderator: TestClient, spoofed: int) -> None:
    pages = {
        "list": moderator.get("/review/queues/hate?status=all"),
        "item": moderator.get(f"/review/items/{spoofed}?status=all"),
        "overview": moderator.get("/review"),
        "error": moderator.get(f"/review/queues/x{RLO}y"),
    }
    for name, response in pages.items():
        # Links keep their address as given (escaped); only what is shown is rewritten.
        shown = re.sub(r'href="[^"]*"', "", response.text)
        assert HIDDEN.search(shown) is None, (name, HIDDEN.findall(shown))
    item = pages["item"].text
    assert 'href="https://example.org/\u202egpj.exe"' in item
    assert pages["list"].text.count("⟨U+202E⟩") >= 4
    # Author, thread id, title, link text, ancestor/sibling/reply ids and texts, comment,
    # evidence word, target (chip, reason, facts), stance, model, report, decision.
    assert item.count("⟨U+202E⟩") >= 20
    assert item.count("⟨U+200B⟩") >= 7
    # The highlight still wraps its (escaped) word, and the whole comment is one island.
    assert '<div class="text comment-text"><bdi dir="auto">pay ' in item
    assert re.search(r'<mark class="ev ev-hate[^"]*" title="[^"]*">vermin</mark></bdi>', item)

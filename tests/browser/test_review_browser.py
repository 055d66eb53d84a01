"""The review page in a real browser: Playwright driving Debian's chromium against uvicorn.

A moderator signs in, finds the seed page's two antisemitic comments at the top of the hate
queue with their evidence, decides three items from the keyboard alone, and an XSS payload
in a comment shows as text. Bidi controls and invisible characters in an author, a comment
and an address are drawn as markers, in the order they were written. Needs `chromium` on
PATH (`make browser` installs it with apt; nothing is downloaded at run time). Without it
the test is skipped, or fails when THREADGUARD_REQUIRE_BROWSER=1 (as `make test` sets it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app import registry
from app.auth import Role
from app.policy import load_policy
from app.queue.ingest import Incoming, ThreadInfo, ingest_comments, ingest_thread
from app.queue.keys import SqlKeyStore
from app.queue.review import Filters, history, list_items
from app.queue.store import make_engine
from app.threads import parse
from tests.api.serverutil import Server, threadguard_server
from tests.conftest import SEEDS, shared_file

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from sqlalchemy.engine import Engine

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REQUIRE_VARIABLE = "THREADGUARD_REQUIRE_BROWSER"
MODERATOR = "Browser Moderator"
SCRIPT = "<script>alert('xss')</script> the usual idiots again"
AUTHOR = '"><img src=x onerror=alert(1)>'
URL = "javascript:alert(1)"
RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"
# Drawn as "admin" and "give me your money" if the controls were obeyed.
SPOOF_AUTHOR = f"{RLO}nimda{PDF}"
SPOOF_TEXT = f"I said {RLO}yenom ruoy em evig{PDF} and{ZWSP}left"
SPOOF_URL = f"https://example.org/{RLO}fdp.exe"
# The letters of an element in the order they are drawn, left to right and line by line
# (markers left out): what a moderator reads, unlike innerText, which keeps the stored order.
DRAWN_LETTERS = """(element) => {
  const found = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".invisible-char")) continue;
    for (let i = 0; i < node.data.length; i++) {
      if (!/[A-Za-z]/.test(node.data[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      found.push([Math.round(box.top), box.left, node.data[i]]);
    }
  }
  found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return found.map((entry) => entry[2]).join("");
}"""


def _missing(message: str) -> None:
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1 requires the browser test to run)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The path of Debian's chromium."""
    path = shutil.which("chromium")
    if path is None:
        _missing("needs Debian's chromium on PATH: `make browser` or `apt-get install chromium`")
    assert path is not None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("needs the playwright package (the dev extra)")
    return path


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("review-server")
    with threadguard_server(registry.default_model_dir(), workdir) as running:
        yield running


@pytest.fixture(scope="module")
def database(server: Server) -> Iterator[Engine]:
    """The server's own database: `threadguard_server` makes it in the server's folder."""
    engine = make_engine(f"sqlite:///{server.log_path.parent / 'threadguard.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def queued(database: Engine) -> dict[str, Any]:
    """The seed page and a thread of XSS payloads, ingested as `threadguard` would."""
    model = registry.load_current(registry.default_model_dir())
    policy = load_policy(None, model.thresholds)
    seed = shared_file(SEEDS / "004_f987b5801adb0d07.txt").read_bytes()
    ingest_thread(database, model, policy, parse(seed))
    low = {"hate": 0.02, "conspiracy": 0.02}
    ingest_comments(
        database,
        model,
        policy,
        ThreadInfo(source="xss-test", source_format="api", url=URL, title="A thread of payloads"),
        [
            Incoming("x1", SCRIPT, author=AUTHOR, scores={**low, "toxic": 0.99}),
            Incoming(
                "x2",
                f"reply {AUTHOR}",
                parent_id="x1",
                author="<b>bold</b>",
                scores={**low, "toxic": 0.01},
            ),
        ],
    )
    [xss] = [
        item
        for item in list_items(database, Filters(queue="toxic")).items
        if item["comment"]["comment_id"] == "x1"
    ]
    secret = SqlKeyStore(database).create(Role.moderator, MODERATOR).secret
    return {"secret": secret, "xss_item": xss["item_id"]}


def _item_id(page: Page) -> int:
    found = re.search(r"/review/items/(\d+)", page.url)
    assert found is not None, page.url
    return int(found.group(1))


def _press_and_wait(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_moderator_works_the_hate_queue_by_keyboard(
    server: Server, database: Engine, queued: dict[str, Any], chromium: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(20_000)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            # Sign in: /review sends a stranger to the sign-in form, then to the hate queue.
            page.goto(server.url + "/review/queues/hate")
            assert "/review/login" in page.url
            page.fill("#key", queued["secret"])
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.url.startswith(server.url + "/review/queues/hate")
            assert MODERATOR in page.inner_text(".topbar")

            authors = page.locator("[data-item] .row-link .author").all_inner_texts()
            # The two seed hate comments lead the queue, in the order the model ranks them.
            assert set(authors[:2]) == {"Jozo Magoc", "DarkEyes"}, authors
            top, after = authors[:2]

            # j selects the first row, Enter opens it.
            page.keyboard.press("j")
            assert "selected" in (page.locator("[data-item]").first.get_attribute("class") or "")
            _press_and_wait(page, "Enter")
            first = _item_id(page)
            assert top in page.inner_text("#comment header")
            # DarkEyes replies inside the thread (its ancestors show); Jozo Magoc is top level.
            assert (page.locator(".ancestors .ctx").count() >= 1) == (top == "DarkEyes")
            marks = page.locator("#comment mark.ev")
            assert marks.count() > 0
            assert marks.first.is_visible()
            assert page.locator("#comment mark.ev.strong").first.is_visible()
            assert "jewish" in page.inner_text(".scores")
            page.screenshot(path=str(tmp_path / "review-page.png"))

            # j / k move through the queue.
            _press_and_wait(page, "j")
            second = _item_id(page)
            assert after in page.inner_text("#comment header")
            assert (page.locator(".ancestors .ctx").count() >= 1) == (after == "DarkEyes")
            _press_and_wait(page, "k")
            assert _item_id(page) == first

            # ? shows the help; Esc hides it again.
            page.keyboard.press("?")
            assert page.locator("#help").is_visible()
            page.keyboard.press("Escape")
            assert not page.locator("#help").is_visible()

            # r rejects and opens the next open item; e escalates the last one.
            _press_and_wait(page, "r")
            assert _item_id(page) == second
            assert f"Item {first} rejected." in page.inner_text(".toast")
            _press_and_wait(page, "e")
            assert "/review/queues/hate" in page.url
            assert "No open items are left" in page.inner_text(".toast")

            # a approves an item opened from another queue's list.
            page.goto(server.url + "/review/queues/uncertain")
            page.keyboard.press("j")
            _press_and_wait(page, "Enter")
            third = _item_id(page)
            _press_and_wait(page, "a")

            # The XSS payloads show as text, and nothing ran.
            page.goto(server.url + "/review/queues/toxic")
            assert page.get_by_text(SCRIPT).first.is_visible()
            page.goto(f"{server.url}/review/items/{queued['xss_item']}")
            assert page.locator("#comment .comment-text").inner_text() == SCRIPT
            assert AUTHOR in page.inner_text("#comment header")
            assert page.locator("img").count() == 0
            assert page.locator('a[href^="javascript"]').count() == 0
            assert URL in page.inner_text(".article")
            page.screenshot(path=str(tmp_path / "xss-item.png"))
        finally:
            browser.close()

    assert dialogs == [], f"a script ran: {dialogs}"
    stored = {item: history(database, item) for item in (first, second, third)}
    assert [d["action"] for d in stored[first]] == ["reject"]
    assert [d["action"] for d in stored[second]] == ["escalate"]
    assert [d["action"] for d in stored[third]] == ["approve"]
    assert {d["moderator"] for ds in stored.values() for d in ds} == {MODERATOR}
    assert (tmp_path / "review-page.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def spoofed(database: Engine) -> dict[str, Any]:
    """A comment whose author, text and thread address carry bidi and zero-width characters.

    Only the toxic queue gets it, so the hate and uncertain queues stay as the keyboard
    test expects them.
    """
    model = registry.load_current(registry.default_model_dir())
    policy = load_policy(None, model.thresholds)
    ingest_comments(
        database,
        model,
        policy,
        ThreadInfo(source="bidi-test", source_format="api", url=SPOOF_URL, title="Bidi thread"),
        [
            Incoming(
                "b1",
                SPOOF_TEXT,
                author=SPOOF_AUTHOR,
                scores={"hate": 0.02, "conspiracy": 0.02, "toxic": 0.99},
            )
        ],
    )
    [item] = [
        item
        for item in list_items(database, Filters(queue="toxic")).items
        if item["comment"]["comment_id"] == "b1"
    ]
    secret = SqlKeyStore(database).create(Role.moderator, "Bidi Moderator").secret
    return {"secret": secret, "item": item["item_id"]}


def _markers(page: Page, selector: str) -> list[str]:
    return page.locator(f"{selector} .invisible-char").all_inner_texts()


def _computed(page: Page, selector: str, prop: str) -> str:
    value: str = page.locator(selector).first.evaluate(f"(e) => getComputedStyle(e).{prop}")
    return value


def test_bidi_controls_and_invisible_characters_show_as_markers(
    server: Server, spoofed: dict[str, Any], chromium: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    item = spoofed["item"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(20_000)
            page.goto(server.url + "/review/queues/toxic?status=all")
            page.fill("#key", spoofed["secret"])
            with page.expect_navigation():
                page.click("button[type=submit]")

            row = f'[data-item][data-href^="/review/items/{item}?"]'
            author = f"{row} .row-link .author"
            assert page.locator(row).count() == 1
            assert _markers(page, author) == ["⟨U+202E⟩", "⟨U+202C⟩"]
            assert _markers(page, f"{row} .preview") == ["⟨U+202E⟩", "⟨U+202C⟩", "⟨U+200B⟩"]
            assert _markers(page, row) == [
                *_markers(page, author),
                *_markers(page, f"{row} .preview"),
            ]
            assert "admin" not in page.inner_text(author)
            assert page.locator(author).evaluate(DRAWN_LETTERS) == "nimda"
            assert "yenomruoyemevig" in page.locator(f"{row} .preview").evaluate(DRAWN_LETTERS)
            assert page.locator(f"{author} > bdi").count() == 1
            assert _computed(page, f"{author} > bdi", "unicodeBidi") == "isolate"
            assert _computed(page, f"{row} .preview > bdi", "unicodeBidi") == "isolate"

            page.goto(f"{server.url}/review/items/{item}")
            header = "#comment header .author"
            assert _markers(page, header) == ["⟨U+202E⟩", "⟨U+202C⟩"]
            assert _markers(page, "#comment .comment-text") == ["⟨U+202E⟩", "⟨U+202C⟩", "⟨U+200B⟩"]
            link = page.locator(".article a")
            assert _markers(page, ".article a") == ["⟨U+202E⟩"]
            # Every control character inserted, and nothing else, became a marker: the
            # author's two also in the heading of their history card.
            assert _markers(page, ".author-history h3") == ["⟨U+202E⟩", "⟨U+202C⟩"]
            assert len(_markers(page, "body")) == 8
            assert "admin" not in page.inner_text(header)
            assert page.locator(header).evaluate(DRAWN_LETTERS) == "nimda"
            drawn = page.locator("#comment .comment-text").evaluate(DRAWN_LETTERS)
            assert drawn == "Isaidyenomruoyemevigandleft"
            assert link.evaluate(DRAWN_LETTERS) == "httpsexampleorgfdpexe"
            # The address is followed as given; only its shown text is rewritten.
            assert link.get_attribute("href") == SPOOF_URL
            assert _computed(page, f"{header} > bdi", "unicodeBidi") == "isolate"
            assert _computed(page, "#comment .comment-text > bdi", "unicodeBidi") == "isolate"
            marker = page.locator("#comment .comment-text .invisible-char").first
            assert marker.is_visible()
            assert _computed(page, "#comment .comment-text .invisible-char", "direction") == "ltr"
            assert (marker.bounding_box() or {}).get("width", 0) > 10
            page.screenshot(path=str(tmp_path / "review-bidi.png"))
        finally:
            browser.close()
    assert (tmp_path / "review-bidi.png").stat().st_size > 10_000

"""The review page in Chromium, on data of its own (no ../shared needed): one case per
comment across queues, bulk decisions with their confirmation, undo, the author's
history, search and the thread filter, and a phone-sized screen.

Screenshots go to `THREADGUARD_SCREENSHOTS` when it names a folder (`make screenshots`
makes the ones in docs/), else to the test's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app import registry
from app.auth import Role
from app.policy import load_policy
from app.queue.ingest import Incoming, ThreadInfo, ingest_comments
from app.queue.keys import SqlKeyStore
from app.queue.review import Filters, history, list_items
from app.queue.store import make_engine
from tests.api.serverutil import Server, threadguard_server
from tests.browser.test_review_browser import chromium as chromium  # noqa: F401 - fixture

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from sqlalchemy.engine import Engine

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPEAT = "Repeat Offender"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LONG_TEXT = (
    "I have been reading this site for years and usually enjoy the discussion here. "
    "The council meeting went on for hours and most of it was about parking. "
    "Somebody asked about the bus timetable, somebody else about the potholes on Mill "
    "Lane, and the chair read out three letters about the new cycle path by the river. "
    "The minutes will be online next week, or so they promised us again. "
    "Then the usual people showed up and honestly they are subhuman vermin who should be "
    "driven out of this town."
)


def _scores(**values: float) -> dict[str, Any]:
    low = {"hate": 0.02, "toxic": 0.02, "conspiracy": 0.02}
    return {**low, **values}


@pytest.fixture(scope="module")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # noqa: F811
    workdir = tmp_path_factory.mktemp("cases-server")
    with threadguard_server(registry.default_model_dir(), workdir) as running:
        yield running


@pytest.fixture(scope="module")
def database(server: Server) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{server.log_path.parent / 'threadguard.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def queued(database: Engine) -> dict[str, Any]:
    """Two threads: one comment flagged hate and toxic, a long one whose evidence comes
    last, and a few toxic ones to decide in bulk; one author in both threads."""
    model = registry.load_current(registry.default_model_dir())
    policy = load_policy(None, model.thresholds)
    bridge = ThreadInfo(
        source="https://news.example/bridge",
        source_format="api",
        url="https://news.example/bridge",
        title="The new bridge",
    )
    ingest_comments(
        database,
        model,
        policy,
        bridge,
        [
            Incoming(
                "b1",
                "They are vermin and you are an idiot.",
                author=REPEAT,
                scores=_scores(hate=0.93, toxic=0.97, hate_target="jewish"),
                url="https://news.example/bridge#comment-b1",
            ),
            Incoming(
                "b2",
                LONG_TEXT,
                author="Long Writer",
                scores={
                    **_scores(hate=0.91, hate_target="other"),
                    "evidence": {
                        "hate": [
                            {
                                "text": "subhuman",
                                "start": LONG_TEXT.index("subhuman"),
                                "end": LONG_TEXT.index("subhuman") + len("subhuman"),
                                "weight": 0.9,
                            }
                        ]
                    },
                },
            ),
            *(
                Incoming(
                    f"t{n}",
                    f"You are a clown number {n}.",
                    author=f"Reader {n}",
                    scores=_scores(toxic=0.9 - n / 100),
                )
                for n in range(1, 4)
            ),
        ],
    )
    ingest_comments(
        database,
        model,
        policy,
        ThreadInfo(source="park-story", source_format="api", title="The park"),
        [Incoming("p1", "Shut up, moron.", author=REPEAT, scores=_scores(toxic=0.95))],
    )
    key = SqlKeyStore(database).create(Role.moderator, "Case Moderator")
    by_comment = {
        item["comment"]["comment_id"]: item["item_id"]
        for item in list_items(database, Filters(status=None), limit=200).items
    }
    return {"secret": key.secret, "ids": by_comment}


def _shots() -> Path | None:
    folder = os.environ.get("THREADGUARD_SCREENSHOTS")
    return Path(folder) if folder else None


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    path = (_shots() or tmp_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


def _sign_in(browser: Browser, server: Server, secret: str, viewport: dict[str, int]) -> Page:
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    page.set_default_timeout(20_000)
    page.goto(server.url + "/review/queues/hate")
    page.fill("#key", secret)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def _row(item_id: int) -> str:
    return f'[data-item][data-href^="/review/items/{item_id}?"]'


def _no_sideways_scroll(page: Page) -> None:
    sizes = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " Array.from(document.querySelectorAll('body *')).filter("
        "   (e) => e.getBoundingClientRect().right > window.innerWidth + 1"
        "   && getComputedStyle(e).position !== 'fixed'"
        " ).map((e) => e.tagName + '.' + e.className).slice(0, 5)]"
    )
    width, viewport, wider = sizes
    assert width <= viewport, f"page is {width}px wide on a {viewport}px screen: {wider}"
    assert wider == [], f"elements past the right edge: {wider}"


def test_one_case_per_comment_bulk_undo_and_author_history(
    server: Server,
    database: Engine,
    queued: dict[str, Any],
    chromium: str,
    tmp_path: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import sync_playwright

    ids = queued["ids"]
    both, long_one, park = ids["b1"], ids["b2"], ids["p1"]
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _sign_in(browser, server, queued["secret"], DESKTOP)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            # The hate list: the badge is the hate probability, the excerpt holds the
            # evidence sentence of a long comment (its opening is left out).
            page.goto(server.url + "/review/queues/hate")
            assert page.locator(f"{_row(both)} .badge").inner_text().startswith("93%")
            excerpt = page.locator(f"{_row(long_one)} .preview").inner_text()
            assert "subhuman vermin" in excerpt and "reading this site" not in excerpt
            assert page.locator(f"{_row(long_one)} .preview mark.ev-hate").count() == 1
            assert "toxic 97%" in page.locator(f"{_row(both)} .labels").inner_text()
            _shot(page, tmp_path, "review-queue.png")

            # The same comment is one case in the toxic queue too, badge its toxic score.
            page.goto(server.url + "/review/queues/toxic")
            assert page.locator(_row(both)).count() == 1
            assert page.locator(f"{_row(both)} .badge").inner_text().startswith("97%")

            # Rejected once, from the hate queue: gone from both queues.
            page.goto(f"{server.url}/review/items/{both}?queue=hate")
            assert "In 2 queues" in page.inner_text(".decide")
            history_card = page.inner_text(".author-history")
            assert REPEAT.lower() in history_card.lower() and "2 in 2 threads" in history_card
            assert page.locator('a[href="https://news.example/bridge#comment-b1"]').count() == 1
            _shot(page, tmp_path, "review-item.png")
            page.select_option("select[name=reason]", "Hate speech")
            with page.expect_navigation():
                page.keyboard.press("r")
            assert f"Item {both} rejected." in page.inner_text(".toast")
            for queue in ("hate", "toxic"):
                page.goto(f"{server.url}/review/queues/{queue}")
                assert page.locator(_row(both)).count() == 0, queue

            # The author's history now counts the rejection.
            page.goto(f"{server.url}/review/items/{park}?queue=toxic")
            card = page.inner_text(".author-history")
            assert "1 rejected" in card and "100%" in card

            # Undo from the toast: reject, then u, and the case is open again.
            with page.expect_navigation():
                page.keyboard.press("r")
            assert f"Item {park} rejected." in page.inner_text(".toast")
            with page.expect_navigation():
                page.keyboard.press("u")
            assert f"Item {park} reopened." in page.inner_text(".toast")
            page.goto(server.url + "/review/queues/toxic")
            assert page.locator(_row(park)).count() == 1

            # Search by text and by author; the thread filter.
            page.fill("input[name=q]", "clown")
            with page.expect_navigation():
                page.press("input[name=q]", "Enter")
            assert page.locator("[data-item]").count() == 3
            page.goto(server.url + "/review/queues/toxic?author=" + REPEAT.replace(" ", "+"))
            assert page.locator("[data-item]").count() == 1
            page.goto(server.url + "/review/queues/toxic")
            page.select_option("select[name=thread]", label="The park (1 open)")
            with page.expect_navigation():
                page.click("form.search button[type=submit]")
            assert page.locator("[data-item]").count() == 1

            # Bulk: x selects rows, R asks first, y confirms; all three clowns rejected.
            page.goto(server.url + "/review/queues/toxic?q=clown")
            for _ in range(3):
                page.keyboard.press("j")
                page.keyboard.press("x")
            assert page.inner_text("[data-selected-count]") == "3 selected"
            with page.expect_navigation():
                page.keyboard.press("R")
            assert "Reject 3 items?" in page.inner_text("h1")
            _shot(page, tmp_path, "review-bulk-confirm.png")
            with page.expect_navigation():
                page.keyboard.press("y")
            assert "3 items rejected." in page.inner_text(".toast")
            assert page.locator("[data-item]").count() == 0

            # Undo of the bulk decision reopens all three.
            with page.expect_navigation():
                page.click("[data-undo] button")
            assert "3 items reopened." in page.inner_text(".toast")
            assert page.locator("[data-item]").count() == 3
        finally:
            browser.close()

    assert dialogs == []
    decided = history(database, both)
    assert [(d["action"], d["queue"], d["reason"]) for d in decided] == [
        ("reject", "hate", "Hate speech")
    ]
    assert [d["action"] for d in history(database, park)] == ["reject", "reopen"]
    for n in range(1, 4):
        assert [d["action"] for d in history(database, ids[f"t{n}"])] == ["reject", "reopen"]


@pytest.mark.parametrize("where", ["queue", "item", "overview", "bulk"])
def test_nothing_overflows_a_phone_screen(
    server: Server,
    queued: dict[str, Any],
    chromium: str,
    tmp_path: Path,
    where: str,  # noqa: F811
) -> None:
    from playwright.sync_api import sync_playwright

    ids = queued["ids"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            page = _sign_in(browser, server, queued["secret"], PHONE)
            if where == "queue":
                page.goto(server.url + "/review/queues/toxic?status=all")
            elif where == "item":
                page.goto(f"{server.url}/review/items/{ids['b2']}?queue=hate&status=all")
            elif where == "overview":
                page.goto(server.url + "/review")
            else:
                page.goto(server.url + "/review/queues/toxic?status=all")
                page.locator("[data-pick]").first.check()
                with page.expect_navigation():
                    page.click("button[data-bulk=A]")
                assert "Approve 1 item?" in page.inner_text("h1")
            # Every tab is on screen, the last one (Uncertain) included.
            tab = page.locator(".tabs .tab").last
            box = tab.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
            _no_sideways_scroll(page)
            _shot(page, tmp_path, f"review-{where}-phone.png")
        finally:
            browser.close()

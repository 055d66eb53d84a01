"""The review page: sign-in, sessions, CSRF, decisions through forms, escaping, headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.api.app import create_app
from app.api.review_view import Segment, evidence_segments, safe_link
from app.api.routes.review import LOGIN_COOKIE, SESSION_COOKIE
from app.auth import Role
from app.config import Settings
from app.policy import load_policy
from app.queue.ingest import Incoming, ThreadInfo, ingest_comments
from app.queue.keys import SqlKeyStore
from app.queue.review import Filters, decide, get_item, history, list_items
from app.queue.sessions import create_session, delete_session, session_key

if TYPE_CHECKING:
    from app.registry import LoadedModel

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
URL = "javascript:alert(1)"
HATE_TEXT = f"{SCRIPT} those vermin ruin everything"
VERMIN = HATE_TEXT.index("vermin")


def scores(**values: Any) -> dict[str, Any]:
    """A pre-scored row: every head low unless given."""
    row: dict[str, Any] = {"hate": 0.01, "toxic": 0.01, "conspiracy": 0.01}
    row.update(values)
    for head in ("hate", "toxic", "conspiracy"):
        row[f"{head}_flag"] = row[head] >= 0.5
    return row


@pytest.fixture
def seeded(engine: Engine, tiny_model: LoadedModel) -> dict[str, int]:
    """Two hate items (the first with XSS payloads everywhere), a toxic one, a calm reply."""
    policy = load_policy(None, {"hate": 0.5, "toxic": 0.5, "conspiracy": 0.5})
    info = ThreadInfo(source="xss-thread", source_format="api", url=URL, title=f"News {SCRIPT}")
    evidence = {"hate": [{"text": "vermin", "start": VERMIN, "end": VERMIN + 6, "weight": 2.0}]}
    incoming = [
        Incoming(
            "c1",
            HATE_TEXT,
            author=ATTRIBUTE,
            scores=scores(hate=0.95, hate_target="jewish", evidence=evidence),
        ),
        Incoming("c2", "agreed, all of them", parent_id="c1", scores=scores(hate=0.8)),
        Incoming("c3", "you absolute fool", scores=scores(toxic=0.9)),
        Incoming("c4", f"calm words {ATTRIBUTE}", parent_id="c1", scores=scores()),
    ]
    ingest_comments(engine, tiny_model, policy, info, incoming)
    return {
        f"{i['queue']}:{i['comment']['comment_id']}": i["item_id"]
        for i in list_items(engine, Filters(status=None)).items
    }


@pytest.fixture
def client(migrated_url: str, engine: Engine, tiny_model: LoadedModel) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=migrated_url), model=tiny_model, engine=engine)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def key_secrets(engine: Engine) -> dict[str, str]:
    store = SqlKeyStore(engine)
    return {
        role.value: store.create(role, f"{role.value} person").secret
        for role in (Role.scorer, Role.moderator, Role.admin)
    }


def login_csrf(client: TestClient) -> str:
    page = client.get("/review/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, secret: str) -> Any:
    return client.post(
        "/review/login",
        data={"key": secret, "csrf": login_csrf(client), "next": ""},
        follow_redirects=False,
    )


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def item_version(html: str) -> int:
    found = re.search(r'name="item_version" value="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


@pytest.fixture
def moderator(client: TestClient, key_secrets: dict[str, str]) -> TestClient:
    assert sign_in(client, key_secrets["moderator"]).status_code == 303
    return client


# --- sign-in ---------------------------------------------------------------------------------


def test_without_a_session_every_page_redirects_to_sign_in(client: TestClient) -> None:
    for path in ("/review", "/review/queues/hate", "/review/items/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/review/login?next=")
    posted = client.post("/review/items/1/decide", data={"action": "approve", "item_version": "1"})
    assert posted.url.path == "/review/login"


def test_a_moderator_key_signs_in_with_a_strict_http_only_cookie(
    client: TestClient, key_secrets: dict[str, str]
) -> None:
    response = sign_in(client, key_secrets["moderator"])
    assert response.status_code == 303
    assert response.headers["location"] == "/review/queues/hate"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/review" in cookie
    assert "Secure" not in cookie  # secure_cookies is off by default
    assert key_secrets["moderator"] not in cookie
    page = client.get("/review")
    assert page.status_code == 200
    assert "moderator person" in page.text


def test_secure_cookies_setting_marks_the_cookie_secure(
    migrated_url: str, engine: Engine, tiny_model: LoadedModel, key_secrets: dict[str, str]
) -> None:
    settings = Settings(database_url=migrated_url, secure_cookies=True)
    app = create_app(settings, model=tiny_model, engine=engine)
    # Over plain http a browser would not send the Secure sign-in cookie back at all.
    with TestClient(app, base_url="https://testserver") as client:
        response = sign_in(client, key_secrets["moderator"])
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith(SESSION_COOKIE + "=") and "Secure" in c for c in cookies)


def test_a_scorer_key_is_refused_with_a_clear_message(
    client: TestClient, key_secrets: dict[str, str]
) -> None:
    response = sign_in(client, key_secrets["scorer"])
    assert response.status_code == 403
    assert "scorer key" in response.text
    assert "moderator or admin key" in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_an_unknown_key_is_refused(client: TestClient) -> None:
    response = sign_in(client, "tg_000000000000_" + "A" * 43)
    assert response.status_code == 401
    assert "Unknown or revoked key" in response.text


def test_sign_in_without_the_form_token_is_refused(
    client: TestClient, key_secrets: dict[str, str]
) -> None:
    login_csrf(client)  # the cookie half is set, the form half is missing or wrong
    for token in ("", "x" * 43):
        response = client.post(
            "/review/login",
            data={"key": key_secrets["moderator"], "csrf": token},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "not sent from this site" in response.text
    client.cookies.delete(LOGIN_COOKIE, path="/review")
    response = client.post(
        "/review/login",
        data={"key": key_secrets["moderator"], "csrf": "x" * 43},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_a_cross_site_post_is_refused_even_with_the_tokens(
    client: TestClient, key_secrets: dict[str, str]
) -> None:
    token = login_csrf(client)
    response = client.post(
        "/review/login",
        data={"key": key_secrets["moderator"], "csrf": token},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/review/items/3?status=open", "/review/items/3?status=open"),
        ("https://evil.example/", "/review/queues/hate"),
        ("//evil.example/review", "/review/queues/hate"),
        ("/review/../elsewhere", "/review/queues/hate"),
        ("/reviewer", "/review/queues/hate"),
    ],
)
def test_sign_in_returns_only_to_pages_of_the_review_page(
    client: TestClient, key_secrets: dict[str, str], target: str, expected: str
) -> None:
    response = client.post(
        "/review/login",
        data={"key": key_secrets["moderator"], "csrf": login_csrf(client), "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == expected


def test_logout_ends_the_session(moderator: TestClient) -> None:
    page = moderator.get("/review")
    refused = moderator.post("/review/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    response = moderator.post(
        "/review/logout", data={"csrf": page_csrf(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/review/login"
    assert moderator.get("/review", follow_redirects=False).status_code == 303


def test_a_revoked_keys_session_stops_working(
    client: TestClient, engine: Engine, key_secrets: dict[str, str]
) -> None:
    assert sign_in(client, key_secrets["moderator"]).status_code == 303
    assert client.get("/review", follow_redirects=False).status_code == 200
    store = SqlKeyStore(engine)
    key_id = next(k.key_id for k in store.list_keys() if k.role is Role.moderator)
    store.revoke(key_id)
    response = client.get("/review", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/review/login")


# --- sessions module -------------------------------------------------------------------------


def test_sessions_store_only_a_hash_and_expire(engine: Engine) -> None:
    import sqlalchemy as sa

    from app.queue.store import review_sessions

    key = SqlKeyStore(engine).create(Role.moderator, "m").key
    token, csrf = create_session(engine, key, hours=1)
    found = session_key(engine, token)
    assert found is not None and found.key.key_id == key.key_id and found.csrf == csrf
    with engine.connect() as connection:
        stored = connection.execute(sa.select(review_sessions.c.token_sha256)).scalars().all()
    assert token not in stored and len(stored) == 1
    assert session_key(engine, token + "x") is None
    assert session_key(engine, "") is None
    assert session_key(engine, "a" * 10_000) is None
    with engine.begin() as connection:
        connection.execute(review_sessions.update().values(expires_at=key.created_at))
    assert session_key(engine, token) is None
    # A new sign-in purges expired sessions.
    create_session(engine, key, hours=1)
    with engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(review_sessions)).scalar()
            == 1
        )
    other, _ = create_session(engine, key, hours=1)
    delete_session(engine, other)
    assert session_key(engine, other) is None


# --- pages and decisions ---------------------------------------------------------------------


def test_the_hate_queue_lists_its_items_most_urgent_first(
    moderator: TestClient, seeded: dict[str, int]
) -> None:
    page = moderator.get("/review/queues/hate")
    assert page.status_code == 200
    first = page.text.index(f"/review/items/{seeded['hate:c1']}")
    second = page.text.index(f"/review/items/{seeded['hate:c2']}")
    assert first < second
    assert f"/review/items/{seeded['toxic:c3']}" not in page.text
    assert moderator.get("/review/queues/nope").status_code == 404
    assert moderator.get("/review/queues/hate?status=bogus").status_code == 422
    assert moderator.get("/review/queues/hate?cursor=garbage").status_code == 422


def test_pagination_gives_a_next_page_link(moderator: TestClient, seeded: dict[str, int]) -> None:
    import app.api.routes.review as review_routes

    original = review_routes.PAGE_SIZE
    review_routes.PAGE_SIZE = 1
    try:
        page = moderator.get("/review/queues/hate")
        found = re.search(r'href="(/review/queues/hate\?[^"]*cursor=[^"]+)"', page.text)
        assert found is not None
        following = moderator.get(found.group(1).replace("&amp;", "&"))
    finally:
        review_routes.PAGE_SIZE = original
    assert f"/review/items/{seeded['hate:c2']}" in following.text
    assert f'data-href="/review/items/{seeded["hate:c1"]}' not in following.text


def test_the_item_page_shows_evidence_scores_and_thread(
    moderator: TestClient, seeded: dict[str, int]
) -> None:
    page = moderator.get(f"/review/items/{seeded['hate:c1']}")
    assert page.status_code == 200
    assert '<mark class="ev ev-hate strong"' in page.text
    assert ">vermin</mark>" in page.text
    assert "target jewish" in page.text
    assert "Replies (2)" in page.text
    assert "agreed, all of them" in page.text
    assert 'data-key="a"' in page.text and 'data-key="r"' in page.text
    reply = moderator.get(f"/review/items/{seeded['hate:c2']}")
    assert "In reply to" in reply.text
    assert moderator.get("/review/items/99999").status_code == 404


def test_comment_text_author_and_url_payloads_are_escaped(
    moderator: TestClient, seeded: dict[str, int]
) -> None:
    for path in ("/review/queues/hate", f"/review/items/{seeded['hate:c1']}"):
        html = moderator.get(path).text
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img" not in html
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    html = moderator.get(f"/review/items/{seeded['hate:c1']}").text
    assert f'href="{URL}' not in html
    assert URL in html  # shown as text


def test_pages_carry_the_security_headers(moderator: TestClient, seeded: dict[str, int]) -> None:
    for path in ("/review", "/review/login", f"/review/items/{seeded['hate:c1']}"):
        response = moderator.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
    html = moderator.get("/review").text
    assert "<script>" not in html and "<style" not in html and "style=" not in html


def test_static_files_are_an_allow_list(client: TestClient) -> None:
    css = client.get("/review/static/review.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/review/static/review.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    for name in ("../routes/review.py", "%2e%2e%2fapp.py", "other.js"):
        assert client.get(f"/review/static/{name}").status_code == 404


def decide_form(page_html: str, action: str, **extra: str) -> dict[str, str]:
    return {
        "action": action,
        "item_version": str(item_version(page_html)),
        "csrf": page_csrf(page_html),
        **extra,
    }


def test_a_decision_is_stored_with_the_moderator_and_the_next_item_opens(
    moderator: TestClient, engine: Engine, seeded: dict[str, int]
) -> None:
    first = seeded["hate:c1"]
    page = moderator.get(f"/review/items/{first}")
    response = moderator.post(
        f"/review/items/{first}/decide",
        data=decide_form(page.text, "reject", hate_target="muslim", note="slur"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/review/items/{seeded['hate:c2']}?")
    [stored] = history(engine, first)
    assert stored["action"] == "reject"
    assert stored["moderator"] == "moderator person"
    assert stored["labels"] == {"hate_target": "muslim"}
    assert stored["note"] == "slur"
    shown = moderator.get(response.headers["location"])
    assert f"Item {first} rejected." in shown.text
    # The last open item of the queue: afterwards the (empty) list.
    response = moderator.post(
        f"/review/items/{seeded['hate:c2']}/decide",
        data=decide_form(shown.text, "approve"),
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/review/queues/hate?")
    assert "No open items are left" in moderator.get(response.headers["location"]).text


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_decision_without_the_sessions_csrf_token_is_refused(
    moderator: TestClient, engine: Engine, seeded: dict[str, int], token: str | None
) -> None:
    item = seeded["hate:c1"]
    form = {"action": "reject", "item_version": "1"}
    if token is not None:
        form["csrf"] = token
    response = moderator.post(f"/review/items/{item}/decide", data=form)
    assert response.status_code == 403
    assert "security token" in response.text
    assert history(engine, item) == []


def test_another_sessions_csrf_token_is_refused(
    client: TestClient, engine: Engine, key_secrets: dict[str, str], seeded: dict[str, int]
) -> None:
    key = SqlKeyStore(engine).create(Role.moderator, "someone else").key
    _, other_csrf = create_session(engine, key)
    assert sign_in(client, key_secrets["moderator"]).status_code == 303
    item = seeded["hate:c1"]
    response = client.post(
        f"/review/items/{item}/decide",
        data={"action": "reject", "item_version": "1", "csrf": other_csrf},
    )
    assert response.status_code == 403
    assert history(engine, item) == []


def test_a_stale_decision_shows_the_current_state(
    moderator: TestClient, engine: Engine, seeded: dict[str, int], key_secrets: dict[str, str]
) -> None:
    item = seeded["hate:c1"]
    page = moderator.get(f"/review/items/{item}")
    admin = SqlKeyStore(engine).verify(key_secrets["admin"])
    assert admin is not None
    decide(engine, item, action="approve", item_version=1, key=admin)
    response = moderator.post(f"/review/items/{item}/decide", data=decide_form(page.text, "reject"))
    assert response.status_code == 409
    assert "Someone decided this item while you were looking at it" in response.text
    assert "now approved (version 2)" in response.text
    assert "&#39;reject&#39; was not saved" in response.text
    assert [d["action"] for d in history(engine, item)] == ["approve"]
    assert get_item(engine, item)["status"] == "approved"


def test_an_escalated_item_is_refused_to_a_moderator_with_a_message(
    moderator: TestClient, engine: Engine, seeded: dict[str, int]
) -> None:
    item = seeded["hate:c1"]
    page = moderator.get(f"/review/items/{item}")
    moderator.post(f"/review/items/{item}/decide", data=decide_form(page.text, "escalate"))
    forged = decide_form(page.text, "approve")
    forged["item_version"] = "2"
    response = moderator.post(f"/review/items/{item}/decide", data=forged)
    assert response.status_code == 403
    assert "an admin key decides it" in response.text
    assert [d["action"] for d in history(engine, item)] == ["escalate"]


def test_bad_labels_and_fields_are_refused_without_storing(
    moderator: TestClient, engine: Engine, seeded: dict[str, int]
) -> None:
    item = seeded["hate:c1"]
    page = moderator.get(f"/review/items/{item}")
    for extra in (
        {"hate": "maybe"},
        {"stance": "sideways"},
        {"hate": "no", "hate_target": "jewish"},
    ):
        response = moderator.post(
            f"/review/items/{item}/decide", data=decide_form(page.text, "reject", **extra)
        )
        assert response.status_code == 422, extra
        assert "Not saved" in response.text
    response = moderator.post(f"/review/items/{item}/decide", data=decide_form(page.text, "nope"))
    assert response.status_code == 422
    response = moderator.post(
        f"/review/items/{item}/decide", data={"csrf": page_csrf(page.text), "action": "reject"}
    )
    assert response.status_code == 422  # no item_version
    assert "text/html" in response.headers["content-type"]
    assert history(engine, item) == []


def test_a_label_correction_keeps_the_item_open_and_on_screen(
    moderator: TestClient, engine: Engine, seeded: dict[str, int]
) -> None:
    item = seeded["hate:c1"]
    page = moderator.get(f"/review/items/{item}")
    response = moderator.post(
        f"/review/items/{item}/decide",
        data=decide_form(page.text, "label", hate="no"),
        follow_redirects=False,
    )
    assert response.headers["location"].startswith(f"/review/items/{item}?")
    assert get_item(engine, item)["status"] == "open"
    assert history(engine, item)[0]["labels"] == {"hate": False}


def test_a_decision_from_the_list_returns_to_the_list(
    moderator: TestClient, engine: Engine, seeded: dict[str, int]
) -> None:
    page = moderator.get("/review/queues/toxic")
    item = seeded["toxic:c3"]
    response = moderator.post(
        f"/review/items/{item}/decide",
        data=decide_form(page.text, "approve", back="list"),
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/review/queues/toxic?")
    assert history(engine, item)[0]["action"] == "approve"


# --- helpers ---------------------------------------------------------------------------------


def test_evidence_segments_cover_the_text_and_never_hold_markup() -> None:
    text = "a <b>vile</b> word"
    start = text.index("vile")
    evidence = {
        "hate": [
            {"text": "vile", "start": start, "end": start + 4, "weight": 2.0},
            {"text": "word", "start": 14, "end": 18, "weight": 0.5},
        ],
        "toxic": [{"text": "vile", "start": start, "end": start + 4, "weight": 1.0}],
        "other": [{"text": "a", "start": 0, "end": 1, "weight": 9.0}],
    }
    segments = evidence_segments(text, evidence)
    assert "".join(s.text for s in segments) == text
    assert Segment("vile", ("hate", "toxic"), 2.0, True) in segments
    assert Segment("word", ("hate",), 0.5, False) in segments
    assert all(not s.heads or s.heads[0] in ("hate", "toxic") for s in segments)


@pytest.mark.parametrize(
    "evidence",
    [
        None,
        "nonsense",
        {"hate": [{"start": 5, "end": 2}]},
        {"hate": [{"start": 0, "end": 999}]},
        {"hate": [{"start": "0", "end": "3"}]},
        {"hate": ["x"]},
    ],
)
def test_evidence_that_does_not_fit_the_text_is_ignored(evidence: Any) -> None:
    assert evidence_segments("some text", evidence) == [Segment("some text")]


def test_overlapping_spans_keep_the_first() -> None:
    evidence = {
        "hate": [
            {"start": 0, "end": 4, "weight": 1.0},
            {"start": 2, "end": 6, "weight": 1.0},
        ]
    }
    assert [s.text for s in evidence_segments("abcdefgh", evidence)] == ["abcd", "efgh"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("http://example.org", "http://example.org"),
        ("javascript:alert(1)", None),
        (" JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//example.org", None),
        (None, None),
    ],
)
def test_only_http_addresses_become_links(url: Any, expected: str | None) -> None:
    assert safe_link(url) == expected

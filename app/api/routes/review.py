"""The review page: server-rendered HTML under /review for moderators working the queue.

Sign-in takes a moderator or admin API key once and gives an HttpOnly, SameSite=Strict
session cookie scoped to /review; the key itself is never kept by the browser. Every form
carries a CSRF token compared in constant time: the session's own token once signed in,
and before that a double-submit token (the same random value in a cookie and in the form),
so a page on another site can neither sign a moderator in under its own key nor post a
decision. Browsers that say where a POST came from (`Sec-Fetch-Site`) are also refused
when it came from another site.

Every page is rendered by Jinja2 with autoescaping on; comment text is only ever passed
as text (evidence highlights are built as a list of text segments here, never as HTML).
Every string that came from outside (authors, comments, titles, addresses, labels, notes)
goes through the `untrusted` filter (app.api.display): escaped, isolated from the page's
own text, and with bidi controls and invisible characters shown as visible markers.
The Content-Security-Policy admits scripts and styles only from /review/static, so even
markup that slipped through could not run.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from app.api.deps import ServicesDep
from app.api.display import untrusted, untrusted_text
from app.api.errors import shown
from app.api.review_view import (
    HEADS,
    QUEUE_TITLES,
    REPLY_WORDS,
    STANCE_WORDS,
    evidence_segments,
    excerpt_segments,
    label_rows,
    percent,
    reply_words,
    safe_link,
    score_rows,
    stance_words,
    uncertain_words,
    when,
)
from app.auth import ApiKey, Role
from app.errors import AppError
from app.features import topic_of
from app.heads import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS
from app.queue import review
from app.queue.sessions import create_session, delete_session, session_key
from app.queue.store import ITEM_STATUSES, QUEUE_NAMES

SESSION_COOKIE: Final = "tg_review"
LOGIN_COOKIE: Final = "tg_review_login"
COOKIE_PATH: Final = "/review"
LOGIN_CSRF_SECONDS: Final = 3600
PAGE_SIZE: Final = 25
STATUS_FILTERS: Final = (*ITEM_STATUSES, "all")
ORDERS: Final[dict[str, review.Order]] = {
    "priority": "priority",
    "newest": "newest",
    "oldest": "oldest",
}
# The files the page loads, and nothing else under the static route.
STATIC_TYPES: Final = {
    "review.css": "text/css; charset=utf-8",
    "review.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Where a sign-in may send the browser afterwards: a path of this page, nothing else.
_NEXT_PATH = re.compile(r"/review(/[A-Za-z0-9_\-/.]*)?(\?[A-Za-z0-9_\-=&%.]*)?")
_TEMPLATES_DIR: Final = Path(__file__).resolve().parent.parent / "templates"
_STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
_LABEL_CHOICES: Final = {"": None, "yes": True, "no": False}


class _ReviewRoute(APIRoute):
    """Errors become HTML pages (not the API's JSON) and every response gets the headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError as exc:
                response = _error_page(422, "The form was not filled in as expected.", exc)
            except AppError as exc:
                response = _error_page(exc.status_code, shown(exc))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            # Pages show comment text and a CSRF token: never keep them in a cache.
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handle


router = APIRouter(prefix="/review", include_in_schema=False, route_class=_ReviewRoute)


@functools.cache
def _static_version(name: str) -> str:
    return hashlib.sha256((_STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The address of a static file, with its content hash so browsers may cache it."""
    return f"/review/static/{name}?v={_static_version(name)}"


@functools.cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES_DIR),
        # Every template is HTML: escape everything that is not marked safe, and nothing is.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.globals["queue_names"] = QUEUE_NAMES
    env.globals["queue_titles"] = QUEUE_TITLES
    env.globals["stance_words"] = STANCE_WORDS
    env.globals["reply_words"] = REPLY_WORDS
    env.filters["when"] = when
    env.filters["percent"] = percent
    env.filters["untrusted"] = untrusted
    env.filters["untrusted_text"] = untrusted_text
    return env


def _page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("me", None)
    context.setdefault("csrf", "")
    context.setdefault("counts", {})
    context.setdefault("count_cap", review.OPEN_COUNT_CAP)
    context.setdefault("current_queue", None)
    html = _templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code)


def _error_page(
    status_code: int, message: str, exc: RequestValidationError | None = None
) -> HTMLResponse:
    details = []
    if exc is not None:
        for error in exc.errors()[:5]:
            where = ".".join(str(part) for part in error.get("loc", ())[1:])
            details.append(f"{where}: {error.get('msg', '')}")
    return _page("error.html", status_code, status=status_code, message=message, details=details)


# --- sessions and CSRF ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reviewer:
    """The signed-in moderator of a request."""

    key: ApiKey
    csrf: str


def _reviewer(request: Request, engine: Engine) -> Reviewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = session_key(engine, token)
    if found is None or not found.key.role.allows(Role.moderator):
        return None
    return Reviewer(found.key, found.csrf)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    response = RedirectResponse(f"/review/login?next={quote(target, safe='')}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        # A stale cookie (expired, signed out elsewhere, key revoked) is dropped.
        _drop_cookie(response, SESSION_COOKIE)
    return response


def _set_cookie(response: Response, name: str, value: str, *, seconds: int, secure: bool) -> None:
    """Every cookie of the page: HttpOnly, SameSite=Strict, limited to /review."""
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def _drop_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict")


def _same_token(given: str, expected: str) -> bool:
    return (
        bool(given)
        and bool(expected)
        and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    )


def _from_elsewhere(request: Request) -> bool:
    """Whether the browser says this request was started by another site."""
    site = request.headers.get("sec-fetch-site")
    return site is not None and site not in ("same-origin", "none")


def _forbidden(message: str) -> HTMLResponse:
    return _page("error.html", 403, status=403, message=message, details=[])


_CSRF_MESSAGE: Final = (
    "This form was not sent from a page of this review session (its security token is "
    "missing or wrong), so nothing was done. Reload the page and try again."
)


def _safe_next(value: str | None) -> str:
    if value and _NEXT_PATH.fullmatch(value) and "//" not in value and "/.." not in value:
        return value
    return "/review/queues/hate"


def _queue_url(queue: str, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/review/queues/{queue}" + (f"?{urlencode(query)}" if query else "")


def _item_url(item_id: int, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "", "open")}
    return f"/review/items/{item_id}" + (f"?{urlencode(query)}" if query else "")


def _status_filter(status: str) -> str | None:
    if status not in STATUS_FILTERS:
        raise review.InvalidDecision(
            f"status must be one of {', '.join(STATUS_FILTERS)}, not {status!r}", field="status"
        )
    return None if status == "all" else status


_PAST: Final = {
    "approve": "approved",
    "reject": "rejected",
    "escalate": "escalated",
    "label": "relabelled",
    "reopen": "reopened",
}
# `done` and `v` of a redirect after a decision: the cases decided and their new versions.
_ID_LIST = re.compile(r"[1-9][0-9]{0,9}(,[1-9][0-9]{0,9}){0,199}")


@dataclass(frozen=True, slots=True)
class Toast:
    """What the page says after a decision, and the undo it offers (item id, version)."""

    message: str
    undo: tuple[tuple[int, int], ...] = ()


def _ids(value: str | None) -> list[int]:
    return [int(part) for part in value.split(",")] if value and _ID_LIST.fullmatch(value) else []


def _toast(
    done: str | None, did: str | None, versions: str | None, failed: int, *, is_admin: bool
) -> Toast | None:
    ids = _ids(done)
    if not ids or did not in _PAST:
        return None
    verb = _PAST[str(did)]
    message = f"Item {ids[0]} {verb}." if len(ids) == 1 else f"{len(ids)} items {verb}."
    if failed:
        message += (
            f" {failed} {'was' if failed == 1 else 'were'} not: someone decided "
            f"{'it' if failed == 1 else 'them'} first or {'it is' if failed == 1 else 'they are'}"
            " no longer open."
        )
    seen = _ids(versions)
    # Undo reopens what was just decided; an escalation only an admin may take back.
    undoable = did in ("approve", "reject") or (did == "escalate" and is_admin)
    if not undoable or len(seen) != len(ids):
        return Toast(message)
    return Toast(message, tuple(zip(ids, seen, strict=True)))


def _undo_value(undo: Iterable[tuple[int, int]]) -> list[str]:
    return [f"{item_id}:{version}" for item_id, version in undo]


# --- pages -----------------------------------------------------------------------------------


@router.get("/static/{name}")
def static_file(name: str, v: str | None = None) -> Response:
    """The page's stylesheet and script (an allow-list, no directory is served)."""
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        return _page("error.html", 404, status=404, message="No such file.", details=[])
    content = (_STATIC_DIR / name).read_bytes()
    cache = "public, max-age=31536000, immutable" if v == _static_version(name) else "no-cache"
    return Response(content, media_type=media_type, headers={"Cache-Control": cache})


@router.get("")
def overview(request: Request, services: ServicesDep) -> Response:
    """Open items per queue, or the sign-in page."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    summary = review.stats(services.engine)
    return _page(
        "overview.html",
        me=who.key,
        csrf=who.csrf,
        counts=summary.open_by_queue,
        stats=summary,
    )


@router.get("/login")
def login_form(request: Request, services: ServicesDep, next: str | None = None) -> Response:
    """The sign-in form."""
    target = _safe_next(next)
    if _reviewer(request, services.engine) is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, services.settings.secure_cookies, target)


def _login_page(
    request: Request,
    secure: bool,
    target: str,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    # Reuse the pending token so two open sign-in tabs both work.
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if not re.fullmatch(r"[A-Za-z0-9_\-]{43}", token):
        token = secrets.token_urlsafe(32)
    response = _page("login.html", status_code, login_csrf=token, next=target, error=error)
    _set_cookie(response, LOGIN_COOKIE, token, seconds=LOGIN_CSRF_SECONDS, secure=secure)
    return response


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check a moderator key and start a session."""
    secure = services.settings.secure_cookies
    target = _safe_next(next)
    if _from_elsewhere(request) or not _same_token(csrf, request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(
            request,
            secure,
            target,
            status_code=403,
            error="The sign-in form expired or was not sent from this site. Try again.",
        )
    found = services.keys.verify(key.strip())
    if found is None:
        return _login_page(
            request, secure, target, status_code=401, error="Unknown or revoked key."
        )
    if not found.role.allows(Role.moderator):
        return _login_page(
            request,
            secure,
            target,
            status_code=403,
            error=(
                f"Key {found.key_id} is a {found.role.value} key: it may score comments but "
                "not review the queue. Sign in with a moderator or admin key "
                "(threadguard keys create --role moderator)."
            ),
        )
    session = create_session(services.engine, found, hours=services.settings.session_hours)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(
        response,
        SESSION_COOKIE,
        session.token,
        seconds=int(services.settings.session_hours * 3600),
        secure=secure,
    )
    _drop_cookie(response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """End the session."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if _from_elsewhere(request) or not _same_token(csrf, who.csrf):
        return _forbidden(_CSRF_MESSAGE)
    delete_session(services.engine, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/review/login", status_code=303)
    _drop_cookie(response, SESSION_COOKIE)
    return response


def _thread_filter(value: str | None) -> int | None:
    if value is None or not value.isdigit() or not 0 < int(value) < 2**31:
        return None
    return int(value)


def _search(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("/queues/{queue}")
def queue_page(
    request: Request,
    services: ServicesDep,
    queue: str,
    status: Annotated[str, Query(max_length=16)] = "open",
    order: Annotated[str, Query(max_length=16)] = "priority",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    q: Annotated[str | None, Query(max_length=review.SEARCH_MAX_CHARS)] = None,
    author: Annotated[str | None, Query(max_length=review.SEARCH_MAX_CHARS)] = None,
    thread: Annotated[str | None, Query(max_length=12)] = None,
    done: Annotated[str | None, Query(max_length=2_200)] = None,
    did: Annotated[str | None, Query(max_length=16)] = None,
    v: Annotated[str | None, Query(max_length=2_200)] = None,
    failed: Annotated[int, Query(ge=0, le=review.BULK_MAX)] = 0,
) -> Response:
    """One queue's cases, most urgent first, a page at a time; search and thread filter."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if queue not in QUEUE_NAMES:
        return _page(
            "error.html", 404, status=404, message=f"No queue is called {queue!r}.", details=[]
        )
    wanted = _status_filter(status)
    chosen = ORDERS.get(order, "priority")
    text, by_author, thread_id = _search(q), _search(author), _thread_filter(thread)
    kept: dict[str, Any] = {"q": text, "author": by_author, "thread": thread_id}
    page = review.list_items(
        services.engine,
        review.Filters(
            queue=queue, status=wanted, text=text, author=by_author, thread_id=thread_id
        ),
        order=chosen,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    counts = review.open_count(services.engine)
    is_admin = who.key.role.allows(Role.admin)
    toast = _toast(done, did, v, failed, is_admin=is_admin)
    if toast and wanted == "open" and counts.get(queue, 0) == 0:
        toast = Toast(toast.message + " No open items are left in this queue.", toast.undo)
    threads = review.threads_with_open(services.engine)
    chosen_thread = next((t for t in threads if t["thread_id"] == kept["thread"]), None)
    if kept["thread"] is not None and chosen_thread is None:
        chosen_thread = {"thread_id": kept["thread"], "title": None, "source": None, "open": 0}
        threads = [chosen_thread, *threads]
    rows = [
        {
            "it": it,
            "excerpt": excerpt_segments(
                it["comment"]["excerpt"], it["comment"]["excerpt_evidence"]
            ),
            "badge": _badge(it),
        }
        for it in page.items
    ]
    return _page(
        "queue.html",
        me=who.key,
        csrf=who.csrf,
        counts=counts,
        current_queue=queue,
        queue=queue,
        queue_title=QUEUE_TITLES[queue],
        status=status,
        statuses=STATUS_FILTERS,
        order=chosen,
        orders=list(ORDERS),
        page=page,
        rows=rows,
        first_page=cursor is None,
        toast=toast,
        undo_value=_undo_value,
        kept=kept,
        threads=threads,
        searching=any(value is not None for value in kept.values()),
        next_url=(
            _queue_url(queue, status=status, order=chosen, cursor=page.next_cursor, **kept)
            if page.next_cursor
            else None
        ),
        first_url=_queue_url(queue, status=status, order=chosen, **kept),
        clear_url=_queue_url(queue, status=status, order=chosen),
        queue_url=_queue_url,
        item_url=_item_url,
        is_admin=is_admin,
        reasons=services.settings.reasons,
        uncertain=queue == "uncertain",
        uncertain_words=uncertain_words,
    )


def _badge(it: Mapping[str, Any]) -> dict[str, Any]:
    """The list's big number: the probability of the head that put the case in this queue
    (for a report, the highest of the case's flags), not its priority."""
    head = it.get("head")
    p = it.get("probability")
    if p is None:
        flagged = [r for r in it.get("reasons", []) if r.get("probability") is not None]
        if flagged:
            best = max(flagged, key=lambda r: r["probability"])
            head, p = best.get("head"), best["probability"]
    return {"head": head, "text": percent(p), "p": p}


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    services: ServicesDep,
    item_id: int,
    queue: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[str, Query(max_length=16)] = "open",
    done: Annotated[str | None, Query(max_length=2_200)] = None,
    did: Annotated[str | None, Query(max_length=16)] = None,
    v: Annotated[str | None, Query(max_length=2_200)] = None,
) -> Response:
    """One case: the comment with its evidence, reasons, scores, thread, author and history."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    toast = _toast(done, did, v, 0, is_admin=who.key.role.allows(Role.admin))
    return _item_response(request, services, who, item_id, status, queue, toast=toast)


def _item_response(
    request: Request,
    services: ServicesDep,
    who: Reviewer,
    item_id: int,
    status: str,
    queue: str | None,
    *,
    toast: Toast | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    wanted = _status_filter(status)
    engine = services.engine
    item = review.get_item(engine, item_id, queue=queue if queue in QUEUE_NAMES else None)
    here = str(item["queue"])
    scores: Mapping[str, Any] = item["comment"].get("scores") or {}
    place, total = review.position(engine, item_id, here, wanted)
    previous_id = review.neighbour(engine, item_id, here, wanted, -1)
    next_id = review.neighbour(engine, item_id, here, wanted, 1)
    context = item["context"]
    is_admin = who.key.role.allows(Role.admin)
    # Decided items may be reopened; an escalated one only by an admin (as `decide` checks).
    can_decide = item["status"] in ("open", "approved", "rejected") or (
        item["status"] == "escalated" and is_admin
    )
    topic = topic_of(item["thread"].get("title"), item["thread"].get("article_excerpt"))
    return _page(
        "item.html",
        status_code,
        me=who.key,
        csrf=who.csrf,
        counts=review.open_count(engine),
        current_queue=here,
        queue_title=QUEUE_TITLES[here],
        item=item,
        status=status,
        place=place,
        total=total,
        previous_url=_item_url(previous_id, queue=here, status=status) if previous_id else None,
        next_url=_item_url(next_id, queue=here, status=status) if next_id else None,
        queue_url=_queue_url(here, status=status),
        item_url=_item_url,
        author_url=(
            _queue_url(here, status="all", author=item["comment"]["author"])
            if item["comment"]["author"]
            else None
        ),
        thread_url=_queue_url(here, status=status, thread=item["thread"]["thread_id"]),
        segments=evidence_segments(item["comment"]["text"], scores.get("evidence")),
        evidence=_evidence_lists(scores.get("evidence")),
        scores=scores,
        score_rows=score_rows(scores, services.model.thresholds, item["flags"]),
        stance_rows=label_rows(scores, "stance", STANCE_LABELS),
        reply_rows=label_rows(scores, "reply_stance", REPLY_LABELS),
        stance_text=stance_words(scores.get("stance"), topic),
        reply_text=reply_words(
            scores.get("reply_stance"), to_article=item["comment"].get("parent_id") is None
        ),
        uncertain_text=uncertain_words(item["head"]) if here == "uncertain" else None,
        ancestors=context["ancestors"],
        siblings=context["siblings"],
        replies=context["replies"],
        thread_link=safe_link(item["thread"].get("url")),
        comment_link=safe_link(item["comment"].get("url")),
        toast=toast,
        undo_value=_undo_value,
        problem=problem,
        can_decide=can_decide,
        is_admin=is_admin,
        hate_targets=HATE_TARGETS,
        stance_labels=STANCE_LABELS,
        reply_labels=REPLY_LABELS,
        reasons=services.settings.reasons,
    )


def _evidence_lists(evidence: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    out: list[tuple[str, list[dict[str, Any]]]] = []
    if not isinstance(evidence, Mapping):
        return out
    for head in HEADS:
        entries = evidence.get(head)
        if isinstance(entries, list) and entries:
            words = [
                {"text": str(e.get("text", "")), "weight": e.get("weight")}
                for e in entries
                if isinstance(e, Mapping)
            ]
            out.append((head, words))
    return out


def _choice(value: str, name: str) -> bool | None:
    if value not in _LABEL_CHOICES:
        raise review.InvalidDecision(f"{name} must be yes, no or empty, not {value!r}", field=name)
    return _LABEL_CHOICES[value]


def _reason(picked: str, other: str) -> str | None:
    """The reason given: the one typed, else the one picked from the list."""
    return other.strip() or picked.strip() or None


@router.post("/items/{item_id}/decide")
def decide_item(
    request: Request,
    services: ServicesDep,
    item_id: int,
    action: Annotated[str, Form(max_length=16)],
    item_version: Annotated[int, Form(ge=1)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    queue: Annotated[str, Form(max_length=16)] = "",
    status: Annotated[str, Form(max_length=16)] = "open",
    back: Annotated[str, Form(max_length=8)] = "item",
    reason: Annotated[str, Form(max_length=200)] = "",
    reason_other: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    hate: Annotated[str, Form(max_length=8)] = "",
    hate_target: Annotated[str, Form(max_length=32)] = "",
    toxic: Annotated[str, Form(max_length=8)] = "",
    conspiracy: Annotated[str, Form(max_length=8)] = "",
    stance: Annotated[str, Form(max_length=32)] = "",
    reply_stance: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record a decision, then show the next open case of the same queue."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if _from_elsewhere(request) or not _same_token(csrf, who.csrf):
        return _forbidden(_CSRF_MESSAGE)
    wanted = _status_filter(status)
    context = queue if queue in QUEUE_NAMES else None
    try:
        labels = review.Labels(
            hate=_choice(hate, "hate"),
            hate_target=hate_target or None,
            toxic=_choice(toxic, "toxic"),
            conspiracy=_choice(conspiracy, "conspiracy"),
            stance=stance or None,
            reply_stance=reply_stance or None,
        )
        decided = review.decide(
            services.engine,
            item_id,
            action=action,
            item_version=item_version,
            key=who.key,
            labels=labels,
            reason=_reason(reason, reason_other),
            note=note.strip() or None,
            queue=context,
        )
    except review.StaleDecision as exc:
        now = exc.current
        problem = (
            f"Someone decided this item while you were looking at it: it is now "
            f"{now.get('status')} (version {now.get('version')}). Your {action!r} was not "
            "saved. Here is the item as it is now."
        )
        return _item_response(
            request, services, who, item_id, status, context, problem=problem, status_code=409
        )
    except (review.DecisionRefused, review.NeedsAdmin, review.InvalidDecision) as exc:
        return _item_response(
            request,
            services,
            who,
            item_id,
            status,
            context,
            problem=f"Not saved: {exc.message}",
            status_code=exc.status_code,
        )
    here = context or str(review.get_item(services.engine, item_id)["queue"])
    done = {"done": item_id, "did": decided["action"], "v": decided["item"]["version"]}
    if back == "list":
        return RedirectResponse(_queue_url(here, status=status, **done), status_code=303)
    if decided["action"] in ("label", "reopen"):
        # The item is still to be worked: show it again with the change.
        return RedirectResponse(
            _item_url(item_id, queue=here, status=status, **done), status_code=303
        )
    following = review.neighbour(services.engine, item_id, here, wanted, 1) or review.first_item(
        services.engine, here, wanted
    )
    if following is None or following == item_id:
        return RedirectResponse(_queue_url(here, status=status, **done), status_code=303)
    return RedirectResponse(
        _item_url(following, queue=here, status=status, **done), status_code=303
    )


_SEEN = re.compile(r"([1-9][0-9]{0,9}):([1-9][0-9]{0,9})")


def _seen(values: Iterable[str]) -> list[review.Seen]:
    out: list[review.Seen] = []
    for value in values:
        match = _SEEN.fullmatch(value)
        if match is None:
            raise review.InvalidDecision(
                f"item must be ITEM:VERSION, not {value[:40]!r}", field="item"
            )
        out.append(review.Seen(int(match.group(1)), int(match.group(2))))
    return out


@router.post("/bulk")
def bulk_decide(
    request: Request,
    services: ServicesDep,
    action: Annotated[str, Form(max_length=16)],
    item: Annotated[list[str], Form(max_length=review.BULK_MAX)] = [],  # noqa: B006
    csrf: Annotated[str, Form(max_length=100)] = "",
    queue: Annotated[str, Form(max_length=16)] = "hate",
    status: Annotated[str, Form(max_length=16)] = "open",
    order: Annotated[str, Form(max_length=16)] = "priority",
    q: Annotated[str, Form(max_length=review.SEARCH_MAX_CHARS)] = "",
    author: Annotated[str, Form(max_length=review.SEARCH_MAX_CHARS)] = "",
    thread: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
    reason_other: Annotated[str, Form(max_length=200)] = "",
    confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Approve or reject a selection (after a confirmation page), or undo one (reopen)."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if _from_elsewhere(request) or not _same_token(csrf, who.csrf):
        return _forbidden(_CSRF_MESSAGE)
    here = queue if queue in QUEUE_NAMES else "hate"
    _status_filter(status)
    kept: dict[str, Any] = {
        "q": _search(q),
        "author": _search(author),
        "thread": _thread_filter(thread),
    }
    back = {"status": status, "order": ORDERS.get(order, "priority"), **kept}
    if not item:
        return RedirectResponse(_queue_url(here, **back), status_code=303)
    seen = _seen(item)
    if action in ("approve", "reject") and confirmed != "yes":
        cases = review.cases(services.engine, [s.item_id for s in seen], queue=here)
        return _page(
            "bulk.html",
            me=who.key,
            csrf=who.csrf,
            counts=review.open_count(services.engine),
            current_queue=here,
            action=action,
            verb={"approve": "Approve", "reject": "Reject"}[action],
            cases=cases,
            seen=[f"{s.item_id}:{s.item_version}" for s in seen],
            queue=here,
            back=back,
            reason=_reason(reason, reason_other) or "",
            cancel_url=_queue_url(here, **back),
        )
    results = review.decide_many(
        services.engine,
        seen,
        action=action,
        key=who.key,
        reason=_reason(reason, reason_other),
        queue=here,
    )
    made = [r for r in results if r["ok"]]
    done = ",".join(str(r["item_id"]) for r in made)
    versions = ",".join(str(r["decision"]["item"]["version"]) for r in made)
    failed = len(results) - len(made)
    target = _queue_url(
        here, **back, done=done or None, did=action, v=versions or None, failed=failed or None
    )
    return RedirectResponse(target, status_code=303)

"""The review page's machinery: templates, the route class that turns errors into pages
and adds the security headers, sessions and CSRF, the page's addresses, and the message
shown after a decision.

Sign-in takes a moderator or admin API key once and gives an HttpOnly, SameSite=Strict
session cookie scoped to /review; the key itself is never kept by the browser. Every form
carries a CSRF token compared in constant time: the session's own token once signed in,
and before that a double-submit token (the same random value in a cookie and in the form),
so a page on another site can neither sign a moderator in under its own key nor post a
decision. Browsers that say where a POST came from (`Sec-Fetch-Site`) are also refused
when it came from another site.

Every page is rendered by Jinja2 with autoescaping on; comment text is only ever passed
as text (evidence highlights are lists of text segments, never HTML). Every string that
came from outside (authors, comments, titles, addresses, labels, notes) goes through the
`untrusted` filter (app.api.display): escaped, isolated from the page's own text, and with
bidi controls and invisible characters shown as visible markers. The
Content-Security-Policy admits scripts and styles only from /review/static, so even markup
that slipped through could not run.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from app.api.display import untrusted, untrusted_text
from app.api.errors import shown
from app.api.review_view import QUEUE_TITLES, REPLY_WORDS, STANCE_WORDS, percent, when
from app.auth import ApiKey, Role
from app.errors import AppError
from app.queue import review
from app.queue.sessions import session_key
from app.queue.store import ITEM_STATUSES, QUEUE_NAMES

SESSION_COOKIE: Final = "tg_review"
LOGIN_COOKIE: Final = "tg_review_login"
COOKIE_PATH: Final = "/review"
LOGIN_CSRF_SECONDS: Final = 3600
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
_TEMPLATES_DIR: Final = Path(__file__).resolve().parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


class ReviewRoute(APIRoute):
    """Errors become HTML pages (not the API's JSON) and every response gets the headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError as exc:
                response = error_page(422, "The form was not filled in as expected.", exc)
            except AppError as exc:
                response = error_page(exc.status_code, shown(exc))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            # Pages show comment text and a CSRF token: never keep them in a cache.
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handle


@functools.cache
def static_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The address of a static file, with its content hash so browsers may cache it."""
    return f"/review/static/{name}?v={static_version(name)}"


@functools.cache
def templates() -> jinja2.Environment:
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


def render_page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("me", None)
    context.setdefault("csrf", "")
    context.setdefault("counts", {})
    context.setdefault("count_cap", review.OPEN_COUNT_CAP)
    context.setdefault("current_queue", None)
    html = templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code)


def error_page(
    status_code: int, message: str, exc: RequestValidationError | None = None
) -> HTMLResponse:
    details = []
    if exc is not None:
        for error in exc.errors()[:5]:
            where = ".".join(str(part) for part in error.get("loc", ())[1:])
            details.append(f"{where}: {error.get('msg', '')}")
    return render_page(
        "error.html", status_code, status=status_code, message=message, details=details
    )


# --- sessions and CSRF ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reviewer:
    """The signed-in moderator of a request."""

    key: ApiKey
    csrf: str


def reviewer(request: Request, engine: Engine) -> Reviewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = session_key(engine, token)
    if found is None or not found.key.role.allows(Role.moderator):
        return None
    return Reviewer(found.key, found.csrf)


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    response = RedirectResponse(f"/review/login?next={quote(target, safe='')}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        # A stale cookie (expired, signed out elsewhere, key revoked) is dropped.
        drop_cookie(response, SESSION_COOKIE)
    return response


def set_cookie(response: Response, name: str, value: str, *, seconds: int, secure: bool) -> None:
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


def drop_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict")


def same_token(given: str, expected: str) -> bool:
    return (
        bool(given)
        and bool(expected)
        and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    )


def from_elsewhere(request: Request) -> bool:
    """Whether the browser says this request was started by another site."""
    site = request.headers.get("sec-fetch-site")
    return site is not None and site not in ("same-origin", "none")


def forbidden(message: str) -> HTMLResponse:
    return render_page("error.html", 403, status=403, message=message, details=[])


CSRF_MESSAGE: Final = (
    "This form was not sent from a page of this review session (its security token is "
    "missing or wrong), so nothing was done. Reload the page and try again."
)


def safe_next(value: str | None) -> str:
    if value and _NEXT_PATH.fullmatch(value) and "//" not in value and "/.." not in value:
        return value
    return "/review/queues/hate"


def queue_url(queue: str, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/review/queues/{queue}" + (f"?{urlencode(query)}" if query else "")


def item_url(item_id: int, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "", "open")}
    return f"/review/items/{item_id}" + (f"?{urlencode(query)}" if query else "")


def status_filter(status: str) -> str | None:
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


def toast_for(
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


def undo_value(undo: Iterable[tuple[int, int]]) -> list[str]:
    return [f"{item_id}:{version}" for item_id, version in undo]

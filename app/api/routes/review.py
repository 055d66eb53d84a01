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
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from app.api.deps import ServicesDep
from app.api.display import untrusted
from app.api.errors import shown
from app.auth import ApiKey, Role
from app.errors import AppError
from app.heads import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS
from app.queue import review
from app.queue.sessions import create_session, delete_session, session_key
from app.queue.store import DECISION_ACTIONS, ITEM_STATUSES, QUEUE_NAMES

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
HEADS: Final = review.BINARY_HEADS
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


# --- evidence and labels, prepared for the templates -------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of comment text; `heads` names the flags it is evidence for (empty: plain)."""

    text: str
    heads: tuple[str, ...] = ()
    weight: float = 0.0
    strong: bool = False

    @property
    def title(self) -> str:
        """The tooltip of a highlighted word."""
        return f"evidence for {', '.join(self.heads)} (+{self.weight:.2f})"


def evidence_segments(text: str, evidence: Any) -> list[Segment]:
    """`text` cut into plain and highlighted segments by a score record's `evidence`.

    Spans outside the text, of unknown heads, or overlapping an earlier span are dropped;
    a word that is evidence for several heads is one segment naming all of them. A span
    is `strong` when its weight is at least half the largest one.
    """
    ranges: dict[tuple[int, int], tuple[list[str], float]] = {}
    if isinstance(evidence, Mapping):
        for head, entries in evidence.items():
            if head not in HEADS or not isinstance(entries, list):
                continue
            for entry in entries:
                span = _span(entry, len(text))
                if span is None:
                    continue
                start, end, weight = span
                heads, best = ranges.get((start, end), ([], 0.0))
                if head not in heads:
                    heads.append(head)
                ranges[(start, end)] = (heads, max(best, weight))
    top = max((weight for _, weight in ranges.values()), default=0.0)
    out: list[Segment] = []
    position = 0
    for (start, end), (heads, weight) in sorted(ranges.items()):
        if start < position:
            continue
        if start > position:
            out.append(Segment(text[position:start]))
        strong = top > 0 and weight >= top / 2
        out.append(Segment(text[start:end], tuple(heads), weight, strong))
        position = end
    if position < len(text) or not out:
        out.append(Segment(text[position:]))
    return out


def _span(entry: Any, length: int) -> tuple[int, int, float] | None:
    if not isinstance(entry, Mapping):
        return None
    start, end, weight = entry.get("start"), entry.get("end"), entry.get("weight", 0.0)
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return None
    if not 0 <= start < end <= length:
        return None
    return start, end, float(weight) if isinstance(weight, int | float) else 0.0


def _probability(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    p = float(value)
    return p if 0.0 <= p <= 1.0 else None


def _bar(p: float | None) -> int:
    """A probability as a width in 5 % steps: the CSP allows no inline style widths."""
    return 0 if p is None else int(round(p * 20) * 5)


def score_rows(
    scores: Mapping[str, Any], thresholds: Mapping[str, float], flags: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """One row per binary head: probability, flag, threshold and bar widths.

    A head is flagged when the score record says so or the item was queued with its flag
    (pre-scored rows may bring probabilities without flags).
    """
    queued_flags = set(flags)
    rows = []
    for head in HEADS:
        p = _probability(scores.get(head))
        threshold = thresholds.get(head)
        rows.append(
            {
                "head": head,
                "p": p,
                "flag": scores.get(f"{head}_flag") is True or head in queued_flags,
                "threshold": threshold,
                "bar": _bar(p),
                "tick": _bar(threshold),
            }
        )
    return rows


def label_rows(scores: Mapping[str, Any], name: str, labels: Iterable[str]) -> list[dict[str, Any]]:
    """The probability of every label of a multi-class head (stance, reply stance)."""
    prefix = "p_stance_" if name == "stance" else "p_reply_"
    rows = []
    for label in labels:
        p = _probability(scores.get(f"{prefix}{label}"))
        rows.append({"label": label, "p": p, "bar": _bar(p), "chosen": scores.get(name) == label})
    return rows


def safe_link(url: Any) -> str | None:
    """`url` when it is an http(s) address (and so safe in an href), else None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _percent(p: Any) -> str:
    value = _probability(p)
    return "–" if value is None else f"{value * 100:.0f}%"


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
    env.filters["when"] = _when
    env.filters["percent"] = _percent
    env.filters["untrusted"] = untrusted
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


def _flash(done: int | None, did: str | None) -> str | None:
    if done is None or did not in DECISION_ACTIONS:
        return None
    verb = {
        "approve": "approved",
        "reject": "rejected",
        "escalate": "escalated",
        "label": "relabelled",
        "reopen": "reopened",
    }[str(did)]
    return f"Item {done} {verb}."


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


@router.get("/queues/{queue}")
def queue_page(
    request: Request,
    services: ServicesDep,
    queue: str,
    status: Annotated[str, Query(max_length=16)] = "open",
    order: Annotated[str, Query(max_length=16)] = "priority",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    done: int | None = None,
    did: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One queue's items, most urgent first, a page at a time."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if queue not in QUEUE_NAMES:
        return _page(
            "error.html", 404, status=404, message=f"No queue is called {queue!r}.", details=[]
        )
    wanted = _status_filter(status)
    chosen = ORDERS.get(order, "priority")
    page = review.list_items(
        services.engine,
        review.Filters(queue=queue, status=wanted),
        order=chosen,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    counts = review.open_count(services.engine)
    flash = _flash(done, did)
    if flash and wanted == "open" and counts.get(queue, 0) == 0:
        flash += " No open items are left in this queue."
    return _page(
        "queue.html",
        me=who.key,
        csrf=who.csrf,
        counts=counts,
        current_queue=queue,
        queue=queue,
        status=status,
        statuses=STATUS_FILTERS,
        order=chosen,
        orders=list(ORDERS),
        page=page,
        first_page=cursor is None,
        flash=flash,
        next_url=(
            _queue_url(queue, status=status, order=chosen, cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
        first_url=_queue_url(queue, status=status, order=chosen),
        queue_url=_queue_url,
        item_url=_item_url,
        is_admin=who.key.role.allows(Role.admin),
    )


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    services: ServicesDep,
    item_id: int,
    status: Annotated[str, Query(max_length=16)] = "open",
    done: int | None = None,
    did: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """One item: the comment with its evidence, scores, thread and history."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    return _item_response(request, services, who, item_id, status, flash=_flash(done, did))


def _item_response(
    request: Request,
    services: ServicesDep,
    who: Reviewer,
    item_id: int,
    status: str,
    *,
    flash: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    wanted = _status_filter(status)
    engine = services.engine
    item = review.get_item(engine, item_id)
    scores: Mapping[str, Any] = item["comment"].get("scores") or {}
    place, total = review.position(engine, item_id, wanted)
    previous_id = review.neighbour(engine, item_id, wanted, -1)
    next_id = review.neighbour(engine, item_id, wanted, 1)
    context = item["context"]
    is_admin = who.key.role.allows(Role.admin)
    # Decided items may be reopened; an escalated one only by an admin (as `decide` checks).
    can_decide = item["status"] in ("open", "approved", "rejected") or (
        item["status"] == "escalated" and is_admin
    )
    return _page(
        "item.html",
        status_code,
        me=who.key,
        csrf=who.csrf,
        counts=review.open_count(engine),
        current_queue=item["queue"],
        item=item,
        status=status,
        place=place,
        total=total,
        previous_url=_item_url(previous_id, status=status) if previous_id else None,
        next_url=_item_url(next_id, status=status) if next_id else None,
        queue_url=_queue_url(item["queue"], status=status),
        segments=evidence_segments(item["comment"]["text"], scores.get("evidence")),
        evidence=_evidence_lists(scores.get("evidence")),
        scores=scores,
        score_rows=score_rows(scores, services.model.thresholds, item["flags"]),
        stance_rows=label_rows(scores, "stance", STANCE_LABELS),
        reply_rows=label_rows(scores, "reply_stance", REPLY_LABELS),
        ancestors=context["ancestors"],
        siblings=context["siblings"],
        replies=context["replies"],
        thread_link=safe_link(item["thread"].get("url")),
        flash=flash,
        problem=problem,
        can_decide=can_decide,
        is_admin=is_admin,
        hate_targets=HATE_TARGETS,
        stance_labels=STANCE_LABELS,
        reply_labels=REPLY_LABELS,
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


@router.post("/items/{item_id}/decide")
def decide_item(
    request: Request,
    services: ServicesDep,
    item_id: int,
    action: Annotated[str, Form(max_length=16)],
    item_version: Annotated[int, Form(ge=1)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    status: Annotated[str, Form(max_length=16)] = "open",
    back: Annotated[str, Form(max_length=8)] = "item",
    reason: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    hate: Annotated[str, Form(max_length=8)] = "",
    hate_target: Annotated[str, Form(max_length=32)] = "",
    toxic: Annotated[str, Form(max_length=8)] = "",
    conspiracy: Annotated[str, Form(max_length=8)] = "",
    stance: Annotated[str, Form(max_length=32)] = "",
    reply_stance: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record a decision, then show the next open item of the same queue."""
    who = _reviewer(request, services.engine)
    if who is None:
        return _to_login(request)
    if _from_elsewhere(request) or not _same_token(csrf, who.csrf):
        return _forbidden(_CSRF_MESSAGE)
    wanted = _status_filter(status)
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
            reason=reason.strip() or None,
            note=note.strip() or None,
        )
    except review.StaleDecision as exc:
        now = exc.current
        problem = (
            f"Someone decided this item while you were looking at it: it is now "
            f"{now.get('status')} (version {now.get('version')}). Your {action!r} was not "
            "saved. Here is the item as it is now."
        )
        return _item_response(
            request, services, who, item_id, status, problem=problem, status_code=409
        )
    except (review.DecisionRefused, review.NeedsAdmin, review.InvalidDecision) as exc:
        return _item_response(
            request,
            services,
            who,
            item_id,
            status,
            problem=f"Not saved: {exc.message}",
            status_code=exc.status_code,
        )
    queue = review.get_item(services.engine, item_id)["queue"]
    done = {"done": item_id, "did": decided["action"]}
    if back == "list":
        return RedirectResponse(_queue_url(queue, status=status, **done), status_code=303)
    if decided["action"] in ("label", "reopen"):
        # The item is still to be worked: show it again with the change.
        return RedirectResponse(_item_url(item_id, status=status, **done), status_code=303)
    following = review.neighbour(services.engine, item_id, wanted, 1) or review.first_item(
        services.engine, queue, wanted
    )
    if following is None or following == item_id:
        return RedirectResponse(_queue_url(queue, status=status, **done), status_code=303)
    return RedirectResponse(_item_url(following, status=status, **done), status_code=303)

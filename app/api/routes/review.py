"""The review page: server-rendered HTML under /review for moderators working the queue.

The pages' handlers; how they are kept safe (sessions, CSRF, escaping, headers) is in
`app.api.review_web`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import ServicesDep
from app.api.review_view import (
    HEADS,
    QUEUE_TITLES,
    evidence_segments,
    excerpt_segments,
    label_rows,
    percent,
    reply_words,
    safe_link,
    score_rows,
    stance_words,
    uncertain_words,
)
from app.api.review_web import (
    CSRF_MESSAGE,
    LOGIN_COOKIE,
    LOGIN_CSRF_SECONDS,
    ORDERS,
    SESSION_COOKIE,
    STATIC_DIR,
    STATIC_TYPES,
    STATUS_FILTERS,
    Reviewer,
    ReviewRoute,
    Toast,
    drop_cookie,
    forbidden,
    from_elsewhere,
    item_url,
    queue_url,
    render_page,
    reviewer,
    safe_next,
    same_token,
    set_cookie,
    static_version,
    status_filter,
    to_login,
    toast_for,
    undo_value,
)
from app.auth import Role
from app.features import topic_of
from app.heads import HATE_TARGETS, REPLY_LABELS, STANCE_LABELS
from app.queue import review
from app.queue.sessions import create_session, delete_session
from app.queue.store import QUEUE_NAMES

PAGE_SIZE: Final = 25
_LABEL_CHOICES: Final = {"": None, "yes": True, "no": False}

router = APIRouter(prefix="/review", include_in_schema=False, route_class=ReviewRoute)


# --- pages -----------------------------------------------------------------------------------


@router.get("/static/{name}")
def static_file(name: str, v: str | None = None) -> Response:
    """The page's stylesheet and script (an allow-list, no directory is served)."""
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        return render_page("error.html", 404, status=404, message="No such file.", details=[])
    content = (STATIC_DIR / name).read_bytes()
    cache = "public, max-age=31536000, immutable" if v == static_version(name) else "no-cache"
    return Response(content, media_type=media_type, headers={"Cache-Control": cache})


@router.get("")
def overview(request: Request, services: ServicesDep) -> Response:
    """Open items per queue, or the sign-in page."""
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    summary = review.stats(services.engine)
    return render_page(
        "overview.html",
        me=who.key,
        csrf=who.csrf,
        counts=summary.open_by_queue,
        stats=summary,
    )


@router.get("/login")
def login_form(request: Request, services: ServicesDep, next: str | None = None) -> Response:
    """The sign-in form."""
    target = safe_next(next)
    if reviewer(request, services.engine) is not None:
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
    response = render_page("login.html", status_code, login_csrf=token, next=target, error=error)
    set_cookie(response, LOGIN_COOKIE, token, seconds=LOGIN_CSRF_SECONDS, secure=secure)
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
    target = safe_next(next)
    if from_elsewhere(request) or not same_token(csrf, request.cookies.get(LOGIN_COOKIE, "")):
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
    set_cookie(
        response,
        SESSION_COOKIE,
        session.token,
        seconds=int(services.settings.session_hours * 3600),
        secure=secure,
    )
    drop_cookie(response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    services: ServicesDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """End the session."""
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    if from_elsewhere(request) or not same_token(csrf, who.csrf):
        return forbidden(CSRF_MESSAGE)
    delete_session(services.engine, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/review/login", status_code=303)
    drop_cookie(response, SESSION_COOKIE)
    return response


def _thread_filter(value: str | None) -> int | None:
    if value is None or not value.isdigit() or not 0 < int(value) < 2**31:
        return None
    return int(value)


def _search(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _kept(q: str | None, author: str | None, thread: str | None) -> dict[str, Any]:
    """The search and thread filter a list was shown with, carried on by its links and forms."""
    return {"q": _search(q), "author": _search(author), "thread": _thread_filter(thread)}


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
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    if queue not in QUEUE_NAMES:
        return render_page(
            "error.html", 404, status=404, message=f"No queue is called {queue!r}.", details=[]
        )
    wanted = status_filter(status)
    chosen = ORDERS.get(order, "priority")
    kept = _kept(q, author, thread)
    text, by_author, thread_id = kept["q"], kept["author"], kept["thread"]
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
    toast = toast_for(done, did, v, failed, is_admin=is_admin)
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
    return render_page(
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
        undo_value=undo_value,
        kept=kept,
        threads=threads,
        searching=any(value is not None for value in kept.values()),
        next_url=(
            queue_url(queue, status=status, order=chosen, cursor=page.next_cursor, **kept)
            if page.next_cursor
            else None
        ),
        first_url=queue_url(queue, status=status, order=chosen, **kept),
        clear_url=queue_url(queue, status=status, order=chosen),
        queue_url=queue_url,
        item_url=item_url,
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
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    toast = toast_for(done, did, v, 0, is_admin=who.key.role.allows(Role.admin))
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
    wanted = status_filter(status)
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
    return render_page(
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
        previous_url=item_url(previous_id, queue=here, status=status) if previous_id else None,
        next_url=item_url(next_id, queue=here, status=status) if next_id else None,
        queue_url=queue_url(here, status=status),
        item_url=item_url,
        author_url=(
            queue_url(here, status="all", author=item["comment"]["author"])
            if item["comment"]["author"]
            else None
        ),
        thread_url=queue_url(here, status=status, thread=item["thread"]["thread_id"]),
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
        undo_value=undo_value,
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
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    if from_elsewhere(request) or not same_token(csrf, who.csrf):
        return forbidden(CSRF_MESSAGE)
    wanted = status_filter(status)
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
        return RedirectResponse(queue_url(here, status=status, **done), status_code=303)
    if decided["action"] in ("label", "reopen"):
        # The item is still to be worked: show it again with the change.
        return RedirectResponse(
            item_url(item_id, queue=here, status=status, **done), status_code=303
        )
    following = review.neighbour(services.engine, item_id, here, wanted, 1) or review.first_item(
        services.engine, here, wanted
    )
    if following is None or following == item_id:
        return RedirectResponse(queue_url(here, status=status, **done), status_code=303)
    return RedirectResponse(item_url(following, queue=here, status=status, **done), status_code=303)


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
    who = reviewer(request, services.engine)
    if who is None:
        return to_login(request)
    if from_elsewhere(request) or not same_token(csrf, who.csrf):
        return forbidden(CSRF_MESSAGE)
    here = queue if queue in QUEUE_NAMES else "hate"
    status_filter(status)
    kept = _kept(q, author, thread)
    back = {"status": status, "order": ORDERS.get(order, "priority"), **kept}
    if not item:
        return RedirectResponse(queue_url(here, **back), status_code=303)
    seen = _seen(item)
    if action in ("approve", "reject") and confirmed != "yes":
        cases = review.cases(services.engine, [s.item_id for s in seen], queue=here)
        return render_page(
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
            cancel_url=queue_url(here, **back),
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
    target = queue_url(
        here, **back, done=done or None, did=action, v=versions or None, failed=failed or None
    )
    return RedirectResponse(target, status_code=303)

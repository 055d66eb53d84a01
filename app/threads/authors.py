"""Author names as pages show them, made into names; and linkbacks told from comments.

Comment themes put more than the name into the author element: the theme's verb of
saying after it ("Anna sagt:", "Bob says:"), and sometimes the date or permalink. The
HTML parsers first read the name by structure (see `htmlutil`); what is left is cleaned
here with `SAYING_VERBS`, which is the one list of those verbs.
"""

from __future__ import annotations

import re

from app.domain import CommentKind
from app.threads.dates import DATE_RE

SAYING_VERBS: tuple[str, ...] = (
    # English
    "says",
    "said",
    "wrote",
    "writes",
    "commented",
    # German
    "sagt",
    "sagte",
    "schreibt",
    "schrieb",
    "meint",
    # French
    "dit",
    "a dit",
    "écrit",
    "a écrit",
    # Spanish and Italian ("dice" is both)
    "dice",
    "dijo",
    "escribe",
    "escribió",
    "comenta",
    "ha detto",
    "scrive",
    "ha scritto",
    # Dutch
    "zegt",
    "schrijft",
    "schreef",
    # Portuguese
    "diz",
    "disse",
    "escreve",
    "escreveu",
    # Polish
    "pisze",
    "napisał",
    "napisała",
    "mówi",
    # Russian
    "пишет",
    "написал",
    "написала",
    "говорит",
)
"""The verbs themes print after the commenter's name, in English, German, French,
Spanish, Italian, Dutch, Portuguese, Polish and Russian."""

_VERBS = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(SAYING_VERBS, key=len)[::-1])
# The verb follows the name. With a colon (or "…") after it, any case and a date after
# that are accepted ("Bob Says: March 3, 2024"); without one, only the lowercase form a
# theme prints, so that a name such as "Master Dice" is left alone.
_VERB_COLON_RE = re.compile(
    rf"\s+(?:{_VERBS})\s*(?::|\.\.\.|…)(?P<rest>.*)$", re.IGNORECASE | re.DOTALL
)
_VERB_BARE_RE = re.compile(rf"\s+(?:{_VERBS})\s*$")
# Day-first dates as German, Dutch and Polish themes print them ("19. Juni 2018 um 15:28
# Uhr", "3 maart 2024"), which `DATE_RE` (English month names) does not know.
_DAY_FIRST_RE = re.compile(r"\s+\d{1,2}\.?\s*(?:[^\W\d_]{3,}\.?|\d{1,2}\.)\s*\d{4}\b[^\n]{0,40}$")
_DATE_LEAD_RE = re.compile(r"(?:\s+(?:on|am|le|el|il|em|op|dnia|at)|\s*[|·•,–—-])\s*$", re.I)
_LINKBACK_RE = re.compile(r"^(?P<kind>pingback|trackback)\s*:\s*", re.IGNORECASE)


def clean_author(raw: str | None) -> tuple[str | None, str | None]:
    """(the name, the raw text when it differs) from an author element's text.

    Strips a trailing verb of saying (`SAYING_VERBS`), a date printed after the name, and
    a "Pingback:" / "Trackback:" prefix; a text that would be left empty is kept whole.
    """
    if raw is None:
        return None, None
    shown = " ".join(raw.split())
    if not shown:
        return None, None
    name = _LINKBACK_RE.sub("", shown) or shown
    found = _VERB_COLON_RE.search(name)
    if found is not None and found.start() > 0:
        rest = found.group("rest").strip()
        if not rest or any(ch.isdigit() for ch in rest):
            name = name[: found.start()]
    else:
        found = _VERB_BARE_RE.search(name)
        if found is not None and found.start() > 0:
            name = name[: found.start()]
    name = _strip_trailing_date(name).strip(" :")
    if not name:
        name = shown
    return name, (shown if name != shown else None)


def _strip_trailing_date(name: str) -> str:
    matches = list(DATE_RE.finditer(name))
    last = matches[-1] if matches else None
    if last is None or last.start() == 0 or name[last.end() :].strip(" .,:)"):
        day_first = _DAY_FIRST_RE.search(name)
        if day_first is None or not any(ch.isdigit() for ch in day_first.group(0)[-30:]):
            return name
        return _DATE_LEAD_RE.sub("", name[: day_first.start()]).rstrip() or name
    head = name[: last.start()]
    return _DATE_LEAD_RE.sub("", head).rstrip() or name


def linkback_kind(author: str | None, text: str) -> CommentKind | None:
    """ "pingback" or "trackback" when the author or text starts with "Pingback:" /
    "Trackback:" as WordPress prints them; else None."""
    for value in (author, text):
        if value:
            found = _LINKBACK_RE.match(value.lstrip())
            if found is not None:
                return "pingback" if found.group("kind").lower() == "pingback" else "trackback"
    return None


def kind_from_value(value: object) -> CommentKind:
    """The kind a record's ``type`` / ``comment_type`` field names ("comment" for others)."""
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "pingback":
            return "pingback"
        if low == "trackback":
            return "trackback"
    return "comment"

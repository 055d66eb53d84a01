"""Reading the dates comment pages show: ISO-8601, Unix epochs, and blog-style prose."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?"
_TIME = r"(?:,?\s*(?:at|@|-)?\s*\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?"
DATE_RE = re.compile(
    rf"""
    (?:
        \d{{4}}-\d{{2}}-\d{{2}}(?:[T\s]\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?
      | {_WEEKDAY}{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}{_TIME}
      | {_WEEKDAY}\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}{_TIME}
      | \d{{1,2}}/\d{{1,2}}/\d{{2,4}}{_TIME}
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
"""A date as blogs print it; used to find date lines in text dumps and comment metadata."""

_EPOCH_RE = re.compile(r"^\d{9,11}(?:\.\d+)?$")


def parse_date(text: str | float | int | None) -> datetime | None:
    """The moment `text` names, or None when it names none.

    Unix epochs are UTC. Prose dates without a zone stay naive: the page did not say which
    zone it meant, and guessing would make them look more precise than they are.
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return _from_epoch(float(text))
    value = text.strip()
    if not value:
        return None
    if _EPOCH_RE.match(value):
        return _from_epoch(float(value))
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    found = DATE_RE.search(value)
    if found is None:
        return None
    cleaned = re.sub(r"\s+(?:at|@)\s+", " ", found.group(0))
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", cleaned)
    cleaned = re.sub(r"([ap])\.m\.?", r"\1m", cleaned, flags=re.IGNORECASE)
    try:
        return dateutil_parser.parse(cleaned)
    except (ValueError, OverflowError):
        return None


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None

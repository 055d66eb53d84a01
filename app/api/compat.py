"""Pure helpers of the two drop-in endpoints: Perspective's AnalyzeComment and Coral's
external moderation phase. No I/O here; the routes in `app.api.routes.perspective` and
`app.api.routes.coral` do the HTTP.

Perspective attributes are served only where a threadguard head means the same thing:

| Perspective attribute  | head       | why                                               |
|------------------------|------------|---------------------------------------------------|
| TOXICITY               | toxic      | rude, insulting, profane, threatening, harassing  |
| IDENTITY_ATTACK        | hate       | an attack on people for a group they belong to    |
| THREADGUARD_TOXIC      | toxic      | the same head under its own name                  |
| THREADGUARD_HATE       | hate       | the same head under its own name                  |
| THREADGUARD_CONSPIRACY | conspiracy | a secret plot by hidden powerful actors, asserted |
| SEVERE_TOXICITY        | none       | `toxic` is "toxic at all"; `severity` is another  |
|                        |            | scale (normal / offensive / hateful)              |
| INSULT, THREAT,        | none       | one `toxic` head covers them together; its number |
| PROFANITY              |            | is not the probability of any one of them         |

Serving INSULT from `toxic` would hand a client a number that is high for a threat with no
insult in it; a client that thresholds INSULT would act on the wrong thing. So those names
are refused with a message saying which attribute to request instead.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

# --------------------------------------------------------------------------- Perspective

SERVED_ATTRIBUTES: Mapping[str, str] = {
    "TOXICITY": "toxic",
    "IDENTITY_ATTACK": "hate",
    "THREADGUARD_TOXIC": "toxic",
    "THREADGUARD_HATE": "hate",
    "THREADGUARD_CONSPIRACY": "conspiracy",
}

_ONE_TOXIC_HEAD = (
    "threadguard has no separate {name} model: insults, profanity, threats and harassment "
    "are scored together by one toxic head, whose probability is not that of {name} "
    "alone; request TOXICITY instead"
)
UNSERVED_ATTRIBUTES: Mapping[str, str] = {
    "SEVERE_TOXICITY": "threadguard serves no SEVERE_TOXICITY score: its toxic head gives the "
    "probability that a comment is toxic at all, and its severity head another scale "
    "(normal, offensive, hateful) that /v1/score returns; request TOXICITY instead",
    "INSULT": _ONE_TOXIC_HEAD.format(name="INSULT"),
    "THREAT": _ONE_TOXIC_HEAD.format(name="THREAT"),
    "PROFANITY": _ONE_TOXIC_HEAD.format(name="PROFANITY"),
}

# What Perspective documents as "probability" scores; the other score types it lists
# (STD_DEV_SCORE, PERCENTILE, RAW) have no meaning for a calibrated probability.
PROBABILITY_TYPES = frozenset({"PROBABILITY", "SCORE_TYPE_UNSPECIFIED"})
SUPPORTED_LANGUAGE = "en"

# A sentence ends at ., ! or ? (or an ellipsis) followed by whitespace or the end, or at
# a line break. Abbreviations split a sentence in two; each half is still scored honestly.
_SENTENCE_END_RE = re.compile(r"[.!?…]+(?=\s|$)|\n")
# Past this many sentences the rest of the comment is one span: the scoring batch stays
# bounded however many full stops a 20 KB comment holds.
MAX_SPANS = 100


def attribute_head(name: str) -> str | None:
    """The head behind a served attribute name (case-insensitive), or None."""
    return SERVED_ATTRIBUTES.get(name.upper())


def unserved_reason(name: str) -> str:
    """Why `name` is not served, naming what to request instead."""
    known = UNSERVED_ATTRIBUTES.get(name.upper())
    if known is not None:
        return known
    served = ", ".join(SERVED_ATTRIBUTES)
    return f"Unknown requested attribute: {name} (this server serves {served})"


def is_english(language: str) -> bool:
    """Whether an ISO 639-1 or BCP-47 code names English ("en", "en-US", "EN_gb")."""
    primary = re.split(r"[-_]", language.strip(), maxsplit=1)[0]
    return primary.lower() == SUPPORTED_LANGUAGE


def sentence_spans(text: str, *, limit: int = MAX_SPANS) -> list[tuple[int, int]]:
    """Start and end (code points, end exclusive) of each sentence, whitespace trimmed.

    At most `limit` spans: the last one runs to the end of the text.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    bounds.append((start, len(text)))
    spans: list[tuple[int, int]] = []
    for begin, end in bounds:
        trimmed = _trim(text, begin, end)
        if trimmed is not None:
            spans.append(trimmed)
    if len(spans) > limit:
        last_begin = spans[limit - 1][0]
        spans = [*spans[: limit - 1], (last_begin, spans[-1][1])]
    return spans


def _trim(text: str, begin: int, end: int) -> tuple[int, int] | None:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    return (begin, end) if begin < end else None


def utf16_offsets(text: str) -> Callable[[int], int]:
    """A map from code-point offsets of `text` to UTF-16 offsets (what Perspective counts).

    Characters outside the Basic Multilingual Plane (most emoji) take two UTF-16 units.
    """
    if text.isascii() or all(ord(c) <= 0xFFFF for c in text):
        return lambda offset: offset
    units = [0, *itertools.accumulate(2 if ord(c) > 0xFFFF else 1 for c in text)]
    return lambda offset: units[offset]


def probability(value: Any) -> float:
    """A head's probability as a JSON-safe float, rounded like the rest of the API."""
    number = float(value)
    return round(number, 6) if math.isfinite(number) else 0.0


# --------------------------------------------------------------------------- Coral

CoralChoice = Literal["ignore", "flag", "withhold"]

# hate: withheld until a moderator looks (Coral's own toxicity filter withholds too), because
# an attack on a group left visible does the harm the product exists to prevent, and a false
# positive (counter-speech, a quote) costs one click in Coral's Pending queue.
# toxic: reported but left to the site's own pre-moderation settings.
# conspiracy: Coral has no reason for it (current Coral accepts only COMMENT_DETECTED_TOXIC
# and COMMENT_DETECTED_SPAM), so a FLAG would tell moderators "toxic"; a site opts in.
DEFAULT_CORAL_POLICY: Mapping[str, CoralChoice] = {
    "hate": "withhold",
    "toxic": "flag",
    "conspiracy": "ignore",
}
CORAL_FLAG_REASON = "COMMENT_DETECTED_TOXIC"
CORAL_WITHHELD = "SYSTEM_WITHHELD"
# Bounds the work an unauthenticated request can cause before it is refused.
MAX_SIGNATURES = 16
MAX_SIGNATURE_HEADER = 4_096
_SIGNATURE_PREFIX = "sha256="
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_DETAILS_WORDS = 3


def coral_signature_valid(secret: bytes, body: bytes, header: str) -> bool:
    """Whether one `sha256=<hex>` entry of an X-Coral-Signature header signs `body`.

    Coral sends one entry per active signing secret (two while a rotated secret is kept
    alive), comma-separated, each an HMAC-SHA256 of the raw body in hex.
    """
    if len(header) > MAX_SIGNATURE_HEADER:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii")
    candidates = [entry.strip() for entry in header.split(",")][:MAX_SIGNATURES]
    matched = False
    for entry in candidates:
        if not entry.startswith(_SIGNATURE_PREFIX):
            continue
        given = entry[len(_SIGNATURE_PREFIX) :].lower().encode("utf-8", "replace")
        # Every entry is compared, so the time taken does not say which one matched.
        matched |= hmac.compare_digest(given, expected)
    return matched


def coral_signature(secret: bytes, body: bytes) -> str:
    """The header value Coral would send for `body` signed with one secret."""
    return _SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def looks_like_html(body: str) -> bool:
    """Whether a Coral comment body holds markup (Coral sends HTML unless told otherwise)."""
    return _HTML_TAG_RE.search(body) is not None


def coral_policy(configured: Mapping[Any, str] | None) -> dict[str, str]:
    """The per-head choice, the configured entries over the defaults."""
    return {**DEFAULT_CORAL_POLICY, **(configured or {})}


def coral_decision(
    record: Mapping[str, Any], policy: Mapping[str, str], heads: Sequence[str]
) -> dict[str, Any] | None:
    """Coral's external moderation response for one scored comment, or None (no opinion).

    One FLAG action however many heads are raised: they all map to Coral's one toxic
    reason, and Coral counts every action as a separate flag.
    """
    acted = [head for head in heads if record[f"{head}_flag"] and policy[head] != "ignore"]
    if not acted:
        return None
    action: dict[str, Any] = {
        "actionType": "FLAG",
        "reason": CORAL_FLAG_REASON,
        "additionalDetails": _details(record, acted),
    }
    response: dict[str, Any] = {"actions": [action]}
    if any(policy[head] == "withhold" for head in acted):
        response["status"] = CORAL_WITHHELD
    return response


def _details(record: Mapping[str, Any], heads: Iterable[str]) -> str:
    """A moderator-readable line: label, probability, hate target and the words behind it."""
    evidence: Mapping[str, Any] = record.get("evidence") or {}
    parts: list[str] = []
    for head in heads:
        notes: list[str] = []
        if head == "hate" and record.get("hate_target"):
            notes.append(f"target {record['hate_target']}")
        words = [str(item["text"]) for item in evidence.get(head, [])[:_DETAILS_WORDS]]
        if words:
            notes.append("words: " + ", ".join(words))
        note = f" ({'; '.join(notes)})" if notes else ""
        parts.append(f"{head} {probability(record[head]):.2f}{note}")
    return f"threadguard {record['model_version']}: " + "; ".join(parts)

"""What the review page shows, prepared for its templates: evidence highlights, score bars,
and labels in plain words.

Nothing here builds HTML: highlights are lists of text segments the templates escape, and
every string is passed on as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from app.queue.excerpt import evidence_span
from app.queue.review import BINARY_HEADS

HEADS: Final = BINARY_HEADS
# Reply stance in the words a moderator uses: what the comment does to the one it answers.
REPLY_WORDS: Final = {
    "agree": "agrees with",
    "disagree": "disagrees with",
    "query": "asks",
    "comment": "comments on",
}
STANCE_WORDS: Final = {"favor": "for", "against": "against", "none": "neutral on"}
QUEUE_TITLES: Final = {
    "hate": "Hate",
    "toxic": "Toxic",
    "conspiracy": "Conspiracy",
    "reported": "Reported",
    "uncertain": "Uncertain",
}


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
                span = evidence_span(entry, len(text))
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


def when(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def percent(p: Any) -> str:
    value = _probability(p)
    return "–" if value is None else f"{value * 100:.0f}%"


def excerpt_segments(excerpt: str, marks: Any) -> list[Segment]:
    """A list's excerpt cut into highlighted segments by its `excerpt_evidence` offsets."""
    by_head: dict[str, list[dict[str, Any]]] = {}
    if isinstance(marks, list):
        for mark in marks:
            if isinstance(mark, Mapping) and mark.get("head") in HEADS:
                by_head.setdefault(str(mark["head"]), []).append(dict(mark))
    return evidence_segments(excerpt, by_head)


def stance_words(stance: Any, topic: str | None) -> str | None:
    """`against: <topic>` and the like; None when the model gave no stance, and a label
    this version does not know as it is."""
    if stance is None or stance == "":
        return None
    words = STANCE_WORDS.get(str(stance))
    if words is None:
        return str(stance)
    return f"{words}: {topic}" if topic else f"{words} the topic"


def reply_words(reply_stance: Any, *, to_article: bool) -> str | None:
    """`agrees with the comment it answers` and the like; None without a reply stance, and
    a label this version does not know as it is."""
    if reply_stance is None or reply_stance == "":
        return None
    words = REPLY_WORDS.get(str(reply_stance))
    if words is None:
        return str(reply_stance)
    return f"{words} {'the article' if to_article else 'the comment it answers'}"


def uncertain_words(head: str | None) -> str:
    """What approve and reject judge in the uncertain queue."""
    if head is None:
        return "Approve: the comment may stay. Reject: it may not."
    return f"Unsure about {head}. Approve: it is not {head}. Reject: it is {head}."

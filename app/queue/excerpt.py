"""The part of a comment a list shows: whole sentences holding the evidence words, so the
words a decision turns on are never cut off behind a "…"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from app.labels import BINARY_HEADS

# How much of a comment the list shows: whole sentences with evidence, up to about this.
EXCERPT_CHARS: Final = 360


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def _sentences(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            out.append((start, match.start()))
        start = match.end()
    if start < len(text):
        out.append((start, len(text)))
    return out or [(0, len(text))]


def evidence_span(entry: Any, length: int) -> tuple[int, int, float] | None:
    """(start, end, weight) of one evidence entry of a score record, None when it is not
    a span inside a text of `length` characters."""
    if not isinstance(entry, Mapping):
        return None
    start, end, weight = entry.get("start"), entry.get("end"), entry.get("weight", 0.0)
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return None
    if not 0 <= start < end <= length:
        return None
    return start, end, float(weight) if isinstance(weight, int | float) else 0.0


def _spans(evidence: Any, heads: Sequence[str], length: int) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    if not isinstance(evidence, Mapping):
        return out
    for head in heads:
        entries = evidence.get(head)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            span = evidence_span(entry, length)
            if span is not None:
                out.append(span)
    return out


def excerpt_windows(
    text: str, evidence: Any, heads: Sequence[str], limit: int = EXCERPT_CHARS
) -> list[tuple[int, int]]:
    """The parts of `text` a list shows: whole sentences holding evidence for `heads`.

    Sentences are taken by their strongest evidence word until about `limit` characters,
    then shown in text order; a sentence longer than the limit is cut around its strongest
    word. With no evidence the text's opening is shown. Offsets index `text`.
    """
    if len(text) <= limit:
        return [(0, len(text))]
    spans = _spans(evidence, heads, len(text)) or _spans(evidence, BINARY_HEADS, len(text))
    if not spans:
        return [(0, cut_at_word(text, 0, limit))]
    sentences = _sentences(text)
    weight_of: dict[tuple[int, int], tuple[float, int]] = {}
    for start, _end, weight in spans:
        for sentence in sentences:
            if sentence[0] <= start < sentence[1]:
                best = weight_of.get(sentence, (-1.0, start))
                if weight > best[0]:
                    weight_of[sentence] = (weight, start)
                break
    chosen: list[tuple[int, int]] = []
    used = 0
    for sentence, (_, strongest) in sorted(weight_of.items(), key=lambda kv: -kv[1][0]):
        size = sentence[1] - sentence[0]
        if used + size <= limit:
            chosen.append(sentence)
            used += size
        elif not chosen:
            # One long sentence: a window of `limit` characters around its strongest word.
            left = max(sentence[0], min(strongest - limit // 3, sentence[1] - limit))
            left = _start_at_word(text, left, sentence[0])
            chosen.append((left, cut_at_word(text, left, limit, sentence[1])))
            break
        if used >= limit:
            break
    return sorted(chosen)


def _start_at_word(text: str, start: int, floor: int) -> int:
    if start <= floor:
        return floor
    space = text.find(" ", start)
    return start if space < 0 or space - start > 20 else space + 1


def cut_at_word(text: str, start: int, limit: int, ceiling: int | None = None) -> int:
    end = min(start + limit, len(text) if ceiling is None else ceiling)
    if end >= len(text) or (ceiling is not None and end >= ceiling):
        return end
    space = text.rfind(" ", start, end)
    return space if space > start + limit // 2 else end


def excerpt_text(text: str, windows: Sequence[tuple[int, int]]) -> str:
    """The windows joined with "…" where text was left out."""
    return excerpt(text, windows, None, ())[0]


def excerpt(
    text: str, windows: Sequence[tuple[int, int]], evidence: Any, heads: Sequence[str]
) -> tuple[str, list[dict[str, Any]]]:
    """The windows joined with "…" where text was left out, and the evidence words of
    `heads` inside them as offsets into that string (`start`, `end`, `head`, `weight`)."""
    spans = [
        (start, end, head, weight)
        for head in heads
        for start, end, weight in _spans(evidence, (head,), len(text))
    ]
    parts: list[str] = []
    marks: list[dict[str, Any]] = []
    length = 0
    position = 0

    def add(piece: str) -> None:
        nonlocal length
        if parts:
            parts.append(" ")
            length += 1
        parts.append(piece)
        length += len(piece)

    for start, end in windows:
        if start > position:
            add("…")
        # Strip the window's outer spaces without moving offsets inside it.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        add(text[start:end])
        base = length - (end - start)
        for s_start, s_end, head, weight in spans:
            if start <= s_start and s_end <= end:
                marks.append(
                    {
                        "start": base + s_start - start,
                        "end": base + s_end - start,
                        "head": head,
                        "weight": round(weight, 4),
                    }
                )
        position = end
    if position < len(text) and text[position:].strip():
        add("…")
    return "".join(parts), sorted(marks, key=lambda m: (m["start"], m["end"]))

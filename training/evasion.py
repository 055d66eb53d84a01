"""The evasion probe: does a hateful sentence keep its score when it is written to dodge?

Each evasion rewrites the plain sentence the way filter dodgers do while a reader still sees
the same words: reversed inside a right-to-left override (it displays as the original),
an accent after every letter, Cyrillic look-alike letters, leet digits, a key word spaced
out, zero-width characters inside words. The probe reports, per evasion, how far the hate
score moves from the plain sentence's (the goal: within .10) and how many flags survive.
One-letter typos are reported too; the normaliser cannot undo them, so they measure what
the model learnt rather than what normalisation restores. Nonsense inputs (one character,
symbols, a run of 10,000 combining marks) must raise no flag at all.

The plain sentences are the suite's hateful derogation and dehumanisation cases, which are
never trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.heads import BINARY_HEADS
from app.registry import LoadedModel
from app.scoring import score_frame
from training.behaviour import Case, read_suite

BASE_FUNCTIONALITIES = ("derogation", "dehumanisation")
TOLERANCE = 0.10
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _longest_word(text: str) -> tuple[int, int]:
    best = (0, 0)
    start = None
    for i, char in enumerate(text + " "):
        if char.isalpha():
            start = i if start is None else start
        elif start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def bidi_reversed(text: str) -> str:
    """Stored reversed inside RLO ... PDF: a browser displays the original sentence."""
    return "\u202e" + text[::-1] + "\u202c"


def accented(text: str) -> str:
    """A combining acute accent after every letter."""
    return "".join(char + "\u0301" if char.isalpha() else char for char in text)


def homoglyphs(text: str) -> str:
    """Cyrillic look-alikes for the Latin letters that have one."""
    return "".join(_HOMOGLYPHS.get(char, char) for char in text)


def leet(text: str) -> str:
    """Digits for letters inside the longest word."""
    start, end = _longest_word(text)
    word = "".join(_LEET.get(char.lower(), char) for char in text[start:end])
    # The first letter stays a letter, as leet writers keep it readable.
    word = text[start] + word[1:] if word else word
    return text[:start] + word + text[end:]


def spaced(text: str) -> str:
    """The longest word spelt out with spaces between its letters."""
    start, end = _longest_word(text)
    return text[:start] + " ".join(text[start:end]) + text[end:]


def zero_width(text: str) -> str:
    """A zero-width space after every second letter of every word."""
    out = []
    for i, char in enumerate(text):
        out.append(char)
        if char.isalpha() and i % 2 and i + 1 < len(text) and text[i + 1].isalpha():
            out.append("\u200b")
    return "".join(out)


def typo(text: str) -> str:
    """The longest word with its second-last letter deleted."""
    start, end = _longest_word(text)
    if end - start < 4:
        return text
    return text[: end - 2] + text[end - 1 :]


EVASIONS: dict[str, Callable[[str], str]] = {
    "bidi override": bidi_reversed,
    "accent after every letter": accented,
    "Cyrillic look-alikes": homoglyphs,
    "leet digits": leet,
    "key word spaced out": spaced,
    "zero-width characters": zero_width,
    "one typo (not normalised)": typo,
}
NONSENSE: dict[str, str] = {
    "one letter": "a",
    "one symbol": "?",
    "symbols": "$$$ ### !!!",
    "keyboard mash": "asdfjkl;",
    "10,000 combining marks": "\u0301" * 10_000,
    "combining marks on spaces": " \u0308\u0301" * 200,
}


def base_sentences(cases: Sequence[Case] | None = None) -> list[str]:
    """The plain hateful sentences the probe rewrites."""
    chosen = read_suite() if cases is None else cases
    return [c.text for c in chosen if c.functionality in BASE_FUNCTIONALITIES]


def run_probe(model: LoadedModel, sentences: Sequence[str] | None = None) -> dict[str, Any]:
    """Per evasion: mean and largest score change, share within TOLERANCE, flags kept."""
    plain = list(sentences) if sentences is not None else base_sentences()
    variants = {name: [rewrite(s) for s in plain] for name, rewrite in EVASIONS.items()}
    texts = plain + [t for rows in variants.values() for t in rows] + list(NONSENSE.values())
    scored = score_frame(model, pd.DataFrame({"text": texts}), evidence_top=0)
    hate = scored["hate"].to_numpy(dtype=np.float64)
    flags = scored["hate_flag"].to_numpy(dtype=bool)
    n = len(plain)
    base, base_flags = hate[:n], flags[:n]
    out: dict[str, Any] = {
        "n": n,
        "tolerance": TOLERANCE,
        "plain_mean": float(base.mean()) if n else float("nan"),
        "plain_flagged": int(base_flags.sum()),
        "evasions": {},
    }
    offset = n
    for name in EVASIONS:
        scores = hate[offset : offset + n]
        kept = flags[offset : offset + n]
        offset += n
        delta = np.abs(scores - base)
        out["evasions"][name] = {
            "mean_abs_change": float(delta.mean()),
            "max_abs_change": float(delta.max()),
            "within_tolerance": float((delta <= TOLERANCE).mean()),
            "flags_kept": int((kept & base_flags).sum()),
        }
    nonsense_rows = scored.iloc[offset:]
    out["nonsense"] = {
        name: {
            "raised": [h for h in BINARY_HEADS if bool(row[f"{h}_flag"])],
            "max_score": float(max(row[h] for h in BINARY_HEADS)),
        }
        for name, (_, row) in zip(NONSENSE, nonsense_rows.iterrows(), strict=True)
    }
    return out

"""Spelling noise for generated hateful rows: one deleted, doubled, swapped or changed letter.

The normaliser undoes leet, spacing, masks, look-alike letters, bidi overrides and accents,
but not typos ("womn", "deth", "klil"), which leave a word's char n-grams mostly intact and
its word n-grams gone. Copies of hateful rows with a typo in a content word teach the head
to rely on the n-grams that survive one edit.
"""

from __future__ import annotations

import random
import re

_WORD = re.compile(r"[A-Za-z]{4,}")
_VOWELS = "aeiou"
# Words whose misspelling says nothing: a typo there teaches no robustness.
_SKIP = frozenset(
    "that this they them their there with from have should would could about what when "
    "where just like every only because those these".split()
)


def typo(rng: random.Random, word: str) -> str:
    """`word` with one edit inside it (the first letter is kept, as typists keep it)."""
    i = rng.randrange(1, len(word))
    kind = rng.choice(("delete", "double", "swap", "vowel"))
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [k for k in range(1, len(word)) if word[k].lower() in _VOWELS]
    if not vowels:
        return word[:i] + word[i + 1 :]
    k = rng.choice(vowels)
    other = rng.choice([v for v in _VOWELS if v != word[k].lower()])
    return word[:k] + other + word[k + 1 :]


def misspell(rng: random.Random, text: str, *, words: int = 1) -> str | None:
    """`text` with typos in up to `words` content words, or None when it has none."""
    candidates = [m for m in _WORD.finditer(text) if m.group().lower() not in _SKIP]
    if not candidates:
        return None
    chosen = sorted(rng.sample(candidates, min(words, len(candidates))), key=lambda m: m.start())
    parts, pos = [], 0
    for match in chosen:
        parts.append(text[pos : match.start()])
        parts.append(typo(rng, match.group()))
        pos = match.end()
    parts.append(text[pos:])
    return "".join(parts)

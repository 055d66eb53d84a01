"""The most expensive requests the default budget allows, for the worst-request test and bench.

Measured on the shipped model (2026-12-03, one core): at 100 KiB of text, flagged comments
of 2-4 KB cost the most per byte (sentence windows and evidence for every one of them):
50 of 2 KB took 0.98 s, 25 of 4 KB 0.80 s, 5 of 20 KB 0.69 s, 1,000 of 100 bytes
0.69-1.0 s (the scorer of commit 9539784; the faster scorer of issue 12 takes 0.3 s). The texts are
varied words with an insult in about one word of seven, so every comment raises a flag and
no two comments share n-grams the scorer could reuse.
"""

from __future__ import annotations

import random
from typing import Any

from app.config import DEFAULT_MAX_REQUEST_TEXT_BYTES

INSULTS = (
    "idiot",
    "moron",
    "stupid",
    "vermin",
    "scum",
    "filthy",
    "disgusting",
    "worthless",
    "traitor",
    "pathetic",
    "clowns",
    "liar",
    "crook",
)
_WORDS = (
    "the council voted to build bridge and I think it is a good idea who paying for all of this "
    "agree with comment above article leaves out cost overruns thanks clear reporting nonsense "
    "from start finish my street has been closed months they are in on media will never tell you"
).split()


def flagged_text(rng: random.Random, size: int) -> str:
    """An ASCII text of exactly `size` bytes, in sentences, that raises the toxic flag."""
    vocabulary = [*_WORDS, *(f"{w}{rng.randint(0, 9_999)}" for w in _WORDS)]
    parts: list[str] = []
    length = 0
    while length < size:
        words = [
            rng.choice(INSULTS) if rng.random() < 0.15 else rng.choice(vocabulary)
            for _ in range(rng.randint(6, 25))
        ]
        sentence = " ".join(words).capitalize() + rng.choice((". ", "! ", "? "))
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[:size]


def worst_batch(budget: int = DEFAULT_MAX_REQUEST_TEXT_BYTES, seed: int = 0) -> dict[str, Any]:
    """A /v1/score batch of 2 KB flagged comments filling `budget` exactly."""
    rng = random.Random(seed)
    size = 2_048
    count, rest = divmod(budget, size)
    sizes = [size] * count + ([rest] if rest else [])
    return {"comments": [{"id": str(i), "text": flagged_text(rng, n)} for i, n in enumerate(sizes)]}


def worst_page(budget: int = DEFAULT_MAX_REQUEST_TEXT_BYTES, seed: int = 1) -> dict[str, Any]:
    """A JSON page for /v1/threads of 4 KB flagged comments in reply chains, within `budget`.

    The title (the topic and the article context) counts toward the budget too.
    """
    rng = random.Random(seed)
    title = "The council votes on the bridge"
    room = budget - 2 * len(title)
    size = 4_096
    count, rest = divmod(room, size)
    sizes = [size] * count + ([rest] if rest else [])
    comments = [
        {
            "id": f"c{i}",
            "parent_id": f"c{i - 1}" if i % 5 else None,
            "body": flagged_text(rng, n),
        }
        for i, n in enumerate(sizes)
    ]
    return {"title": title, "comments": comments}

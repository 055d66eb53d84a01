"""English for messages: a count with its noun, a noun with its article.

Messages are built from counts and role names at run time, so "1 decisions" or
"a admin" slip in wherever a message assumes the common case; these two helpers decide
instead. English only, and only as much of it as threadguard's own words need.
"""

from __future__ import annotations

# "y" after a consonant turns into "ies"; after a vowel it takes a plain "s" (keys, days).
_VOWELS = frozenset("aeiou")
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


def plural_of(noun: str) -> str:
    """The regular English plural of `noun`: reply → replies, match → matches, key → keys."""
    if noun.endswith("y") and len(noun) > 1 and noun[-2].lower() not in _VOWELS:
        return noun[:-1] + "ies"
    if noun.endswith(_SIBILANT_ENDINGS):
        return noun + "es"
    return noun + "s"


def noun_for(count: int, noun: str, plural_form: str | None = None) -> str:
    """`noun` as it follows `count`: singular for exactly one, else plural (0 rows, 1 row).

    `plural_form` is for nouns the regular rule gets wrong ("person", "people").
    """
    return noun if count == 1 else plural_form or plural_of(noun)


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`count` and its noun: "1 row", "0 rows", "2,000 rows" (grouped by thousands, as the
    CLI's other numbers are)."""
    return f"{count:,} {noun_for(count, noun, plural_form)}"


def article(word: str) -> str:
    """`word` after "a" or "an", by its first letter: "a moderator key", "an admin key".

    By spelling, not sound: right for threadguard's words (scorer, moderator, admin), not
    for every English word ("an hour", "a user" would need a list of exceptions).
    """
    first = word[:1].lower()
    return f"{'an' if first in _VOWELS else 'a'} {word}"

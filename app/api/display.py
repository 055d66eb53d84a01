"""User-supplied strings as the review page shows them: escaped, isolated, nothing invisible.

A moderator has to see what a string *is*, not what it makes the browser draw. Bidi
controls reorder text ("\\u202enimda\\u202c" is drawn as "admin"), and zero-width or other
format characters make two different names look the same. So every such character is
replaced by a visible marker naming its code point, and every string is wrapped in its own
`<bdi dir="auto">` so that right-to-left content in it cannot reorder the page around it.

ZWJ and ZWNJ (U+200D, U+200C) are marked too, although they are legitimate in emoji
sequences, Persian and Indic scripts: a family emoji then shows as its members joined by
⟨U+200D⟩, which stays readable, whereas letting them through would allow "ad\\u200dmin"
to pass for "admin".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from markupsafe import Markup, escape

# All of these are format characters (Cf) in current Unicode; they are named so that a
# future reclassification cannot make one of them invisible again.
BIDI_CONTROLS: Final = frozenset(
    chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)
INVISIBLE_FORMAT: Final = frozenset(
    chr(code) for code in (*range(0x200B, 0x200E), *range(0x2060, 0x2065), 0xFEFF, 0x00AD)
)
# The whole tag block, including its unassigned code points, which browsers also draw as
# nothing.
TAG_CHARACTERS: Final = range(0xE0000, 0xE0080)
# Control characters draw nothing or break lines (U+0085, U+2028 and U+2029 also end a bidi
# paragraph, escaping the isolation); tab and newline are the text's own layout.
_HIDDEN_CATEGORIES: Final = frozenset({"Cf", "Cc", "Zl", "Zp"})
_LAYOUT: Final = frozenset("\t\n\r")
_NAMELESS: Final = {
    "Cc": "CONTROL CHARACTER",
    "Cn": "UNASSIGNED TAG CHARACTER",
}
# Printable ASCII is never hidden: only the rest is looked up, one character at a time.
_CANDIDATE: Final = re.compile(r"[^\x20-\x7e]")


def is_hidden(char: str) -> bool:
    """Whether `char` would change or vanish from what the browser draws."""
    if char in _LAYOUT:
        return False
    return (
        char in BIDI_CONTROLS
        or char in INVISIBLE_FORMAT
        or ord(char) in TAG_CHARACTERS
        or unicodedata.category(char) in _HIDDEN_CATEGORIES
    )


def code_point_name(char: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, with a description where Unicode gives no name."""
    category = unicodedata.category(char)
    name = unicodedata.name(char, "") or _NAMELESS.get(category, f"UNNAMED ({category})")
    return f"U+{ord(char):04X} {name}"


def marker(char: str) -> str:
    """The HTML shown instead of a hidden character.

    `dir="ltr"` isolates the marker itself, so it reads the same inside right-to-left text.
    """
    label = f"U+{ord(char):04X}"
    title = escape(code_point_name(char))
    return f'<span class="invisible-char" dir="ltr" title="{title}">⟨{label}⟩</span>'


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    return marker(char) if is_hidden(char) else char


def untrusted(value: object, isolate: bool = True) -> Markup:
    """`value` as text for the page: escaped, hidden characters as markers, isolated.

    Anything given is treated as text, Markup included (its tags are shown, not obeyed):
    markers are put into the escaped string, and inside markup they could land within a
    tag. `isolate=False` leaves out the `<bdi>`, for pieces of one string (evidence
    highlights) whose whole is isolated by the template.
    """
    text = "" if value is None else str(value)
    # Escaping never adds a non-ASCII character and never touches one, so every hidden
    # character is still there, outside any entity, to be replaced.
    shown = _CANDIDATE.sub(_replace, str(escape(text)))
    if isolate:
        shown = f'<bdi dir="auto">{shown}</bdi>'
    return Markup(shown)


def _replace_plain(match: re.Match[str]) -> str:
    char = match.group()
    return f"⟨U+{ord(char):04X}⟩" if is_hidden(char) else char


def untrusted_text(value: object) -> str:
    """`value` for places that hold text only (attributes, `<option>`): every hidden
    character as the visible `⟨U+XXXX⟩`, and a plain string, so autoescaping escapes it."""
    text = "" if value is None else str(value)
    return _CANDIDATE.sub(_replace_plain, text)

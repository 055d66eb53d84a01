"""Adversarial text normalisation that remembers where every character came from.

Comment text is written to slip past filters: homoglyphs, zero-width characters, "k i k e",
"f*ck", "k1ke", "(((Soros)))". The feature extractors see the *normalised* text, but
evidence must point at characters of the *original* text, so `normalise` returns the new
text together with an offset map: for every normalised character, the span of original
characters it was made from (`Normalised.starts` / `Normalised.ends`, both monotone).

Steps run in `STEPS` order and can be switched one by one. Each step finds the few places it
rewrites with a regular expression and copies everything between them in slices, so ordinary
text costs a few regex scans. Every pattern is written so that a failed attempt cannot
rescan what it already read (possessive quantifiers, or a lookbehind that only lets a match
start at the beginning of a run), which keeps hostile inputs ("(((((...", "aaaa...") linear.

Case and punctuation are kept: the vectorisers decide about lowercasing, and "!!!" and ALL
CAPS are signals. Inserted marker tokens (`ECHO_MARKER`, `CODED_MARKER`) make coded
antisemitic forms visible to the model as ordinary words; they map to the form that caused
them. The only characters no normalised character maps to are zero-width ones, bidi
controls, combining marks without a base and the separators of spaced-out letters; each
lies between the sources of two neighbouring characters, so `Normalised.span` of a stretch
still covers it. Collapsed repeats map to their whole run.

Display tricks are read the way a reader sees them. `bidi` drops the bidi controls and
reads right-to-left overrides ("\u202eswej llik\u202c" shows as "kill jews") in display
order. It implements the part of UAX #9 that decides this: rules X1-X8 (what each control
opens and closes, PDI closing what its isolate left open, the depth limit of 125, and the
paragraph end at a bidi class B character, a newline, ending whatever is unterminated) and
rules L2/L4 inside overrides. Inside an RLO the content is reversed, a base character kept
with its marks, nested embeddings, isolates and overrides moved as one block, brackets
mirrored; a run of Hebrew or Arabic letters stays as stored, since it is read right to left,
and inside an LRO only such runs are reversed. Embeddings and isolates reorder nothing
(implicit levels are not resolved: outside overrides the stored order is the reading order).
A reversed override cannot map character by character and stay monotone, so every character
of it maps to the override's whole content; an override whose characters keep their order
keeps the exact map. `fold_accents` reads Latin letters without diacritics ("é", "e\u0301"
-> "e"; the letter maps to its base and marks), drops every mark in a word with Latin
letters, and drops marks with no base (after a space, punctuation or nothing); other scripts
keep theirs, with zalgo stacks left to `zero_width`.

URLs and e-mail addresses are left alone by the word-level steps ("www", "x1y" in an id).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

# Bundles store the step list they were fitted with, so a step's output never changes once
# it has shipped: new behaviour comes as a new step name (bundles before "bidi" and
# "fold_accents" list only the other eight and keep normalising exactly as they did).
STEPS: tuple[str, ...] = (
    # First: a browser resolves bidi controls on the stored characters, before anything is
    # folded, and every later step should read the text in reading order ("(((Soros)))"
    # stored reversed inside an override only becomes echo parentheses once read back).
    # NFKC neither makes nor removes bidi controls, and reversal keeps a base with its marks.
    "bidi",
    "nfkc",
    "zero_width",
    # After zero_width, so marks sit on their letters again and zalgo stacks are gone; before
    # the word-level steps, which need "k\u0301i\u0301k\u0301e\u0301" as one word "kike".
    "fold_accents",
    "confusables",
    "spacing",
    "masked",
    "leet",
    "repeats",
    "coded",
)
DEFAULT_STEPS: frozenset[str] = frozenset(STEPS)

ECHO_MARKER = "xxechoparens"
"""Inserted before a name written in echo parentheses, "(((Soros)))"."""
CODED_MARKER = "xxcodedjew"
"""Inserted after a coded antisemitic word ("ziomongrel", "Israhell", "goyim", ...)."""

# Profanity and slurs a masked word ("f*ck", "n****r", "k*ke") may stand for. Kept small on
# purpose: a masked word is only rewritten when exactly one entry fits, so every extra
# entry makes more masks ambiguous. Plurals are listed because "n****rs" is common.
MASK_LEXICON: frozenset[str] = frozenset(
    {
        # general profanity
        "fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "motherfucker",
        "motherfuckers", "shit", "shits", "shitty", "bullshit", "crap", "damn", "ass",
        "asses", "asshole", "assholes", "dumbass", "jackass", "bitch", "bitches", "bastard",
        "bastards", "cunt", "cunts", "dick", "dicks", "dickhead", "cock", "cocksucker",
        "pussy", "prick", "twat", "wanker", "whore", "whores", "slut", "sluts", "piss",
        "pissed", "bollocks", "douchebag", "retard", "retards", "retarded",
        # racial and ethnic slurs
        "nigger", "niggers", "nigga", "niggas", "sandnigger", "coon", "coons", "jigaboo",
        "darkie", "chink", "chinks", "gook", "gooks", "spic", "spics", "wetback", "wetbacks",
        "beaner", "beaners", "paki", "pakis", "raghead", "ragheads", "towelhead",
        "towelheads", "wop", "dago",
        # homophobic and transphobic slurs
        "fag", "fags", "faggot", "faggots", "dyke", "dykes", "tranny", "trannies",
        # antisemitic slurs; "jew(s)" and "nazi(s)" are not slurs, but "j*ws", "j-e-w" and
        # "n.a.z.i" are written that way to dodge filters, so the model should see the word
        "kike", "kikes", "yid", "yids", "heeb", "heebs", "hymie", "hymies", "shylock",
        "shylocks", "goy", "goyim", "jewboy", "jewboys", "jew", "jews", "nazi", "nazis",
    }
)  # fmt: skip

# Coded antisemitic terms: the word is kept and CODED_MARKER is inserted after it. The
# marker only makes the code visible; whether a comment is hostile is learned from context
# (news and counter-speech quote these words too). Matched case-insensitively, whole words.
# Handled by their own rules instead: "(((name)))", zio- compounds, "Israhell", crypto-jew.
CODED_LEXICON: frozenset[str] = frozenset(
    {
        "goy",  # Yiddish "non-Jew"; antisemites use it for "the cattle we control" tropes
        "goyim",  # as above, plural ("the goyim know")
        "shekel",  # Israeli currency, used as a money-greed jibe; neutral in finance news
        "shekels",  # as above
        "zog",  # "Zionist Occupied Government": the Jews-control-the-state conspiracy
        "khazar",  # Khazar myth: Ashkenazi Jews as "fake Jews"; also real medieval history
        "khazars",  # as above
        "khazarian",  # as above ("Khazarian mafia")
        "khazarians",  # as above
        "jooz",  # misspelling of "Jews" used to dodge filters
        "joos",  # as above
        "joo",  # as above, singular
        "jewsmedia",  # "Jews' media": the Jews-control-the-media trope in one word
        "jewmedia",  # as above
        "jewtube",  # as above, YouTube as "Jewish-controlled"
        "kike",  # slur
        "kikes",  # slur, plural
        "yid",  # slur (also reclaimed by Tottenham fans; the model learns that from context)
        "yids",  # as above
        "heeb",  # slur
        "hebe",  # slur
        "hymie",  # slur
        "sheeny",  # old slur
        "jewboy",  # slur
        "jewed",  # "cheated", the greed trope as a verb
        "holohoax",  # Holocaust denial
        "gorillion",  # "six gorillion": mocking the Holocaust death toll
        "gorillions",  # as above
        "hooknose",  # caricature of Jewish faces
        "hooknosed",  # as above
        "oy vey",  # Yiddish exclamation used mockingly in antisemitic memes
        "happy merchant",  # name of the antisemitic caricature meme
        "oven dodger",  # Holocaust mockery
        "oven dodgers",  # as above
        "shoah business",  # Holocaust denial pun on "show business"
        "kosher tax",  # conspiracy that kosher certification is a tax funding Jews
        "rootless cosmopolitan",  # Soviet-era antisemitic code
        "rootless cosmopolitans",  # as above
        "synagogue of satan",  # Revelation 2:9, quoted by antisemites for all Jews
        # Left out on purpose: "globalist(s)" and "the tribe" (far too common in neutral
        # talk), "shylock" (mostly about the play; still in MASK_LEXICON), "jq" (also a JSON
        # tool), "jewish question" (historians' term), plain "jew"/"jews"/"zionist".
    }
)

# Compounds "zio" + stem that are coded ("ZioNazi", "ziomongrel", "Ziocon"). A list rather
# than "anything after zio" because Zion, Zionist and Polish surnames (Ziobro) are not.
ZIO_STEMS: tuple[str, ...] = (
    "nazi", "mongrel", "shit", "scum", "pig", "fascist", "tard", "nut", "rat", "cuck",
    "con", "path", "troll", "puppet", "supremacist", "terror", "thug", "vermin", "filth",
    "bot", "shill", "media", "lobby", "entity", "occupied", "state", "whore", "freak",
    "bitch", "monster", "crat", "tool", "slave", "parasite", "rag",
)  # fmt: skip

# Cyrillic, Greek and a few Latin-extension letters that look like ASCII letters.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "х": "x",
    "ԝ": "w", "ԁ": "d", "с": "c",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ԛ": "Q", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ԝ": "W",
    "С": "C",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin letters outside ASCII that pass for ASCII ones
    "ɡ": "g", "ɑ": "a", "ı": "i", "ȷ": "j", "ʏ": "y",
    # Armenian
    "օ": "o", "ս": "u", "ց": "g",
}  # fmt: skip

_LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
    "@": "a", "$": "s", "!": "i", "|": "l",
}  # fmt: skip
# "!" and "|" between letters are more often a missing space ("wow!that") or a separator
# ("yes|no") than a letter, so on their own they only count when the word is a lexicon word.
_WEAK_LEET = frozenset("!|")
_MASKS = frozenset("*#@$_-.!")
# Trailing characters of a masked word that end a sentence rather than hide a letter.
_SENTENCE_END = ".!-"

_ZERO_WIDTH_RE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]++")
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
# More marks than this on one base are split off so unicodedata never sorts a long run
# (its canonical reordering is quadratic) and zalgo stacks are left to `zero_width`.
_MAX_MARKS_PER_GROUP = 8
_NFKC_CHUNK = 256
# Masked words longer than the longest lexicon entry plus a mask run's slack cannot match.
_MAX_MASKED_LEN = max(len(word) for word in MASK_LEXICON) + 2
_ROMAN = frozenset("IVXLCDM")

# Bidi formatting characters: LRE RLE PDF LRO RLO, LRI RLI FSI PDI, and the invisible marks
# LRM RLM ALM (LRM and RLM are also zero-width characters for `zero_width`).
_BIDI_CONTROL_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BIDI_CONTROL_RUN_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]++")
_BIDI_OVERRIDE_RE = re.compile("[\u202d\u202e]")
# Bidi class B: each ends a bidi paragraph, and with it every open embedding and override.
_PARAGRAPH_SEPARATOR_RE = re.compile("[\n\r\x1c-\x1e\x85\u2029]")
_LRE, _RLE, _PDF, _LRO, _RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
_LRI, _RLI, _FSI, _PDI = "\u2066", "\u2067", "\u2068", "\u2069"
_MAX_BIDI_DEPTH = 125  # UAX #9's max_depth: deeper embeddings are ignored, as browsers do
# Scope kinds: no override (paragraph, embedding, isolate), left-to-right, right-to-left.
_PLAIN, _LTR_OVERRIDE, _RTL_OVERRIDE = 0, 1, 2
# Unit kinds inside an override: neutral or number, strong LTR, strong RTL, nested scope.
_NEUTRAL, _STRONG_LTR, _STRONG_RTL, _NESTED = 0, 1, 2, 3
_MIRROR_WORDS = {"LEFT": "RIGHT", "RIGHT": "LEFT", "LESS": "GREATER", "GREATER": "LESS"}
_MIRROR_WORD_RE = re.compile(r"\b(?:LEFT|RIGHT|LESS|GREATER)\b")

_LETTER = r"[^\W\d_]"
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]++", re.IGNORECASE)
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++")
_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]++")
_CONFUSABLE_CLASS = "".join(_CONFUSABLES)
_CONFUSABLE_WORD_RE = re.compile(
    rf"(?<![^\W_])[^\W_{_CONFUSABLE_CLASS}]*+[{_CONFUSABLE_CLASS}][^\W_]*+"
)
# Not after an apostrophe: the "s" of "it's a b" is no single letter. Nor a letter that
# goes on as part of a token ("a a U.S.": the "U" belongs to "U.S.").
_SPACED_RE = re.compile(
    rf"(?<![^\W_])(?<!['’])(?<![^\W_][.\-_*]){_LETTER}(?P<sep>[ .\-_*]){_LETTER}"
    rf"(?:(?P=sep){_LETTER})+(?![^\W_])(?![.\-_*'’][^\W_])"
)
_MASKED_RE = re.compile(r"(?<![\w*#@$.!-])[^\W_]*+[*#@$_.!-][\w*#@$.!-]*+")
# The lookahead skips numbers ("1948", "$5") in the regex engine: a leet word has a letter.
_LEET_RE = re.compile(r"(?<![\w@$!|])(?=[\d@$!|]*+[^\W\d_])[^\W013457]*+[013457@$!|][\w@$!|]*+")
_REPEAT_RE = re.compile(rf"(?P<l>{_LETTER})(?P=l){{2,}}+|(?P<p>[^\w\s])(?P=p){{3,}}+")


@dataclass(frozen=True, slots=True)
class Normalised:
    """Normalised text and, per character, the span of the original text it came from."""

    text: str
    """The normalised text."""
    starts: tuple[int, ...]
    """For each character of `text`, the original index its source span starts at."""
    ends: tuple[int, ...]
    """For each character of `text`, the original index (exclusive) its source span ends at."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) covering normalised text[start:end]."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) is outside 0..{len(self.text)}")
        if start < end:
            return self.starts[start], self.ends[end - 1]
        # An empty span sits where the next character's source starts (or after the last).
        if start < len(self.text):
            return self.starts[start], self.starts[start]
        point = self.ends[-1] if self.ends else 0
        return point, point


def normalise(text: str, steps: Collection[str] = DEFAULT_STEPS) -> Normalised:
    """Normalise `text` with the named `steps` (applied in `STEPS` order), keeping the map.

    Raises ValueError naming any unknown step.
    """
    if isinstance(steps, str):
        raise ValueError(f"steps must be a collection of step names, not the string {steps!r}")
    unknown = sorted(str(step) for step in set(steps) - DEFAULT_STEPS)
    if unknown:
        raise ValueError(
            f"unknown normalisation step(s): {', '.join(unknown)} (known: {', '.join(STEPS)})"
        )
    state = _State(text, range(len(text)), range(1, len(text) + 1))
    for name in STEPS:
        if name in steps:
            state = _STEP_FUNCTIONS[name](state)
    return Normalised(state.text, tuple(state.starts), tuple(state.ends))


def normalise_text(text: str) -> str:
    """The fully normalised form of `text` (all steps), for vectorisers' `preprocessor=`."""
    return normalise(text).text


# --------------------------------------------------------------------------- machinery


@dataclass(frozen=True, slots=True)
class _State:
    """Text between steps, with each character's original span (ranges until rewritten)."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]


class _Rewriter:
    """Builds a step's output: untouched stretches are copied in slices, edits explicitly."""

    __slots__ = ("_src", "_pos", "_parts", "_starts", "_ends", "_changed")

    def __init__(self, src: _State) -> None:
        self._src = src
        self._pos = 0
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._changed = False

    def replace(
        self, start: int, end: int, out: str, spans: Sequence[tuple[int, int]] | None = None
    ) -> None:
        """Replace text[start:end] by `out`; out[k] comes from text[spans[k][0]:spans[k][1]].

        Without `spans` every output character comes from the whole of text[start:end].
        Callers go left to right and give non-empty, monotone spans inside the replaced
        range, which keeps the map monotone.
        """
        src = self._src
        self._copy_to(start)
        if spans is None:
            if out:
                low, high = src.starts[start], src.ends[end - 1]
                self._starts.extend([low] * len(out))
                self._ends.extend([high] * len(out))
        else:
            for low, high in spans:
                self._starts.append(src.starts[low])
                self._ends.append(src.ends[high - 1])
        self._parts.append(out)
        self._pos = end
        self._changed = True

    def finish(self) -> _State:
        """The rewritten state (the source itself when nothing was replaced)."""
        if not self._changed:
            return self._src
        self._copy_to(len(self._src.text))
        return _State("".join(self._parts), self._starts, self._ends)

    def _copy_to(self, end: int) -> None:
        src, pos = self._src, self._pos
        if end > pos:
            self._parts.append(src.text[pos:end])
            self._starts.extend(src.starts[pos:end])
            self._ends.extend(src.ends[pos:end])
            self._pos = end


def _one_to_one(start: int, end: int) -> list[tuple[int, int]]:
    """Spans for an edit that replaces each character of text[start:end] by one character."""
    return [(i, i + 1) for i in range(start, end)]


class _Protected:
    """URLs and e-mail addresses of one text, which word-level steps leave alone."""

    __slots__ = ("_text", "_starts", "_ends")

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        """Whether text[start:end] touches a URL or an e-mail address."""
        if self._starts is None:
            self._find()
        assert self._starts is not None
        i = bisect.bisect_left(self._starts, end)
        return i > 0 and self._ends[i - 1] > start

    def _find(self) -> None:
        # Found on first use only (most texts never ask), and merged so that the spans are
        # disjoint and one bisection answers.
        found = sorted(
            m.span() for pattern in (_URL_RE, _EMAIL_RE) for m in pattern.finditer(self._text)
        )
        starts: list[int] = []
        ends: list[int] = []
        for low, high in found:
            if ends and low <= ends[-1]:
                ends[-1] = max(ends[-1], high)
            else:
                starts.append(low)
                ends.append(high)
        self._starts, self._ends = starts, ends


def _is_letter(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalpha()


def _is_word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


@functools.cache
def _mark_classes() -> tuple[str, str]:
    """Regex class bodies for all combining marks (M*) and for non-spacing marks (Mn)."""
    marks: list[int] = []
    nonspacing: list[int] = []
    # Marks live in planes 0, 1 and 14 (variation selectors); reading the database once
    # takes ~15 ms, so it happens on first use rather than at import.
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        category = unicodedata.category(chr(code))
        if category[0] == "M":
            marks.append(code)
            if category == "Mn":
                nonspacing.append(code)
    return _ranges_class(marks), _ranges_class(nonspacing)


def _ranges_class(codes: list[int]) -> str:
    """A regex character-class body matching exactly the sorted code points `codes`."""
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        low, high = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(low if i == j else f"{low}-{high}")
        i = j + 1
    return "".join(parts)


@functools.cache
def _nfkc_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(one character group, a chunk of groups) for the nfkc step."""
    marks, _ = _mark_classes()
    group = rf"(?s:.[{marks}]{{0,{_MAX_MARKS_PER_GROUP}}})"
    return re.compile(group), re.compile(rf"(?:{group}){{1,{_NFKC_CHUNK}}}")


@functools.cache
def _zalgo_pattern() -> re.Pattern[str]:
    """A stack of more than two non-spacing marks (the base is the character before it)."""
    _, nonspacing = _mark_classes()
    # The lookahead rejects ASCII before the long class is searched, which is 10x faster.
    return re.compile(rf"(?=[^\x00-\x7f])[{nonspacing}]{{3,}}+")


# --------------------------------------------------------------------------- steps


@functools.cache
def _cluster_pattern() -> re.Pattern[str]:
    """One character with the combining marks after it (what reversal keeps together)."""
    marks, _ = _mark_classes()
    return re.compile(rf"(?s:.)[{marks}]*+")


@functools.cache
def _mirrors() -> dict[int, str]:
    """Bidi-mirrored characters and their mirror image ("(" and ")", "<" and ">", "«" ...).

    Python has no BidiMirroring.txt; the pairs are found by name (LEFT/RIGHT, LESS/GREATER),
    which covers the brackets, angle quotation marks and comparison signs. Built on first use.
    """
    table: dict[int, str] = {}
    for code in range(0x10000):
        char = chr(code)
        if not unicodedata.mirrored(char):
            continue
        name = unicodedata.name(char, "")
        swapped = _MIRROR_WORD_RE.sub(lambda word: _MIRROR_WORDS[word.group()], name)
        if swapped == name:
            continue
        try:
            partner = unicodedata.lookup(swapped)
        except KeyError:
            continue
        if unicodedata.mirrored(partner):
            table[code] = partner
    return table


class _BidiScope:
    """An embedding, override or isolate of one bidi paragraph, or the paragraph itself."""

    __slots__ = ("kind", "opener", "end", "close", "items")

    def __init__(self, kind: int, opener: int) -> None:
        self.kind = kind
        self.opener = opener
        """Index of the control that opened it; its content starts right after."""
        self.end = opener + 1
        """Where its content ends (exclusive): the closing control or the paragraph's end."""
        self.close = opener + 1
        """Where it ends with its closing control, if it had one."""
        self.items: list[_BidiScope | tuple[int, int]] = []
        """Nested scopes and the (start, end) stretches of text between controls, in order."""

    def shut(self, end: int, close: int) -> None:
        self.end, self.close = end, close


def _step_bidi(state: _State) -> _State:
    """Drop bidi controls; read right-to-left overrides back in the order they are displayed."""
    text = state.text
    if text.isascii():
        return state
    found = _BIDI_CONTROL_RE.search(text)
    if found is None:
        return state
    out = _Rewriter(state)
    pos = found.start()
    while True:
        separator = _PARAGRAPH_SEPARATOR_RE.search(text, pos)
        paragraph_end = len(text) if separator is None else separator.start()
        if _BIDI_OVERRIDE_RE.search(text, pos, paragraph_end) is None:
            # Embeddings and isolates reorder nothing this step reads differently.
            for run in _BIDI_CONTROL_RUN_RE.finditer(text, pos, paragraph_end):
                out.replace(run.start(), run.end(), "")
        else:
            controls = [m.start() for m in _BIDI_CONTROL_RE.finditer(text, pos, paragraph_end)]
            _bidi_paragraph(text, controls, paragraph_end, out)
        found = _BIDI_CONTROL_RE.search(text, paragraph_end)
        if found is None:
            return out.finish()
        pos = found.start()


def _bidi_paragraph(text: str, controls: list[int], end: int, out: _Rewriter) -> None:
    """Rewrite one paragraph with an override: its `controls` up to `end` (exclusive)."""
    root = _BidiScope(_PLAIN, controls[0] - 1)
    # UAX #9 rules X1-X8 with the paragraph at level 0 (FSI counted as LRI): which control
    # opens or closes what, with the depth limit and the overflow counters.
    stack: list[tuple[_BidiScope, int, bool]] = [(root, 0, False)]  # scope, level, isolate
    overflow_isolates = overflow_embeddings = valid_isolates = 0
    cursor = controls[0]
    for i in controls:
        scope, level, _ = stack[-1]
        if i > cursor:
            scope.items.append((cursor, i))
        cursor = i + 1
        char = text[i]
        if char in (_LRE, _RLE, _LRO, _RLO, _LRI, _RLI, _FSI):
            odd = char in (_RLE, _RLO, _RLI)
            new_level = (level + 1) | 1 if odd else (level + 2) & ~1
            isolate = char in (_LRI, _RLI, _FSI)
            if new_level <= _MAX_BIDI_DEPTH and not overflow_isolates + overflow_embeddings:
                kind = _RTL_OVERRIDE if char == _RLO else _LTR_OVERRIDE if char == _LRO else _PLAIN
                child = _BidiScope(kind, i)
                scope.items.append(child)
                stack.append((child, new_level, isolate))
                valid_isolates += isolate
            elif isolate:
                overflow_isolates += 1
            elif not overflow_isolates:
                overflow_embeddings += 1
        elif char == _PDI:
            if overflow_isolates:
                overflow_isolates -= 1
            elif valid_isolates:
                # A PDI closes its isolate and whatever was left open inside it.
                overflow_embeddings = 0
                while not stack[-1][2]:
                    stack.pop()[0].shut(i, i)
                stack.pop()[0].shut(i, i + 1)
                valid_isolates -= 1
        elif char == _PDF:
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif not stack[-1][2] and len(stack) > 1:
                stack.pop()[0].shut(i, i + 1)
        # LRM, RLM and ALM only influence neutrals next to them: dropped.
    if end > cursor:
        stack[-1][0].items.append((cursor, end))
    while len(stack) > 1:
        stack.pop()[0].shut(end, end)  # unterminated: the paragraph's end closes it

    overrides: list[_BidiScope] = []
    _outermost_overrides(root, overrides)
    k = 0
    for scope in overrides:
        while k < len(controls) and controls[k] < scope.opener:
            out.replace(controls[k], controls[k] + 1, "")
            k += 1
        chars: list[str] = []
        sources: list[int] = []
        _render_scope(text, scope, chars, sources)
        if all(a < b for a, b in zip(sources, sources[1:], strict=False)):
            spans = [(s, s + 1) for s in sources]  # nothing moved: each keeps its own source
        else:
            spans = [(scope.opener + 1, scope.end)] * len(chars)  # the override's content
        out.replace(scope.opener, scope.close, "".join(chars), spans)
        while k < len(controls) and controls[k] < scope.close:
            k += 1
    for i in controls[k:]:
        out.replace(i, i + 1, "")


def _outermost_overrides(scope: _BidiScope, found: list[_BidiScope]) -> None:
    """The overrides inside `scope` (in order) that no other override contains."""
    for item in scope.items:
        if isinstance(item, _BidiScope):
            if item.kind == _PLAIN:
                _outermost_overrides(item, found)
            else:
                found.append(item)


def _render_scope(text: str, scope: _BidiScope, chars: list[str], sources: list[int]) -> None:
    """`scope`'s characters in reading order, each with the index it came from.

    Outside overrides the stored order is the reading order. Inside one, every character
    is displayed in the override's direction, so the content is taken in display order, and
    then each run of right-to-left letters (with the neutrals and numbers between them) is
    read right to left: an RLO reverses Latin text and leaves Hebrew or Arabic as stored,
    an LRO reverses only the Hebrew or Arabic. A character stays with its combining marks;
    nested scopes move as one block; RTL-displayed brackets are mirrored.
    """
    if scope.kind == _PLAIN:
        for item in scope.items:
            if isinstance(item, _BidiScope):
                _render_scope(text, item, chars, sources)
            else:
                chars.extend(text[item[0] : item[1]])
                sources.extend(range(item[0], item[1]))
        return
    nested: list[tuple[list[str], list[int]]] = []
    units: list[tuple[int, int, int]] = []  # (kind, start, end) or (_NESTED, index, 0)
    for item in scope.items:
        if isinstance(item, _BidiScope):
            inner_chars: list[str] = []
            inner_sources: list[int] = []
            _render_scope(text, item, inner_chars, inner_sources)
            units.append((_NESTED, len(nested), 0))
            nested.append((inner_chars, inner_sources))
            continue
        for cluster in _cluster_pattern().finditer(text, item[0], item[1]):
            direction = unicodedata.bidirectional(text[cluster.start()])
            kind = (
                _STRONG_RTL
                if direction in ("R", "AL")
                else _STRONG_LTR
                if direction == "L"
                else _NEUTRAL
            )
            units.append((kind, cluster.start(), cluster.end()))
    # Blocks: (is a right-to-left run, first unit, end unit).
    blocks: list[tuple[bool, int, int]] = []
    i = 0
    while i < len(units):
        if units[i][0] != _STRONG_RTL:
            blocks.append((False, i, i + 1))
            i += 1
            continue
        last = j = i
        while j + 1 < len(units) and units[j + 1][0] in (_STRONG_RTL, _NEUTRAL):
            j += 1
            if units[j][0] == _STRONG_RTL:
                last = j
        blocks.append((True, i, last + 1))
        i = last + 1
    rtl = scope.kind == _RTL_OVERRIDE
    mirrors = _mirrors() if rtl else {}
    for is_rtl_run, low, high in reversed(blocks) if rtl else blocks:
        if not is_rtl_run:
            order: Sequence[int] = (low,)
        elif rtl:
            order = range(low, high)
        else:
            order = range(high - 1, low - 1, -1)
        for u in order:
            kind, start, stop = units[u]
            if kind == _NESTED:
                chars.extend(nested[start][0])
                sources.extend(nested[start][1])
                continue
            base = text[start]
            chars.append(mirrors.get(ord(base), base) if not is_rtl_run else base)
            chars.extend(text[start + 1 : stop])
            sources.extend(range(start, stop))


def _step_nfkc(state: _State) -> _State:
    """NFKC per character group (a base and its marks); expansions map to their source."""
    text = state.text
    if text.isascii():
        return state
    group_re, chunk_re = _nfkc_patterns()
    out = _Rewriter(state)
    for run in _NON_ASCII_RUN_RE.finditer(text):
        start, end = run.span()
        if start > 0 and unicodedata.category(text[start])[0] == "M":
            start -= 1  # an ASCII base composes with the marks after it ("e" + U+0301)
        for chunk in chunk_re.finditer(text, start, end):
            if unicodedata.is_normalized("NFKC", chunk.group()):
                continue
            for group in group_re.finditer(text, chunk.start(), chunk.end()):
                source = group.group()
                normal = unicodedata.normalize("NFKC", source)
                if normal != source:
                    out.replace(group.start(), group.end(), normal)
    return out.finish()


def _step_zero_width(state: _State) -> _State:
    """Drop zero-width characters and soft hyphens, then strip zalgo mark stacks."""
    text = state.text
    if text.isascii():
        return state
    out = _Rewriter(state)
    for match in _ZERO_WIDTH_RE.finditer(text):
        start, end = match.span()
        if end - start == 1 and _is_legitimate_joiner(text, start):
            continue
        out.replace(start, end, "")
    state = out.finish()
    text = state.text
    out = _Rewriter(state)
    for match in _zalgo_pattern().finditer(text):
        start, end = match.span()
        # The match is a whole run of marks, so the character before it is its base.
        if start == 0:
            out.replace(start, end, "")
            continue
        base = text[start - 1]
        bare = base
        if base.isalpha():
            # The base's own precomposed marks belong to the zalgo too ("ȩ̬̩̾" -> "e").
            decomposed = unicodedata.normalize("NFD", base)
            kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
            bare = unicodedata.normalize("NFC", kept) or base
        out.replace(start - 1, end, bare)
    return out.finish()


def _is_legitimate_joiner(text: str, i: int) -> bool:
    """A lone ZWJ/ZWNJ between two non-Latin, non-ASCII characters (emoji, Persian, Indic).

    There they are orthography; filter dodging puts them inside Latin words.
    """
    if text[i] not in (_ZWJ, _ZWNJ) or i == 0 or i + 1 == len(text):
        return False
    return all(not c.isascii() and not _is_latin(c) for c in (text[i - 1], text[i + 1]))


def _is_latin(char: str) -> bool:
    return char.isascii() or (char.isalpha() and unicodedata.name(char, "").startswith("LATIN"))


@functools.cache
def _fold_pattern() -> re.Pattern[str]:
    """A word (letters and marks) with a non-ASCII letter or mark in it.

    The lookbehinds let a match start only at a word's start, and the ASCII head is read
    possessively, so ordinary English words cost one pass in the regex engine.
    """
    marks, _ = _mark_classes()
    unit = rf"(?:[^\W\d_]|[{marks}])"
    return re.compile(rf"(?<![^\W\d_])(?<![{marks}])[A-Za-z]*+(?=[^\x00-\x7f]){unit}++")


def _step_fold_accents(state: _State) -> _State:
    """Read Latin letters without their accents; drop combining marks with no base."""
    text = state.text
    if text.isascii():
        return state
    out = _Rewriter(state)
    for word in _fold_pattern().finditer(text):
        _fold_word(text, word.start(), word.end(), out)
    return out.finish()


def _fold_word(text: str, start: int, end: int, out: _Rewriter) -> None:
    """Fold text[start:end], a run of letters and combining marks."""
    i = start
    while i < end and _is_mark(text[i]):
        i += 1
    if i > start and not _marks_have_base(text, start):
        out.replace(start, i, "")  # after a space, punctuation or nothing: no base at all
    if not any(_is_latin(c) for c in text[i:end]):
        return  # Cyrillic, Greek, Hebrew, Arabic, Indic ...: the marks are orthography
    # A word with Latin letters loses all its marks; its Latin letters lose their accents.
    # Its other letters (look-alikes, "Ј\u0301ews") keep their shape for `confusables`.
    while i < end:
        j = i + 1
        while j < end and _is_mark(text[j]):
            j += 1
        base = text[i]
        folded = base if base.isascii() or not _is_latin(base) else _fold_latin(base)
        if j > i + 1 or folded != base:
            out.replace(i, j, folded, [(i, j)] * len(folded))
        i = j


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


def _marks_have_base(text: str, start: int) -> bool:
    """Whether the marks starting at text[start] sit on a character that takes marks there.

    That is a non-Latin letter, mark, number or symbol (an emoji's variation selector), also
    across a joiner (Bengali "র\u200d\u09cd"); ASCII digits count as Latin.
    """
    k = start - 1
    if k > 0 and text[k] in (_ZWJ, _ZWNJ):
        k -= 1
    if k < 0:
        return False
    base = text[k]
    return not _is_latin(base) and unicodedata.category(base)[0] in "LMNS"


@functools.lru_cache(maxsize=4096)
def _fold_latin(char: str) -> str:
    """A Latin letter without its diacritics: "é" -> "e", "ø" -> "o", "ǭ" -> "o"."""
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not _is_mark(c))
    if len(bare) == 1:
        # Letters with a stroke, hook or bar have no decomposition; their names say it.
        head, with_, tail = unicodedata.name(bare, "").partition(" WITH ")
        if with_ and head.startswith("LATIN ") and "LETTER" not in tail:
            try:
                bare = unicodedata.lookup(head)
            except KeyError:
                pass
    return bare or char


def _step_confusables(state: _State) -> _State:
    """Map Cyrillic/Greek look-alikes to Latin inside words that also contain Latin letters."""
    text = state.text
    if text.isascii():
        return state
    out = _Rewriter(state)
    for match in _CONFUSABLE_WORD_RE.finditer(text):
        word = match.group()
        if not any(c.isalpha() and c not in _CONFUSABLES and _is_latin(c) for c in word):
            continue  # plain Russian or Greek (or a word of look-alikes only): leave it
        start = match.start()
        for k, char in enumerate(word):
            latin = _CONFUSABLES.get(char)
            if latin is not None:
                out.replace(start + k, start + k + 1, latin, [(start + k, start + k + 1)])
    return out.finish()


def _step_spacing(state: _State) -> _State:
    """Join >=3 single letters spaced out with one consistent separator ("k i k e")."""
    text = state.text
    out = _Rewriter(state)
    protected = _Protected(text)
    for match in _SPACED_RE.finditer(text):
        start, end = match.span()
        letters = text[start:end:2]
        # "U.S.A." is how initialisms are written, so dotted letters only join into a word
        # the lexicons know ("n.a.z.i").
        if match.group("sep") == "." and letters.lower() not in _WORD_LEXICON:
            continue
        if not letters.strip("aAI"):
            continue  # "a", "A" and "I" are words of their own: "I a I" is no spelling
        if protected.overlaps(start, end):
            continue
        out.replace(start, end, letters, [(i, i + 1) for i in range(start, end, 2)])
    return out.finish()


def _step_masked(state: _State) -> _State:
    """Fill in masked profanity and slurs ("f*ck", "n****r") when one lexicon word fits."""
    text = state.text
    out = _Rewriter(state)
    protected = _Protected(text)
    for match in _MASKED_RE.finditer(text):
        start, end = match.span()
        while start < end and text[start] in _MASKS:
            start += 1
        while end > start and text[end - 1] in _SENTENCE_END:
            end -= 1
        if end - start >= 2 and text[end - 1] in _MASKS and text[end - 2] not in _MASKS:
            end -= 1  # one trailing mask is a footnote star more often than a letter
        if not 3 <= end - start <= _MAX_MASKED_LEN or not text[start].isalpha():
            continue
        filled = _fill_mask(text[start:end])
        if filled is None or protected.overlaps(start, end):
            continue
        replacement, spans = filled
        out.replace(start, end, replacement, [(start + a, start + b) for a, b in spans])
    return out.finish()


def _fill_mask(word: str) -> tuple[str, list[tuple[int, int]]] | None:
    """The one lexicon word `word` can be read as, with each output letter's span in `word`."""
    segments = _mask_segments(word)
    if len(segments) < 2 or any(c.isdigit() and c not in _LEET for c in word):
        return None
    if sum(len(piece) for kind, piece in segments if kind == "a") < 2:
        return None
    shape = tuple(
        (kind, str(len(piece)) if kind == "*" else _unleet(piece.lower()))
        for kind, piece in segments
    )
    found = _mask_matches(shape)
    if len(found) != 1:
        return None
    fills = iter(found[0][1])
    upper = sum(c.isupper() for c in word) >= 2 and not any(c.islower() for c in word)
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for kind, piece in segments:
        if kind == "*":
            fill = next(fills)
            parts.append(fill.upper() if upper else fill)
            if len(fill) == len(piece):
                spans.extend((pos + k, pos + k + 1) for k in range(len(piece)))
            else:
                spans.extend([(pos, pos + len(piece))] * len(fill))
        else:
            unleeted = _unleet(piece)
            parts.append(unleeted.upper() if upper else unleeted)
            spans.extend((pos + k, pos + k + 1) for k in range(len(piece)))
        pos += len(piece)
    return "".join(parts), spans


def _unleet(piece: str) -> str:
    """Leet digits of `piece` read as the letters they stand for."""
    return "".join(_LEET.get(c, c) if c.isdigit() else c for c in piece)


def _mask_segments(word: str) -> list[tuple[str, str]]:
    """`word` split into ("*", run of masks) and ("a", run of letters and digits)."""
    segments: list[tuple[str, str]] = []
    for char in word:
        kind = "*" if char in _MASKS else "a"
        if segments and segments[-1][0] == kind:
            segments[-1] = (kind, segments[-1][1] + char)
        else:
            segments.append((kind, char))
    return segments


@functools.lru_cache(maxsize=4096)
def _mask_matches(shape: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Lexicon words fitting a masked shape, each with the letters its mask runs stand for.

    A shape is ("a", lowered letters) and ("*", run length) pieces. Each mask is one letter;
    a run of three or more ("n****r") stands for a run of letters, give or take one.
    """
    parts: list[str] = []
    for kind, value in shape:
        if kind == "a":
            parts.append(re.escape(value))
            continue
        size = int(value)
        spread = 1 if size >= 3 else 0
        parts.append(f"([a-z]{{{size - spread},{size + spread}}})")
    pattern = re.compile("".join(parts))
    found: list[tuple[str, tuple[str, ...]]] = []
    for entry in sorted(MASK_LEXICON):
        matched = pattern.fullmatch(entry)
        if matched is not None:
            found.append((entry, matched.groups()))
    return tuple(found)


def _step_leet(state: _State) -> _State:
    """Read digits and symbols inside words as letters ("k1ke", "sh1t", "n1gg3r")."""
    text = state.text
    out = _Rewriter(state)
    protected = _Protected(text)
    for match in _LEET_RE.finditer(text):
        start, end = match.span()
        # "sh1t!!", "!!k1ke": exclamation marks and bars at the edges are punctuation.
        while start < end and text[start] in _WEAK_LEET:
            start += 1
        while end > start and text[end - 1] in _WEAK_LEET:
            end -= 1
        word = text[start:end]
        converted = _unleet_word(word)
        if converted is None or protected.overlaps(start, end):
            continue
        out.replace(start, end, converted, _one_to_one(start, end))
    return out.finish()


def _unleet_word(word: str) -> str | None:
    """`word` with its leet characters read as letters, or None when it is no leet word."""
    if "_" in word or any(c.isdigit() and c not in _LEET for c in word):
        return None  # "1980s", "b2b", "i18n", snake_case: not leet
    letters = [k for k, c in enumerate(word) if c.isalpha()]
    if not letters:
        return None  # "1948", "$5"
    upper = len(letters) >= 2 and all(word[k].isupper() for k in letters)
    converted = "".join(
        (_LEET[c].upper() if upper else _LEET[c]) if c in _LEET else c for c in word
    )
    if converted.lower() in _WORD_LEXICON:
        return converted
    if upper:
        return None  # "H1B", "F35": codes are written in capitals; "K1KE" is in the lexicon
    first, last = letters[0], letters[-1]
    interior = [k for k, c in enumerate(word) if c in _LEET and first < k < last]
    if not interior:
        return None  # "4chan", "mp3", "1st", "10am": digits at the edge are ordinary
    if all(word[k] in _WEAK_LEET for k in interior):
        return None
    return converted


def _step_repeats(state: _State) -> _State:
    """Collapse >=3 identical letters to 2 and >=4 identical punctuation marks to 3."""
    text = state.text
    out = _Rewriter(state)
    protected = _Protected(text)
    for match in _REPEAT_RE.finditer(text):
        start, end = match.span()
        keep = 2 if match.group("l") is not None else 3
        if keep == 2 and _is_ordinary_triple(text, start, end):
            continue
        if protected.overlaps(start, end):
            continue
        spans = [(start + k, start + k + 1) for k in range(keep - 1)]
        spans.append((start + keep - 1, end))  # the last kept character covers the rest
        out.replace(start, end, text[start : start + keep], spans)
    return out.finish()


def _is_ordinary_triple(text: str, start: int, end: int) -> bool:
    """A word that is only three equal letters ("AAA", "www") or a Roman numeral ("VIII")."""
    if end - start == 3 and not _is_letter(text, start - 1) and not _is_letter(text, end):
        return True
    if text[start] not in _ROMAN:
        return False
    low, high = start, end
    # Roman numerals are short; looking a few characters around keeps this O(1).
    while low > 0 and start - low < 8 and text[low - 1] in _ROMAN:
        low -= 1
    while high < len(text) and high - end < 8 and text[high] in _ROMAN:
        high += 1
    return not _is_letter(text, low - 1) and not _is_letter(text, high)


def _step_coded(state: _State) -> _State:
    """Insert marker tokens next to coded antisemitic forms (echo parens, zio-, Israhell ...)."""
    text = state.text
    out = _Rewriter(state)
    protected = _Protected(text)
    for match in _CODED_RE.finditer(text):
        start, end = match.span()
        replacement = _coded_replacement(match)
        if replacement is None or protected.overlaps(start, end):
            continue
        if _is_word(text, start - 1) and replacement[0].isalnum():
            replacement = " " + replacement
        if (
            end < len(text)
            and replacement[-1].isalnum()
            and (_is_word(text, end) or text[end] in "'’")
        ):
            replacement += " "  # else "Zio's" would tokenize as "xxcodedjew's"
        out.replace(start, end, replacement)
    return out.finish()


def _coded_replacement(match: re.Match[str]) -> str | None:
    """The canonical form plus marker for one match of `_CODED_RE`, or None to leave it."""
    kind = match.lastgroup
    if kind == "echo":
        name = match.group("echo_in").strip()
        return f"{ECHO_MARKER} {name}" if name else None
    if kind == "crypto":
        return f"{match.group('crypto_head')} {match.group('crypto_jew')} {CODED_MARKER}"
    if kind == "isra":
        head = match.group("isra_head")
        return f"{head}{'EL' if head.isupper() else 'el'} {match.group('isra_hell')} {CODED_MARKER}"
    if kind == "zio":
        head, rest = match.group("zio_head"), match.group("zio_rest")
        if rest.lower() in ("", "s"):
            return f"{head}{rest} {CODED_MARKER}"
        if rest.startswith("-"):
            return f"{head} {rest[1:]} {CODED_MARKER}"
        if rest.lower().startswith(ZIO_STEMS):
            return f"{head} {rest} {CODED_MARKER}"
        return None  # Zion, Zionist, Zionism, Ziobro
    return f"{match.group()} {CODED_MARKER}"


def _lexicon_alternation(terms: Collection[str]) -> str:
    """Terms as one regex alternation, longest first, any whitespace between words."""
    ordered = sorted(terms, key=lambda term: (-len(term), term))
    return "|".join(r"\s+".join(re.escape(word) for word in term.split()) for term in ordered)


_WORD_LEXICON: frozenset[str] = MASK_LEXICON | {t for t in CODED_LEXICON if " " not in t}
_CODED_FIRST_LETTERS = "".join(sorted({term[0] for term in CODED_LEXICON} | set("ciz")))
# One scan for every coded form. Echo parentheses start with a literal "(((" so the regex
# engine can jump between candidates; the lookbehind lets a run of "(" start a match only
# at its first three. The word forms are only tried at letters that can start one.
_CODED_RE = re.compile(
    r"(?P<echo>\(\(\((?<!\(\(\(\()\(*+\s*+(?P<echo_in>[^()\n]{1,80}?)\s*+\)\)\)\)*+)"
    rf"|(?=[{_CODED_FIRST_LETTERS}])\b(?:"
    r"(?P<crypto>(?P<crypto_head>crypto)-?(?P<crypto_jew>jews?)\b)"
    rf"|(?P<isra>(?P<isra_head>isra)(?P<isra_hell>hell{_LETTER}*+)(?!\w))"
    rf"|(?P<zio>(?P<zio_head>zio)(?P<zio_rest>(?:-(?={_LETTER}))?{_LETTER}*+)(?!\w))"
    rf"|(?P<lex>(?:{_lexicon_alternation(CODED_LEXICON)})\b))",
    re.IGNORECASE,
)


_STEP_FUNCTIONS: dict[str, Callable[[_State], _State]] = {
    "bidi": _step_bidi,
    "nfkc": _step_nfkc,
    "zero_width": _step_zero_width,
    "fold_accents": _step_fold_accents,
    "confusables": _step_confusables,
    "spacing": _step_spacing,
    "masked": _step_masked,
    "leet": _step_leet,
    "repeats": _step_repeats,
    "coded": _step_coded,
}

"""Text features shared by every head: normalised word and character n-grams plus shape.

One `TextFeatures` transformer turns raw comment texts into one sparse matrix; every head
reads its columns, so a batch is normalised and vectorised once however many heads score it.
The analyzers are module-level functions (pickles name them by import path; renaming one
breaks old bundles, which is what `FEATURE_SCHEMA` is for) and each has a positional twin
that says which characters every n-gram came from, so a linear head's weights can be turned
into evidence spans in the original text.

Parameters and columns are documented numpydoc-style here because the column layout
(word block, char block, shape block) is what the heads and the evidence code rely on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.utils import murmurhash3_32

from app.domain import Thread

# Re-exported: their home is app.labels, which imports nothing heavy.
from app.labels import (
    ARTICLE_CONTEXT_CHARS as ARTICLE_CONTEXT_CHARS,
)
from app.labels import (
    TOPIC_CHARS as TOPIC_CHARS,
)
from app.labels import (
    article_context as article_context,
)
from app.labels import (
    topic_key as topic_key,
)
from app.labels import (
    topic_of as topic_of,
)
from app.sentences import windows
from app.speedups import compiled
from app.textnorm import DEFAULT_STEPS, Normalised, normalise

# Bump when anything a pickled bundle refers to changes meaning or import path. Schema 2
# added the shape and cross versions, sentence windows and reply cues; a schema-1 bundle
# reads their defaults (its attributes are absent from the pickle) and scores as it did.
FEATURE_SCHEMA = 2
READABLE_SCHEMAS = (1, 2)

# Words, contractions kept whole, and runs of ! or ? (shouting and incredulity are signals).
WORD_RE = re.compile(r"\w+(?:['’]\w+)*|[!?]+")
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
SHAPE_NAMES = (
    "log_chars",
    "upper_ratio",
    "shout_words",
    "exclamations",
    "questions",
    "urls",
    "digits_ratio",
)
# Shape version 2 adds how many words a text has: a text of one token has all its TF-IDF
# weight on that token, so "a" or "?" scored like the tweets the token is common in; with
# the word count (and whether there is any letter at all) a head can learn that nearly
# empty comments carry no signal.
SHAPE_NAMES_V2 = (*SHAPE_NAMES, "log_words", "no_letters", "one_word")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_LETTERED_WORD_RE = re.compile(r"\S*[^\W\d_]\S*")
_NON_SPACE_RE = re.compile(r"\S+")


def lower_with_map(text: str) -> tuple[str, list[int]]:
    """`text.lower()` and, per lowered character, the index of the character it came from.

    Returns
    -------
    lowered : str
    index : list[int]
        ``len(lowered)`` entries; a few characters (e.g. 'İ') lower to two.
    """
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered, list(range(len(text)))
    parts: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        low = char.lower()
        parts.append(low)
        index.extend([i] * len(low))
    return "".join(parts), index


def word_tokens(lowered: str) -> list[tuple[str, int, int]]:
    """Word tokens of already-lowered text with their (start, end) positions."""
    return [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(lowered)]


def word_analyzer(text: str) -> list[str]:
    """Word unigrams and bigrams of normalised text (the word block's analyzer)."""
    tokens = WORD_RE.findall(text.lower())
    grams = list(tokens)
    grams.extend(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return grams


def word_grams_with_spans(lowered: str) -> list[tuple[str, int, int]]:
    """The n-grams of `word_analyzer`, in the same order, each with the span it covers."""
    tokens = word_tokens(lowered)
    grams = list(tokens)
    grams.extend((f"{a[0]} {b[0]}", a[1], b[2]) for a, b in zip(tokens, tokens[1:], strict=False))
    return grams


def word_columns(tokens: list[str], vocabulary: dict[str, int], out: list[int]) -> None:
    """Append to `out` the columns of `word_analyzer`'s n-grams of `tokens` (in its order)
    that `vocabulary` holds."""
    get = vocabulary.get
    out.extend([c for c in map(get, tokens) if c is not None])
    out.extend(
        [c for c in map(get, map(" ".join, zip(tokens, tokens[1:], strict=False))) if c is not None]
    )


_word_columns = compiled("word_columns", word_columns)


def char_analyzer(text: str) -> list[str]:
    """Character 2- to 5-grams inside space-padded words of normalised text (the char block)."""
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    append = grams.append
    for word in text.lower().split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, min(high, size) + 1):
            for i in range(size - n + 1):
                append(padded[i : i + n])
    return grams


def char_grams_with_spans(lowered: str) -> list[tuple[str, int, int]]:
    """The n-grams of `char_analyzer` with the characters of `lowered` each one covers.

    The padding spaces cover no character, so a gram's span is clipped to its word.
    """
    low, high = CHAR_NGRAMS
    grams: list[tuple[str, int, int]] = []
    for match in re.finditer(r"\S+", lowered):
        padded = f" {match.group()} "
        size = len(padded)
        base = match.start() - 1  # padded index j is lowered index base + j
        word_start, word_end = match.start(), match.end()
        for n in range(low, min(high, size) + 1):
            for i in range(size - n + 1):
                start = max(base + i, word_start)
                end = min(base + i + n, word_end)
                grams.append((padded[i : i + n], start, end))
    return grams


def shape_features(text: str) -> list[float]:
    """Case and punctuation signals that lower-cased n-grams cannot see (see SHAPE_NAMES)."""
    letters = sum(c.isalpha() for c in text)
    upper = sum(c.isupper() for c in text)
    words = text.split()
    shout = sum(1 for w in words if len(w) >= 3 and w.isupper())
    digits = sum(c.isdigit() for c in text)
    return [
        math.log1p(len(text)),
        upper / letters if letters else 0.0,
        math.log1p(shout),
        math.log1p(text.count("!")),
        math.log1p(text.count("?")),
        math.log1p(len(_URL_RE.findall(text))),
        digits / len(text) if text else 0.0,
    ]


def shape_features_v2(text: str) -> list[float]:
    """`shape_features` plus the word-count signals of SHAPE_NAMES_V2 (same first seven)."""
    letters, upper, digits, shout = _shape_counts(text)
    lettered = len(_LETTERED_WORD_RE.findall(text))
    return [
        math.log1p(len(text)),
        upper / letters if letters else 0.0,
        math.log1p(shout),
        math.log1p(text.count("!")),
        math.log1p(text.count("?")),
        math.log1p(len(_URL_RE.findall(text))),
        digits / len(text) if text else 0.0,
        math.log1p(lettered),
        0.0 if letters else 1.0,
        1.0 if lettered == 1 else 0.0,
    ]


def shape_counts(text: str) -> tuple[int, int, int, int]:
    """Letters, upper-case characters, digits and shouted words (three or more characters,
    all cased ones upper case) of `text`: the character counts of the shape block."""
    letters = sum(map(str.isalpha, text))
    upper = sum(map(str.isupper, text))
    digits = sum(map(str.isdigit, text))
    shout = sum(1 for w in text.split() if len(w) >= 3 and w.isupper())
    return letters, upper, digits, shout


# The compiled twin where it was built (app/_speedups.pyx; the same counts).
_shape_counts: Callable[[str], tuple[int, int, int, int]] = compiled("shape_counts", shape_counts)

SHAPES: dict[int, tuple[tuple[str, ...], Callable[[str], list[float]]]] = {
    1: (SHAPE_NAMES, shape_features),
    2: (SHAPE_NAMES_V2, shape_features_v2),
}


# The cross block (cross version 1): words crossed with two contexts a bag of n-grams
# cannot see. "g|" + word for every word of a sentence that names a protected group, so
# the heads can weigh "vermin" said about a group apart from "vermin" said about
# politicians; "n|" + word for up to four words after a negation, so "not vermin" and "not
# capable" get weights of their own (negation marking, Das & Chen 2001). Hashed, so it
# needs no vocabulary; counted per sentence window (app.sentences).
CROSS_FEATURES = 2**18
GROUP_TERMS_RE = re.compile(
    r"\b(?:jews?|jewish|jewry|zionists?|muslims?|islam|islamic|christians?|catholics?|blacks?|"
    r"africans?|african americans?|negroe?s?|asians?|chinese|japanese|koreans?|vietnamese|"
    r"indians?|pakistanis?|arabs?|arabic|palestinians?|syrians?|hispanics?|latin[oax]s?|"
    r"latinas?|mexicans?|roma|romani|gyps(?:y|ies)|travell?ers?|immigrants?|refugees?|"
    r"migrants?|asylum seekers?|foreigners?|illegals|wom[ae]n|females?|girls?|gays?|"
    r"lesbians?|trans|transgender|transsexuals?|queers?|bisexuals?|homosexuals?|lgbt\w*|"
    r"disabled|disabilit(?:y|ies)|autistic|wheelchair|blind|deaf|cripples?|retard(?:s|ed)?|"
    r"spastics?|kikes?|yids?|heebs?|niggers?|niggas?|coons?|chinks?|gooks?|spics?|"
    r"wetbacks?|beaners?|ragheads?|towelheads?|muzzies|faggots?|fags?|dykes?|trannies|"
    r"tranny|goyim|xxechoparens|xxcodedjew)\b"
)
_TOKEN_RE = re.compile(r"\w+")
# Whether a \w+ token is itself a group term, remembered per token (bounded).
_GROUP_TOKENS: dict[str, bool] = {}
_GROUP_MEMORY = 200_000


def names_group(lowered: str, start: int = 0, end: int | None = None) -> bool:
    r"""Whether `GROUP_TERMS_RE` matches in lowered[start:end], an order of magnitude faster.

    Every alternative but "asylum seekers?" is made of word characters between word
    boundaries, so it matches exactly where a whole \w+ token is one; a token is checked
    once and remembered. Only the token "asylum" leaves the question to the pattern itself.
    """
    stop = len(lowered) if end is None else end
    known = _GROUP_TOKENS
    for token in _TOKEN_RE.findall(lowered, start, stop):
        found = known.get(token)
        if found is None:
            found = GROUP_TERMS_RE.fullmatch(token) is not None
            if len(known) >= _GROUP_MEMORY:
                known.clear()
            known[token] = found
        if found:
            return True
        if token == "asylum" and GROUP_TERMS_RE.search(lowered, start, stop) is not None:
            return True
    return False


_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|nobody|none|nothing|neither|nor|cannot|without)\b|n't\b"
)
_SCOPE_END_RE = re.compile(r"[.,;:!?]")
NEGATION_SCOPE = 4


def cross_grams_with_spans(lowered: str) -> list[tuple[str, int, int]]:
    """The cross block's tokens of lower-cased normalised text, each with its word's span."""
    grams: list[tuple[str, int, int]] = []
    # Most texts name no group and negate nothing: two searches settle it. (A window ends
    # before whitespace or at the text's end, so a window holds a match only where the
    # whole text does.)
    if _NEGATION_RE.search(lowered) is None and not names_group(lowered):
        return grams
    for start, end in windows(lowered) or [(0, len(lowered))]:
        grouped = names_group(lowered, start, end)
        cues = list(_NEGATION_RE.finditer(lowered, start, end))
        if not grouped and not cues:
            continue
        words = [
            (m.group(), m.start(), m.end())
            for m in WORD_RE.finditer(lowered, start, end)
            if m.group()[0] not in "!?"
        ]
        if grouped:
            grams.extend((f"g|{w}", a, b) for w, a, b in words)
        for cue in cues:
            stop = _SCOPE_END_RE.search(lowered, cue.end(), end)
            limit = stop.start() if stop else end
            scoped = [(w, a, b) for w, a, b in words if cue.end() <= a and b <= limit]
            grams.extend((f"n|{w}", a, b) for w, a, b in scoped[:NEGATION_SCOPE])
    return grams


def cross_column(gram: str) -> int:
    """The hashed column of a cross token."""
    column = _CROSS_COLUMNS.get(gram)
    if column is None:
        column = int(murmurhash3_32(gram, seed=0, positive=True)) % CROSS_FEATURES
        if len(_CROSS_COLUMNS) >= _CROSS_MEMORY:
            _CROSS_COLUMNS.clear()
        _CROSS_COLUMNS[gram] = column
    return column


# Cross tokens repeat like words do; hashing one costs more than looking it up.
_CROSS_MEMORY = 100_000
_CROSS_COLUMNS: dict[str, int] = {}


def cross_rows(normalised: Sequence[str]) -> sp.csr_matrix:
    """The cross block of each normalised text: token counts, l2-normalised rows."""
    return cross_parts(normalised).matrix()


def cross_parts(normalised: Sequence[str]) -> Rows:
    """`cross_rows` as parts."""
    flat: list[int] = []
    lengths: list[int] = []
    for text in normalised:
        before = len(flat)
        flat.extend([cross_column(gram) for gram, _, _ in cross_grams_with_spans(text.lower())])
        lengths.append(len(flat) - before)
    counts = counted(
        np.asarray(flat, dtype=np.int32), np.asarray(lengths, dtype=np.int64), CROSS_FEATURES
    )
    return l2_rows(counts)


@dataclass(frozen=True)
class Blocks:
    """Column ranges of the blocks of a `TextFeatures` matrix (cross: None without one)."""

    word: slice
    char: slice
    shape: slice
    cross: slice | None = None

    @property
    def stop(self) -> int:
        """The number of columns."""
        return int((self.cross or self.shape).stop)


class TextFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Normalise texts once, then word TF-IDF | char TF-IDF | shape features (CSR, float32).

    Parameters
    ----------
    steps : collection of str
        Normalisation steps of `app.textnorm` to apply (all by default).
    word_max_features, char_max_features : int
        Vocabulary caps, which bound the bundle size and the scoring cost.
    min_df : int
        Minimum document frequency of a kept n-gram.
    shape_version : int
        Which shape block (`SHAPES`); bundles fitted before version 2 lack the attribute and
        read the class default, 1.
    """

    shape_version: int = 1
    cross_version: int = 0

    def __init__(
        self,
        *,
        steps: Collection[str] = DEFAULT_STEPS,
        word_max_features: int = 60_000,
        char_max_features: int = 150_000,
        min_df: int = 3,
        shape_version: int = 2,
        cross_version: int = 1,
    ) -> None:
        self.steps = steps
        self.shape_version = shape_version
        self.cross_version = cross_version
        self.word_max_features = word_max_features
        self.char_max_features = char_max_features
        self.min_df = min_df

    def normalise_all(self, texts: Iterable[str]) -> list[str]:
        """The normalised form of every text, as the vectorisers see it."""
        return [n.text for n in self.normalise_many(texts)]

    def normalise_many(self, texts: Iterable[str]) -> list[Normalised]:
        """Every text normalised with its offset map (kept when evidence will need it)."""
        steps = frozenset(self.steps)
        return [normalise(text, steps) for text in texts]

    def normalise_one(self, text: str) -> Normalised:
        """One text normalised with its offset map (for evidence)."""
        return normalise(text, frozenset(self.steps))

    def fit(self, texts: Sequence[str], y: object = None) -> TextFeatures:
        """Learn both vocabularies and the IDF weights from `texts`."""
        normalised = self.normalise_all(texts)
        self.word_ = TfidfVectorizer(
            analyzer=word_analyzer,
            min_df=self.min_df,
            max_features=self.word_max_features,
            sublinear_tf=True,
            dtype=np.float32,
        ).fit(normalised)
        self.char_ = TfidfVectorizer(
            analyzer=char_analyzer,
            min_df=self.min_df,
            max_features=self.char_max_features,
            sublinear_tf=True,
            dtype=np.float32,
        ).fit(normalised)
        names, shape = SHAPES[self.shape_version]
        shapes = np.array(
            [shape(t) for t in self._shape_inputs(texts, normalised)], dtype=np.float64
        )
        self.shape_mean_ = shapes.mean(axis=0) if len(shapes) else np.zeros(len(names))
        spread = shapes.std(axis=0) if len(shapes) else np.ones(len(names))
        self.shape_scale_ = np.where(spread > 0, spread, 1.0)
        n_word = len(self.word_.vocabulary_)
        n_char = len(self.char_.vocabulary_)
        shape_end = n_word + n_char + len(names)
        self.blocks_ = Blocks(
            word=slice(0, n_word),
            char=slice(n_word, n_word + n_char),
            shape=slice(n_word + n_char, shape_end),
            cross=slice(shape_end, shape_end + CROSS_FEATURES) if self.cross_version else None,
        )
        return self

    def _shape_inputs(self, texts: Sequence[str], normalised: Sequence[str]) -> Sequence[str]:
        """What the shape block reads: the original texts (version 1) or, from version 2,
        the normalised ones, which keep case and punctuation but not the marks, bidi
        controls and zero-width characters an evasion adds."""
        return texts if self.shape_version == 1 else normalised

    def _char_columns(self) -> WordCharColumns:
        """The per-word char column memory (made on first use, never pickled)."""
        memory: WordCharColumns | None = self.__dict__.get("_char_memory")
        if memory is None or memory.vocabulary is not self.char_.vocabulary_:
            memory = WordCharColumns(self.char_.vocabulary_)
            self.__dict__["_char_memory"] = memory
        return memory

    def __getstate__(self) -> dict[str, object]:
        state = dict(super().__getstate__())
        state.pop("_char_memory", None)
        return state

    def _word_rows(self, normalised: Sequence[str]) -> Rows:
        """The word block: `tfidf_rows` with `word_analyzer`, its n-grams looked up as
        they are made."""
        vectorizer = self.word_
        if vectorizer.norm != "l2" or not vectorizer.use_idf:
            matrix = tfidf_rows(vectorizer, word_analyzer, normalised)
            return Rows(matrix.data, matrix.indices, matrix.indptr, matrix.shape[1])
        vocabulary = vectorizer.vocabulary_
        flat: list[int] = []
        lengths: list[int] = []
        findall = WORD_RE.findall
        for text in normalised:
            before = len(flat)
            _word_columns(findall(text.lower()), vocabulary, flat)
            lengths.append(len(flat) - before)
        return weighted_parts(
            vectorizer, np.asarray(flat, dtype=np.int32), np.asarray(lengths, dtype=np.int64)
        )

    def char_spans(self, lowered: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Char block column, start and end of each in-vocabulary char n-gram of `lowered`."""
        return self._char_columns().spans(lowered)

    @property
    def n_features(self) -> int:
        """Total number of columns of `transform`'s matrix."""
        return self.blocks_.stop

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One CSR row per text: word block, char block, shape block."""
        return self.transform_normalised(texts, self.normalise_all(texts))

    def transform_normalised(
        self, texts: Sequence[str], normalised: Sequence[str]
    ) -> sp.csr_matrix:
        """Like `transform` when the caller already holds the normalised texts."""
        words = self._word_rows(normalised)
        chars = weighted_parts(self.char_, *self._char_columns().batch(normalised))
        names, shape = SHAPES[self.shape_version]
        inputs = self._shape_inputs(texts, normalised)
        shapes = (
            np.array([shape(t) for t in inputs], dtype=np.float64).reshape(len(texts), len(names))
            - self.shape_mean_
        ) / self.shape_scale_
        blocks = [words, chars, _dense_rows(shapes.astype(np.float32))]
        if self.cross_version:
            blocks.append(cross_parts(normalised))
        return hstack_rows(blocks)


def _dense_rows(values: np.ndarray) -> Rows:
    """A dense float32 block as parts, zeros left out (as a CSR matrix of it holds them)."""
    rows, columns = np.nonzero(values)
    indptr = np.zeros(values.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=values.shape[0]), out=indptr[1:])
    return Rows(values[rows, columns], columns.astype(np.int32), indptr, values.shape[1])


def tfidf_rows(
    vectorizer: TfidfVectorizer, analyzer: Callable[[str], list[str]], texts: Sequence[str]
) -> sp.csr_matrix:
    """What `vectorizer.transform(texts)` returns, without scikit-learn's per-call checks.

    For a handful of short texts those checks cost more than the counting; this does the
    same arithmetic from the fitted vocabulary and IDF weights (sublinear tf, IDF, l2 norm,
    float32), which a test compares with scikit-learn's own transform.
    """
    if vectorizer.norm != "l2" or not vectorizer.use_idf:
        matrix: sp.csr_matrix = vectorizer.transform(texts)
        return matrix
    get = vectorizer.vocabulary_.get
    flat: list[int] = []
    lengths: list[int] = []
    for text in texts:
        before = len(flat)
        flat.extend([c for c in map(get, analyzer(text)) if c is not None])
        lengths.append(len(flat) - before)
    return weighted_counts(
        vectorizer, np.asarray(flat, dtype=np.int32), np.asarray(lengths, dtype=np.int64)
    )


def weighted_rows(vectorizer: TfidfVectorizer, columns: Sequence[Sequence[int]]) -> sp.csr_matrix:
    """TF-IDF rows (sublinear tf, IDF, l2 norm, float32) from each row's n-gram columns."""
    lengths = np.asarray([len(found) for found in columns], dtype=np.int64)
    flat = np.asarray([c for found in columns for c in found], dtype=np.int32)
    return weighted_counts(vectorizer, flat, lengths)


class Rows(NamedTuple):
    """The parts of a CSR matrix (float32 data, int32 indices sorted per row, int64 indptr)
    and its width: blocks are assembled as parts and made a matrix once, because scipy's
    checks on every matrix it builds cost more than the arithmetic for a single comment."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    width: int

    def matrix(self) -> sp.csr_matrix:
        """The CSR matrix of these parts."""
        return sp.csr_matrix(
            (self.data, self.indices, self.indptr), shape=(len(self.indptr) - 1, self.width)
        )


def hstack_rows(blocks: Sequence[Rows]) -> sp.csr_matrix:
    """The blocks side by side, as `scipy.sparse.hstack` gives them (one CSR matrix)."""
    n = len(blocks[0].indptr) - 1
    lengths = [np.diff(block.indptr) for block in blocks]
    per_row = np.sum(lengths, axis=0) if n else np.zeros(0, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    total = int(indptr[-1])
    data = np.empty(total, dtype=np.float32)
    indices = np.empty(total, dtype=np.int32)
    before = indptr[:-1].copy()
    offset = 0
    for block, length in zip(blocks, lengths, strict=True):
        # Each block's entries of row r follow the earlier blocks' entries of that row.
        target = np.repeat(before - block.indptr[:-1], length) + np.arange(len(block.data))
        data[target] = block.data
        indices[target] = block.indices + offset
        before += length
        offset += block.width
    return sp.csr_matrix((data, indices, indptr), shape=(n, offset))


def counted(flat: np.ndarray, lengths: np.ndarray, n_columns: int) -> Rows:
    """Rows of occurrence counts (float32, columns sorted) from every row's columns in a row.

    `flat` holds the columns of row 0, then of row 1, ... (`lengths` says how many each).
    """
    indptr, indices, counts = _count_rows(
        np.ascontiguousarray(flat, dtype=np.int32),
        np.ascontiguousarray(lengths, dtype=np.int64),
        n_columns,
    )
    return Rows(counts, indices, indptr, n_columns)


def count_rows(
    flat: np.ndarray, lengths: np.ndarray, n_columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR indptr, indices (sorted per row) and float32 counts of `counted`'s rows.

    scipy's compiled duplicate summing does the counting; the compiled twin counts into a
    scratch array instead of sorting every occurrence, about twice as fast.
    """
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    matrix = sp.csr_matrix(
        (np.ones(len(flat), dtype=np.float32), flat.astype(np.int32), indptr),
        shape=(len(lengths), n_columns),
    )
    matrix.sum_duplicates()
    return matrix.indptr.astype(np.int64), matrix.indices, matrix.data


_count_rows = compiled("count_rows", count_rows)


def l2_rows(rows: Rows) -> Rows:
    """`rows` with every non-empty row scaled to unit length (sums in float64, float32 out)."""
    data = rows.data
    bounds = rows.indptr.astype(np.int64)
    lengths = np.diff(bounds)
    if len(data):
        squares = np.add.reduceat(data.astype(np.float64) ** 2, bounds[:-1][lengths > 0])
        norms = np.ones(len(lengths), dtype=np.float64)
        norms[lengths > 0] = np.sqrt(squares)
        data = (data / np.repeat(norms, lengths)).astype(np.float32)
    return Rows(data, rows.indices, bounds, rows.width)


def weighted_counts(
    vectorizer: TfidfVectorizer, flat: np.ndarray, lengths: np.ndarray
) -> sp.csr_matrix:
    """`weighted_rows` of columns given as one flat array and each row's length."""
    return weighted_parts(vectorizer, flat, lengths).matrix()


def weighted_parts(vectorizer: TfidfVectorizer, flat: np.ndarray, lengths: np.ndarray) -> Rows:
    """`weighted_counts` as parts."""
    counts = counted(flat, lengths, len(vectorizer.vocabulary_))
    data = counts.data
    if vectorizer.sublinear_tf:
        data = np.log(data) + np.float32(1.0)
    data = data * vectorizer.idf_.astype(np.float32)[counts.indices]
    return l2_rows(counts._replace(data=data))


class WordCharColumns:
    """The char block's in-vocabulary columns of each word, remembered word by word.

    Char n-grams never cross a space (`char_analyzer` pads each word), so a text's char
    columns are the concatenation of its words' columns. Words repeat (Zipf), so looking a
    word up once instead of cutting it into ~4 n-grams per character makes the char block,
    the most expensive part of scoring, several times cheaper. A word's columns are kept as
    the bytes of an int32 array, so a whole batch's columns are one `bytes.join`. The
    memory is bounded: when it holds `limit` words it starts again.
    """

    def __init__(self, vocabulary: dict[str, int], limit: int = 200_000) -> None:
        self.vocabulary = vocabulary
        self.limit = limit
        self.known: dict[str, bytes] = {}
        self.known_spans: dict[str, tuple[bytes, bytes, bytes]] = {}

    def __call__(self, text: str) -> list[int]:
        """The char columns of one text, in `char_analyzer`'s order."""
        flat, _ = self.batch([text])
        columns: list[int] = flat.tolist()
        return columns

    def batch(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every text's columns in one int32 array, and how many belong to each text."""
        parts: list[bytes] = []
        lengths: list[int] = []
        known = self.known
        for text in texts:
            size = 0
            for word in text.lower().split():
                found = known.get(word)
                if found is None:
                    found = self._columns(word)
                    if len(known) >= self.limit:
                        known.clear()
                    known[word] = found
                parts.append(found)
                size += len(found)
            lengths.append(size // 4)
        flat = np.frombuffer(b"".join(parts), dtype=np.int32)
        return flat, np.asarray(lengths, dtype=np.int64)

    def spans(self, lowered: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column, start and end (in `lowered`) of each in-vocabulary char n-gram, in
        `char_grams_with_spans`' order (what evidence credits).

        A word's grams cover the same characters of the word wherever it stands, so they
        are remembered relative to the word (in a memory of their own, bounded like the
        columns') and moved to each occurrence.
        """
        return _char_gram_spans(lowered, self.known_spans, self._remember_spans)

    def _remember_spans(self, word: str) -> tuple[bytes, bytes, bytes]:
        found = self._spans(word)
        if len(self.known_spans) >= self.limit // 4:
            self.known_spans.clear()
        self.known_spans[word] = found
        return found

    def _spans(self, word: str) -> tuple[bytes, bytes, bytes]:
        get = self.vocabulary.get
        found = []
        for gram, start, n in _padded_grams(word):
            column = get(gram)
            first, last = max(start, 0), min(start + n, len(word))
            if column is not None and last > first:
                found.append((column, first, last))
        table = np.asarray(found, dtype=np.int64).reshape(len(found), 3)
        return tuple(np.ascontiguousarray(table[:, k]).tobytes() for k in range(3))  # type: ignore[return-value]

    def _columns(self, word: str) -> bytes:
        low, high = CHAR_NGRAMS
        get = self.vocabulary.get
        padded = f" {word} "
        size = len(padded)
        found = []
        for n in range(low, min(high, size) + 1):
            for i in range(size - n + 1):
                column = get(padded[i : i + n])
                if column is not None:
                    found.append(column)
        return np.asarray(found, dtype=np.int32).tobytes()


def char_gram_spans(
    lowered: str,
    known: dict[str, tuple[bytes, bytes, bytes]],
    remember: Callable[[str], tuple[bytes, bytes, bytes]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column, start and end of the char n-grams of `lowered`'s words, from each word's
    remembered (columns, starts, ends) int64 bytes (`remember(word)` makes and keeps them
    where `known` lacks the word), moved to where the word stands."""
    columns: list[bytes] = []
    starts: list[bytes] = []
    ends: list[bytes] = []
    word_starts: list[int] = []
    counts: list[int] = []
    for match in _NON_SPACE_RE.finditer(lowered):
        word = match.group()
        found = known.get(word)
        if found is None:
            found = remember(word)
        columns.append(found[0])
        starts.append(found[1])
        ends.append(found[2])
        word_starts.append(match.start())
        counts.append(len(found[0]) // 8)
    where = np.repeat(np.asarray(word_starts, dtype=np.int64), counts)
    return (
        np.frombuffer(b"".join(columns), dtype=np.int64).copy(),
        np.frombuffer(b"".join(starts), dtype=np.int64) + where,
        np.frombuffer(b"".join(ends), dtype=np.int64) + where,
    )


_char_gram_spans = compiled("char_gram_spans", char_gram_spans)


def _padded_grams(word: str) -> Iterator[tuple[str, int, int]]:
    """`char_analyzer`'s grams of one word, each with where it starts in the word (-1 for
    the leading pad) and its length."""
    low, high = CHAR_NGRAMS
    padded = f" {word} "
    size = len(padded)
    for n in range(low, min(high, size) + 1):
        for i in range(size - n + 1):
            yield padded[i : i + n], i - 1, n


def row_cosine(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Row-wise cosine similarity of two equally long sparse matrices (0 for empty rows)."""
    dot = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    norm_a = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    norm_b = np.sqrt(np.asarray(b.multiply(b).sum(axis=1)).ravel())
    denom = norm_a * norm_b
    result: np.ndarray = np.divide(
        dot, denom, out=np.zeros_like(dot, dtype=np.float64), where=denom > 0
    )
    return result


CROSS_FEATURES = 2**18


def _cross_analyzer(document: str) -> list[str]:
    """Tokens of a `topic-key \\x1f normalised text` document, each prefixed by its topic."""
    key, _, text = document.partition("\x1f")
    return [f"{key}|{token}" for token in word_analyzer(text)]


def cross_topic_matrix(
    normalised: Sequence[str], topics: Sequence[str], known: Collection[str]
) -> sp.csr_matrix:
    """Topic x word-n-gram features, for rows whose topic the stance head was trained on.

    A linear model cannot learn that "pro-life" is against one topic and for another from
    shared word weights alone; crossing words with the topic lets it. Rows with an unknown
    topic get an empty row rather than hash collisions with other topics' weights.
    """
    known_set = frozenset(known)
    documents = [
        f"{key}\x1f{text}" if key in known_set else ""
        for key, text in zip((topic_key(t) for t in topics), normalised, strict=True)
    ]
    hasher = HashingVectorizer(
        analyzer=_cross_analyzer,
        n_features=CROSS_FEATURES,
        alternate_sign=False,
        norm="l2",
        dtype=np.float32,
    )
    return hasher.transform(documents).tocsr()


def thread_topic(thread: Thread) -> str | None:
    """What a thread's comments take a stance toward: the article's title, else its opening."""
    return topic_of(thread.article.title, thread.article.text)


def thread_frame(thread: Thread) -> pd.DataFrame:
    """One row per comment, in thread order: the columns `score_frame` reads, plus the tree.

    A top-level comment's parent text is the article (title and opening), so its reply
    stance is toward the article; deeper comments get their parent comment's text.
    """
    article = article_context(thread.article.title, thread.article.text)
    topic = thread_topic(thread)
    by_id = {c.comment_id: c for c in thread.comments}
    rows = []
    for comment in thread.comments:
        parent = by_id.get(comment.parent_id) if comment.parent_id else None
        parent_text = parent.text if parent is not None else article
        rows.append(
            {
                "comment_id": comment.comment_id,
                "parent_id": comment.parent_id,
                "author": comment.author,
                "depth": comment.depth,
                "text": comment.text,
                "parent_text": parent_text,
                "topic": topic,
            }
        )
    columns = ["comment_id", "parent_id", "author", "depth", "text", "parent_text", "topic"]
    return pd.DataFrame(rows, columns=columns)


# Reply cues: dense counts a reply-stance head reads beside the n-grams. RumourEval has 382
# deny and 395 query replies in all, too few for the n-gram weights of the phrases people
# agree, deny and ask with; a few counts over phrase lists give every such reply a shared,
# strong column (Aker et al. 2017 and most SemEval systems use such cue lexicons).
_AGREE_CUES = re.compile(
    r"\b(?:i agree|agreed|agree with|exactly|well said|so true|true|spot on|good point|"
    r"great point|you'?re right|you are right|absolutely|indeed|couldn'?t agree|precisely|"
    r"correct|yes|yep|yeah|this is it|this|same here|same|totally|definitely|of course|"
    r"100%|\+1|amen|thank you for saying|my thoughts exactly|nailed it|bingo|confirmed)\b",
    re.IGNORECASE,
)
_DISAGREE_CUES = re.compile(
    r"\b(?:disagree|wrong|not true|untrue|false|nonsense|rubbish|bullshit|bs|fake|hoax|"
    r"lie|lies|lying|liar|nope|incorrect|debunked|not really|myth|misleading|propaganda|"
    r"doubt|ridiculous|absurd|no evidence|not the case|that'?s not|you'?re wrong|"
    r"actually|on the contrary|except|but|however|not at all|no way|hardly|fail)\b",
    re.IGNORECASE,
)
_QUERY_CUES = re.compile(
    r"\b(?:source|sources|proof|evidence|link|citation|cite|really|is it true|is this true|"
    r"how do you know|what do you mean|any idea|do you have|can you|could you|why|how|what|"
    r"who|when|where|which|confirm|confirmed\?|seriously)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|cannot)\b|n'?t\b", re.I)
_WH_START = re.compile(
    r"^\W*(?:why|how|what|who|when|where|which|is|are|do|does|did|can|could|"
    r"would|will|should|has|have|any)\b",
    re.IGNORECASE,
)
_NO_START = re.compile(r"^\W*(?:no|nope|nah|wrong|false)\b", re.IGNORECASE)
_YES_START = re.compile(r"^\W*(?:yes|yep|yeah|exactly|agreed|true|this|indeed|absolutely)\b", re.I)
REPLY_CUE_NAMES = (
    "agree_cues",
    "disagree_cues",
    "query_cues",
    "negations",
    "question_marks",
    "starts_with_question",
    "starts_with_no",
    "starts_with_yes",
    "urls",
    "log_chars",
    "parent_asks",
)


def reply_cues(texts: Sequence[str], parents: Sequence[str]) -> np.ndarray:
    """One row of REPLY_CUE_NAMES per reply (log counts and 0/1 signals), float32."""
    rows = []
    for text, parent in zip(texts, parents, strict=True):
        rows.append(
            [
                math.log1p(len(_AGREE_CUES.findall(text))),
                math.log1p(len(_DISAGREE_CUES.findall(text))),
                math.log1p(len(_QUERY_CUES.findall(text))),
                math.log1p(len(_NEGATION.findall(text))),
                math.log1p(text.count("?")),
                1.0 if _WH_START.match(text) else 0.0,
                1.0 if _NO_START.match(text) else 0.0,
                1.0 if _YES_START.match(text) else 0.0,
                math.log1p(len(_URL_RE.findall(text))),
                math.log1p(len(text)) / 8.0,
                1.0 if "?" in parent else 0.0,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), len(REPLY_CUE_NAMES))

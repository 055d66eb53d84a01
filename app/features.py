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
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer

from app.domain import Thread
from app.textnorm import DEFAULT_STEPS, Normalised, normalise

# Bump when anything a pickled bundle refers to changes meaning or import path.
FEATURE_SCHEMA = 1

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
_URL_RE = re.compile(r"https?://\S+|www\.\S+")


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


@dataclass(frozen=True)
class Blocks:
    """Column ranges of the three blocks of a `TextFeatures` matrix."""

    word: slice
    char: slice
    shape: slice


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
    """

    def __init__(
        self,
        *,
        steps: Collection[str] = DEFAULT_STEPS,
        word_max_features: int = 60_000,
        char_max_features: int = 150_000,
        min_df: int = 3,
    ) -> None:
        self.steps = steps
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
        shapes = np.array([shape_features(t) for t in texts], dtype=np.float64)
        self.shape_mean_ = shapes.mean(axis=0) if len(shapes) else np.zeros(len(SHAPE_NAMES))
        spread = shapes.std(axis=0) if len(shapes) else np.ones(len(SHAPE_NAMES))
        self.shape_scale_ = np.where(spread > 0, spread, 1.0)
        n_word = len(self.word_.vocabulary_)
        n_char = len(self.char_.vocabulary_)
        self.blocks_ = Blocks(
            word=slice(0, n_word),
            char=slice(n_word, n_word + n_char),
            shape=slice(n_word + n_char, n_word + n_char + len(SHAPE_NAMES)),
        )
        return self

    @property
    def n_features(self) -> int:
        """Total number of columns of `transform`'s matrix."""
        return int(self.blocks_.shape.stop)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One CSR row per text: word block, char block, shape block."""
        return self.transform_normalised(texts, self.normalise_all(texts))

    def transform_normalised(
        self, texts: Sequence[str], normalised: Sequence[str]
    ) -> sp.csr_matrix:
        """Like `transform` when the caller already holds the normalised texts."""
        words = tfidf_rows(self.word_, word_analyzer, normalised)
        chars = tfidf_rows(self.char_, char_analyzer, normalised)
        shapes = (
            np.array([shape_features(t) for t in texts], dtype=np.float64).reshape(
                len(texts), len(SHAPE_NAMES)
            )
            - self.shape_mean_
        ) / self.shape_scale_
        return sp.hstack([words, chars, sp.csr_matrix(shapes.astype(np.float32))], format="csr")


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
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    get = vocabulary.get
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    for text in texts:
        row: dict[int, int] = {}
        for gram in analyzer(text):
            column = get(gram)
            if column is not None:
                row[column] = row.get(column, 0) + 1
        ordered_columns = sorted(row)
        indices.extend(ordered_columns)
        counts.extend(row[c] for c in ordered_columns)
        indptr.append(len(indices))
    columns = np.asarray(indices, dtype=np.int32)
    data = np.asarray(counts, dtype=np.float32)
    if vectorizer.sublinear_tf:
        data = np.log(data) + np.float32(1.0)
    data *= vectorizer.idf_.astype(np.float32)[columns]
    bounds = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(bounds)
    if len(data):
        squares = np.add.reduceat(data.astype(np.float64) ** 2, bounds[:-1][lengths > 0])
        norms = np.ones(len(texts), dtype=np.float64)
        norms[lengths > 0] = np.sqrt(squares)
        data = (data / np.repeat(norms, lengths)).astype(np.float32)
    shape = (len(texts), len(vocabulary))
    return sp.csr_matrix((data, columns, bounds), shape=shape)


def topic_key(topic: str | None) -> str:
    """The key a topic is known by: case-folded words joined by single spaces."""
    if not topic:
        return ""
    return " ".join(re.findall(r"\w+", topic.casefold()))


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


ARTICLE_CONTEXT_CHARS = 2_000
TOPIC_CHARS = 300


def topic_of(title: str | None, text: str | None) -> str | None:
    """What comments take a stance toward: the title, else the article's opening."""
    if title and title.strip():
        return title.strip()[:TOPIC_CHARS]
    opening = (text or "").strip()
    return opening[:TOPIC_CHARS] if opening else None


def article_context(title: str | None, text: str | None) -> str | None:
    """The parent text of a top-level comment: the title and the article's opening."""
    joined = "\n\n".join(part for part in (title or "", text or "") if part.strip())
    return joined[:ARTICLE_CONTEXT_CHARS] or None


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

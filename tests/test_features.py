import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.features import (
    SHAPE_NAMES,
    TextFeatures,
    char_analyzer,
    char_grams_with_spans,
    lower_with_map,
    topic_key,
    word_analyzer,
    word_grams_with_spans,
)

TEXTS = [
    "You are an IDIOT!!!",
    "Thanks for the thoughtful article.",
    "the bankers secretly control everything",
    "as a Jew, I disagree",
    "",
]

_text = st.text(
    alphabet=st.sampled_from(list("abcXYZ 1!?'’.-\t\n\u00a0İé")), min_size=0, max_size=40
)


@given(_text)
@settings(max_examples=200)
def test_positional_analyzers_yield_the_same_grams(text: str) -> None:
    lowered, _ = lower_with_map(text)
    assert [g for g, _, _ in word_grams_with_spans(lowered)] == word_analyzer(text)
    assert [g for g, _, _ in char_grams_with_spans(lowered)] == char_analyzer(text)


@given(_text)
@settings(max_examples=200)
def test_word_spans_point_at_their_gram(text: str) -> None:
    lowered, index = lower_with_map(text)
    assert len(index) == len(lowered)
    for gram, start, end in word_grams_with_spans(lowered):
        if " " not in gram:
            assert lowered[start:end] == gram


def test_char_grams_are_clipped_to_their_word() -> None:
    grams = char_grams_with_spans("ab cd")
    assert (" a", 0, 1) in grams
    assert ("b ", 1, 2) in grams
    assert (" cd ", 3, 5) in grams


def test_lower_with_map_handles_expanding_characters() -> None:
    lowered, index = lower_with_map("İx")
    assert lowered == "i̇x"
    assert index == [0, 0, 1]


def test_text_features_blocks_cover_the_matrix() -> None:
    features = TextFeatures(min_df=1).fit(TEXTS)
    matrix = features.transform(TEXTS)
    blocks = features.blocks_
    assert matrix.shape == (len(TEXTS), features.n_features)
    assert blocks.word.stop == blocks.char.start
    assert blocks.shape.stop - blocks.shape.start == len(SHAPE_NAMES)
    assert matrix.dtype == np.float32
    assert "idiot" in features.word_.vocabulary_


def test_text_features_survive_pickling() -> None:
    features = TextFeatures(min_df=1).fit(TEXTS)
    copy = pickle.loads(pickle.dumps(features))
    assert (copy.transform(TEXTS) != features.transform(TEXTS)).nnz == 0


def test_normalisation_reaches_the_vocabulary() -> None:
    features = TextFeatures(min_df=1).fit(["you idiot"])
    row = features.transform(["you 1d10t"])
    assert row[0, features.word_.vocabulary_["idiot"]] > 0


def test_topic_key_folds_case_and_punctuation() -> None:
    assert topic_key("  Climate Change: is a REAL concern! ") == "climate change is a real concern"
    assert topic_key(None) == ""


def test_tfidf_rows_equal_scikit_learns_transform() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from app.features import char_analyzer, tfidf_rows, word_analyzer

    corpus = ["the cat sat", "the dog sat down", "a cat and a dog", "cats!! dogs??"] * 3
    texts = ["the cat sat on the dog", "", "unseen words only", "cat cat cat dog!!", "a"]
    for analyzer, sublinear in (
        (word_analyzer, True),
        (char_analyzer, True),
        (word_analyzer, False),
    ):
        vectorizer = TfidfVectorizer(
            analyzer=analyzer, sublinear_tf=sublinear, dtype=np.float32
        ).fit(corpus)
        expected = vectorizer.transform(texts)
        got = tfidf_rows(vectorizer, analyzer, texts)
        assert got.dtype == expected.dtype
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-6, atol=1e-7)
        assert got.nnz == expected.nnz

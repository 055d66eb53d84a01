import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.features import (
    CROSS_FEATURES,
    SHAPE_NAMES,
    SHAPE_NAMES_V2,
    TextFeatures,
    char_analyzer,
    char_grams_with_spans,
    cross_grams_with_spans,
    lower_with_map,
    shape_features,
    shape_features_v2,
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
    assert blocks.char.stop == blocks.shape.start
    assert blocks.shape.stop - blocks.shape.start == len(SHAPE_NAMES_V2)
    assert blocks.cross is not None and blocks.cross.start == blocks.shape.stop
    assert blocks.cross.stop - blocks.cross.start == CROSS_FEATURES
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


def test_version_one_features_keep_their_three_blocks() -> None:
    # A bundle fitted before shape version 2 and the cross block scores as it did.
    features = TextFeatures(min_df=1, shape_version=1, cross_version=0).fit(TEXTS)
    blocks = features.blocks_
    assert blocks.cross is None
    assert blocks.shape.stop - blocks.shape.start == len(SHAPE_NAMES)
    assert features.transform(TEXTS).shape[1] == blocks.shape.stop


def test_unpickled_old_features_read_the_old_versions() -> None:
    features = TextFeatures(min_df=1).fit(TEXTS)
    state = features.__getstate__()
    del state["shape_version"], state["cross_version"]
    old = TextFeatures.__new__(TextFeatures)
    old.__setstate__(state)
    assert (old.shape_version, old.cross_version) == (1, 0)


def test_shape_version_two_extends_version_one() -> None:
    for text in ("Hello WORLD!! http://x.y 123", "", "?", "a", "\u0301" * 50, "ok then"):
        assert shape_features_v2(text)[: len(SHAPE_NAMES)] == shape_features(text)
    assert shape_features_v2("?")[SHAPE_NAMES_V2.index("no_letters")] == 1.0
    assert shape_features_v2("lol")[SHAPE_NAMES_V2.index("one_word")] == 1.0
    assert shape_features_v2("lol ok")[SHAPE_NAMES_V2.index("one_word")] == 0.0


def test_char_columns_remembered_per_word_equal_the_analyzer() -> None:
    from app.features import WordCharColumns, char_analyzer

    features = TextFeatures(min_df=1).fit(TEXTS)
    vocabulary = features.char_.vocabulary_
    memory = WordCharColumns(vocabulary, limit=3)  # a tiny limit: the memory restarts
    for text in [*TEXTS, "idiot idiot IDIOT", "", "   ", "unseen zzz"] * 2:
        lowered = text.lower()
        expected = [vocabulary[g] for g in char_analyzer(lowered) if g in vocabulary]
        assert memory(lowered) == expected
        assert len(memory.known) <= 3


def test_cross_tokens_mark_group_sentences_and_negation_scope() -> None:
    grams = [g for g, _, _ in cross_grams_with_spans("nice day. jews are not vermin, ok?")]
    assert "g|nice" not in grams  # the first sentence names no group
    assert {"g|jews", "g|vermin", "n|vermin"} <= set(grams)
    assert "n|ok" not in grams  # the comma ends the negation's scope
    text = "politicians are vermin"
    assert [g for g, _, _ in cross_grams_with_spans(text)] == []
    for gram, start, end in cross_grams_with_spans("jews are never welcome"):
        assert gram.split("|", 1)[1] == "jews are never welcome"[start:end]


def test_reply_cues_count_agreement_disagreement_and_questions() -> None:
    from app.features import REPLY_CUE_NAMES, reply_cues

    rows = reply_cues(
        ["Exactly, well said.", "No, that's not true.", "Source?", "Nice photo"],
        ["Taxes rose.", "Taxes rose.", "Taxes rose.", "Is this Paris?"],
    )
    column = {name: i for i, name in enumerate(REPLY_CUE_NAMES)}
    assert rows.shape == (4, len(REPLY_CUE_NAMES))
    assert rows[0, column["agree_cues"]] > 0 and rows[0, column["starts_with_yes"]] == 1
    assert rows[1, column["disagree_cues"]] > 0 and rows[1, column["starts_with_no"]] == 1
    assert rows[2, column["query_cues"]] > 0 and rows[2, column["question_marks"]] > 0
    assert rows[3, column["parent_asks"]] == 1 and rows[3, column["agree_cues"]] == 0

"""The compiled inner loops (app/_speedups.pyx) and the fast feature path give the same numbers
as their definitions, bit for bit: the pure-Python twins and tests/featureref.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import speedups
from app.evidence import evidence_scores, word_gram_spans
from app.features import (
    GROUP_TERMS_RE,
    WORD_RE,
    TextFeatures,
    WordCharColumns,
    char_gram_spans,
    char_grams_with_spans,
    count_rows,
    cross_grams_with_spans,
    lower_with_map,
    names_group,
    shape_counts,
    word_columns,
)
from app.registry import default_model_dir, load_current
from tests.conftest import ROOT, SEEDS, SHARED, shared_file
from tests.featureref import reference_cross_grams, reference_transform

# Letters of several scripts and cases, digits of several kinds, apostrophes, the marks
# sentences and tokens split at, and characters that change length when lowered.
_ALPHABET = list("abcXYZ jew muslim not never 1²½٣_'’!?.,;\t\n\u00a0İßǅǄéÉΣσ漢ー-–\u200b\u0301")
_text = st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80)
_words = st.lists(
    st.sampled_from(
        [
            "jews",
            "jew's",
            "asylum",
            "seekers",
            "seeker",
            "lgbtq",
            "not",
            "vermin",
            "african",
            "americans",
            "arab",
            "arabs",
            "x",
            "ok",
            "women",
            "woman",
        ]
    ),
    max_size=12,
).map(" ".join)

needs_build = pytest.mark.skipif(speedups.MODULE is None, reason="app._speedups is not built")


def test_make_test_insists_on_the_compiled_module() -> None:
    if os.environ.get("THREADGUARD_REQUIRE_COMPILED") != "1":
        pytest.skip("only where THREADGUARD_REQUIRE_COMPILED=1 (make test sets it)")
    assert speedups.MODULE is not None


@pytest.fixture(scope="module")
def shipped() -> TextFeatures:
    features: TextFeatures = load_current(default_model_dir()).bundle.features
    return features


@needs_build
@given(_text)
@settings(max_examples=300)
def test_shape_counts_compiled_equal_str_methods(text: str) -> None:
    assert speedups.MODULE is not None
    assert speedups.MODULE.shape_counts(text) == shape_counts(text)


@needs_build
@given(_text)
@settings(max_examples=300)
def test_word_tokens_compiled_equal_the_pattern(text: str) -> None:
    assert speedups.MODULE is not None
    expected = [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
    assert speedups.MODULE.word_token_spans(text) == expected


@needs_build
@given(_text)
@settings(max_examples=200)
def test_word_and_char_grams_compiled_equal_their_twins(text: str) -> None:
    assert speedups.MODULE is not None
    lowered, _ = lower_with_map(text)
    vocabulary = {
        g: i for i, g in enumerate(sorted(set(WORD_RE.findall("a b ab jew not x " + lowered))))
    }
    vocabulary.update(
        {f"{a} {b}": len(vocabulary) + i for i, (a, b) in enumerate([("a", "b"), ("jew", "not")])}
    )
    got: tuple[list[int], list[int], list[int]] = ([], [], [])
    expected: tuple[list[int], list[int], list[int]] = ([], [], [])
    speedups.MODULE.word_gram_spans(lowered, vocabulary, *got)
    word_gram_spans(lowered, vocabulary, *expected)
    assert got == expected
    tokens = WORD_RE.findall(lowered)
    out_compiled: list[int] = []
    out_python: list[int] = []
    speedups.MODULE.word_columns(tokens, vocabulary, out_compiled)
    word_columns(tokens, vocabulary, out_python)
    assert out_compiled == out_python

    chars = {
        g: i for i, g in enumerate(sorted({g for g, _, _ in char_grams_with_spans(lowered)})[::2])
    }
    memory = WordCharColumns(chars, limit=8)
    twin = WordCharColumns(chars, limit=8)
    compiled_spans = speedups.MODULE.char_gram_spans(
        lowered, memory.known_spans, memory._remember_spans
    )
    python_spans = char_gram_spans(lowered, twin.known_spans, twin._remember_spans)
    expected_spans = [(chars[g], a, b) for g, a, b in char_grams_with_spans(lowered) if g in chars]
    for spans in (compiled_spans, python_spans):
        assert list(zip(*(s.tolist() for s in spans), strict=True)) == expected_spans


@needs_build
def test_count_rows_compiled_equal_scipys_duplicate_summing() -> None:
    assert speedups.MODULE is not None
    rng = np.random.default_rng(7)
    lengths = rng.integers(0, 60, 400).astype(np.int64)
    lengths[[0, 5, -1]] = 0  # empty rows first, inside and last
    flat = (rng.zipf(1.4, int(lengths.sum())) % 97).astype(np.int32)
    for got, expected in zip(
        speedups.MODULE.count_rows(flat, lengths, 97), count_rows(flat, lengths, 97), strict=True
    ):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(IndexError, match="outside"):
        speedups.MODULE.count_rows(np.array([3, 200], dtype=np.int32), np.array([2]), 97)


@needs_build
def test_evidence_scores_compiled_equal_the_numpy_formulation() -> None:
    assert speedups.MODULE is not None
    rng = np.random.default_rng(3)
    for _ in range(80):
        size = int(rng.integers(1, 40))
        occurrences = int(rng.integers(0, 30))
        starts = rng.integers(0, size, occurrences).astype(np.int64)
        ends = np.minimum(starts + rng.integers(1, 6, occurrences), size).astype(np.int64)
        columns = rng.integers(0, 25, occurrences).astype(np.int64)
        # The row holds most of the columns the text has (and some it lacks).
        row_indices = np.unique(rng.integers(0, 30, 18)).astype(np.int32)
        row_data = rng.random(len(row_indices)).astype(np.float32)
        widths = rng.integers(0, 3, size)  # 0: a character the normaliser inserted
        norm_ends = tuple(int(x) for x in np.cumsum(widths) + 1)
        norm_starts = tuple(int(a - max(w, 1)) for a, w in zip(norm_ends, widths, strict=True))
        high = norm_ends[-1]
        first = np.sort(rng.integers(0, high, 5)).astype(np.int64)
        last = np.minimum(first + rng.integers(0, 4, 5), high).astype(np.int64)
        args = (
            columns,
            starts,
            ends,
            row_indices,
            row_data,
            [rng.normal(size=40), rng.normal(size=40)],
            np.arange(size, dtype=np.int64),
            norm_starts,
            norm_ends,
            0,
            high,
            first,
            last,
        )
        np.testing.assert_array_equal(
            speedups.MODULE.evidence_scores(*args), evidence_scores(*args)
        )


@given(_words)
@settings(max_examples=300)
def test_group_names_found_by_tokens_equal_the_pattern(text: str) -> None:
    assert names_group(text) == (GROUP_TERMS_RE.search(text) is not None)
    assert cross_grams_with_spans(text) == reference_cross_grams(text)


def _sample_texts() -> list[str]:
    """The seed page's lines and generated hostile text: long, short, mixed scripts."""
    page = shared_file(SEEDS / "004_f987b5801adb0d07.txt").read_text(encoding="utf-8")
    lines = [line for line in page.splitlines() if line.strip()]
    generated = [
        "",
        " ",
        "?",
        "JEWS ARE NOT welcome here. Thanks!!",
        "k1ke  j3ws\u200b are vermin.",
        "İstanbul ǅemal. Asylum seekers, not criminals? " * 5,
        "a" * 3000,
        "x " * 500,
    ]
    return lines + generated


def test_the_fast_features_equal_the_reference_bit_for_bit(shipped: TextFeatures) -> None:
    texts = _sample_texts()
    got = shipped.transform(texts)
    expected = reference_transform(shipped, texts)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.indptr, expected.indptr)
    np.testing.assert_array_equal(got.indices, expected.indices)
    np.testing.assert_array_equal(got.data, expected.data)


@pytest.mark.slow
def test_the_fast_features_equal_the_reference_on_real_comments(shipped: TextFeatures) -> None:
    from benchmarks.score_bench import SOURCES
    from training.datasets import load_all

    frame, _ = load_all(shared_file(SHARED / "datasets"), SOURCES)
    texts = frame["text"].drop_duplicates().sample(1_500, random_state=11).tolist()
    got = shipped.transform(texts)
    expected = reference_transform(shipped, texts)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got, part), getattr(expected, part))


@pytest.mark.slow
def test_scoring_answers_the_same_with_the_pure_python_twins() -> None:
    # Read here, so a missing shared/ folder is this test's skip, not its subprocess' error.
    texts = json.dumps(_sample_texts())
    # The twins are picked at import, so each variant scores in its own interpreter.
    script = (
        "import sys, json; sys.path.insert(0, '.');"
        "from app.registry import default_model_dir, load_current;"
        "from app.scoring import score_rows;"
        "m = load_current(default_model_dir()); t = json.load(sys.stdin);"
        "print(json.dumps(score_rows(m, t, [None] * len(t), [None] * len(t)), default=str))"
    )
    answers = []
    for pure in ("0", "1"):
        env = {**os.environ, "THREADGUARD_PURE_PYTHON": pure, "THREADGUARD_REQUIRE_COMPILED": "0"}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            input=texts,
            capture_output=True,
            text=True,
            check=True,
        )
        answers.append(done.stdout)
    assert answers[0] == answers[1]
    assert re.search(r'"hate_flag": true', answers[0])

import numpy as np
import pytest

from app.evidence import evidence
from app.features import TextFeatures

CORPUS = ["you idiot", "nice day", "the ziomongrel swamp", "thanks a lot", "what a day"]


def _weights_for(features: TextFeatures, word: str) -> np.ndarray:
    """A linear head that only likes `word` (its unigram and every char gram inside it)."""
    weights = np.zeros(features.n_features)
    weights[features.blocks_.word.start + features.word_.vocabulary_[word]] = 2.0
    for gram, column in features.char_.vocabulary_.items():
        if gram.strip() and gram.strip() in f" {word} ":
            weights[features.blocks_.char.start + column] = 1.0
    return weights


@pytest.fixture(scope="module")
def features() -> TextFeatures:
    return TextFeatures(min_df=1).fit(CORPUS)


def test_evidence_points_at_the_obfuscated_original(features: TextFeatures) -> None:
    text = "Well, you 1d10t!!"
    found = evidence(features, text, features.transform([text]), _weights_for(features, "idiot"))
    assert found
    top = found[0]
    assert (top.text, top.start, top.end) == ("1d10t!!", 10, 17)
    assert text[top.start : top.end] == top.text
    assert top.weight > 0
    assert "Well" not in {item.text for item in found}


def test_evidence_credits_the_coded_form_that_caused_a_marker(features: TextFeatures) -> None:
    text = "Russia and the ziomongrel Swamp"
    found = evidence(
        features, text, features.transform([text]), _weights_for(features, "xxcodedjew")
    )
    assert found[0].text == "ziomongrel"
    assert text[found[0].start : found[0].end] == "ziomongrel"


def test_only_positive_contributions_are_evidence(features: TextFeatures) -> None:
    text = "nice day"
    weights = -_weights_for(features, "nice")
    assert evidence(features, text, features.transform([text]), weights) == []


def test_top_limits_the_number_of_words(features: TextFeatures) -> None:
    text = "idiot idiot idiot idiot idiot idiot idiot"
    found = evidence(
        features, text, features.transform([text]), _weights_for(features, "idiot"), top=3
    )
    assert len(found) == 3
    assert [item.start for item in found] == sorted(item.start for item in found)

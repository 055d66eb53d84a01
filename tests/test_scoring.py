import math

import numpy as np
import pandas as pd
import pytest

from app.domain import Article, Comment, Thread
from app.registry import LoadedModel
from app.scoring import (
    MAX_TEXT_CHARS,
    OUTPUT_COLUMNS,
    ScoringInputError,
    reconcile_stance,
    score_frame,
    score_records,
    score_texts,
    score_thread,
)


def test_scores_keep_order_length_index_and_version(tiny_model: LoadedModel) -> None:
    frame = pd.DataFrame(
        {"text": ["you are an idiot and a moron", "thanks for the thoughtful article", ""]},
        index=[10, 11, 12],
    )
    scores = score_frame(tiny_model, frame)
    assert list(scores.index) == [10, 11, 12]
    assert list(scores.columns) == list(OUTPUT_COLUMNS)
    assert (scores["model_version"] == "tiny-1").all()
    assert scores.loc[10, "toxic"] > scores.loc[11, "toxic"]
    for head in ("hate", "toxic", "conspiracy"):
        assert scores[head].between(0, 1).all()
        assert (
            scores[f"{head}_flag"].tolist()
            == (scores[head] >= tiny_model.thresholds[head]).tolist()
        )


def test_a_single_comment_is_a_batch_of_one(tiny_model: LoadedModel) -> None:
    texts = ["the bankers secretly control the governments", "good point about the budget"]
    batch = score_texts(tiny_model, texts)
    one = score_texts(tiny_model, texts[:1])
    assert one.loc[0, "conspiracy"] == pytest.approx(batch.loc[0, "conspiracy"], abs=1e-6)


def test_stance_needs_a_topic_and_reply_stance_a_parent(tiny_model: LoadedModel) -> None:
    scores = score_texts(
        tiny_model,
        ["nuclear power is clean and we need more reactors", "I agree, absolutely right"],
        topics=["Nuclear power", None],
        parent_texts=[None, "the new tax will help schools"],
    )
    assert scores.loc[0, "stance"] == "favor"
    assert scores.loc[1, "stance"] is None
    assert math.isnan(scores.loc[1, "stance_p"])
    assert scores.loc[0, "reply_stance"] is None
    assert scores.loc[1, "reply_stance"] == "agree"
    probs = scores.loc[0, [f"p_stance_{x}" for x in ("favor", "against", "none")]]
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_flags_carry_evidence_pointing_into_the_text(tiny_model: LoadedModel) -> None:
    text = "you are an idiot and a moron"
    scores = score_texts(tiny_model, [text])
    assert scores.loc[0, "toxic_flag"]
    items = scores.loc[0, "evidence"]["toxic"]
    assert items
    for item in items:
        assert text[item["start"] : item["end"]] == item["text"]
        assert item["weight"] > 0
    assert {"idiot", "moron"} & {item["text"] for item in items}


def test_unflagged_rows_have_no_evidence(tiny_model: LoadedModel) -> None:
    scores = score_texts(tiny_model, ["the weather was lovely this weekend"])
    assert not scores.loc[0, "toxic_flag"]
    assert "toxic" not in scores.loc[0, "evidence"]


def test_an_empty_frame_scores_to_an_empty_frame(tiny_model: LoadedModel) -> None:
    scores = score_frame(tiny_model, pd.DataFrame({"text": pd.Series([], dtype=object)}))
    assert len(scores) == 0
    assert list(scores.columns) == list(OUTPUT_COLUMNS)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"body": ["x"]}), "no 'text' column"),
        (pd.DataFrame({"text": ["fine", None]}), "row 1: text is missing"),
        (pd.DataFrame({"text": ["fine", 3]}), "row 1: text must be text, not int"),
        (pd.DataFrame({"text": [b"bytes"]}), "must be text, not bytes"),
        (pd.DataFrame({"text": ["x" * (MAX_TEXT_CHARS + 1)]}), "the limit is 100,000"),
        (pd.DataFrame({"text": ["ok"], "parent_text": [["a list"]]}), "parent_text must be text"),
    ],
)
def test_bad_input_is_refused_naming_the_row(
    tiny_model: LoadedModel, frame: pd.DataFrame, message: str
) -> None:
    with pytest.raises(ScoringInputError, match=message):
        score_frame(tiny_model, frame)


def test_hostile_text_scores_without_error(tiny_model: LoadedModel) -> None:
    hostile = ["\u200b" * 5000, "(" * 20_000, "🙂" * 3000, "<script>alert(1)</script>", "\x00\x01"]
    scores = score_texts(tiny_model, hostile)
    assert len(scores) == len(hostile)
    assert np.isfinite(scores["toxic"]).all()


def _thread() -> Thread:
    comments = (
        Comment("a", None, "nuclear power is clean and we need more reactors", 0, 0),
        Comment("b", "a", "I agree, absolutely right", 1, 1),
        Comment("c", "a", "no, that is wrong", 1, 2),
        Comment("d", None, "you are an idiot and a moron", 0, 3),
    )
    return Thread(comments=comments, article=Article(title="Nuclear power"))


def test_a_thread_is_scored_with_parents_and_topic(tiny_model: LoadedModel) -> None:
    scored = score_thread(tiny_model, _thread())
    assert scored["comment_id"].tolist() == ["a", "b", "c", "d"]
    assert scored["reply_stance"].notna().all()  # top-level comments reply to the article
    assert scored.loc[0, "thread_stance"] == "favor"
    records = score_records(scored)
    assert set(records) == {"a", "b", "c", "d"}
    assert records["d"]["toxic_flag"] is True or records["d"]["toxic_flag"] is False


def test_reconcile_follows_confident_agreement_and_flips_disagreement() -> None:
    rows = pd.DataFrame(
        [
            ("a", None, 0.9, 0.05, 0.05, 0.9, 0.05),
            ("b", "a", 0.34, 0.33, 0.33, 0.95, 0.0),
            ("c", "a", 0.34, 0.33, 0.33, 0.0, 0.95),
            ("d", "a", 0.1, 0.8, 0.1, 0.0, 0.0),
        ],
        columns=[
            "comment_id",
            "parent_id",
            "p_stance_favor",
            "p_stance_against",
            "p_stance_none",
            "p_reply_agree",
            "p_reply_disagree",
        ],
    )
    labels = [label for label, _ in reconcile_stance(rows)]
    assert labels == ["favor", "favor", "against", "against"]


def test_score_rows_equal_score_frame_rows(tiny_model: LoadedModel) -> None:
    from app.scoring import records, score_rows

    texts = ["jews are vermin and should be driven out", "a nice day", "I agree with you"]
    parents = [None, "what a day", "jews are vermin and should be driven out"]
    topics = ["immigration", None, None]
    frame = pd.DataFrame({"text": texts, "parent_text": parents, "topic": topics})
    expected = records(score_frame(tiny_model, frame))
    got = score_rows(tiny_model, texts, parents, topics)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.keys() == theirs.keys()
        for key, value in mine.items():
            other = theirs[key]
            if isinstance(value, float) and math.isnan(value):
                assert isinstance(other, float) and math.isnan(other), key
            else:
                assert value == other, key


def test_score_rows_checks_its_input(tiny_model: LoadedModel) -> None:
    from app.scoring import score_rows

    with pytest.raises(ScoringInputError, match="row 1: text must be text"):
        score_rows(tiny_model, ["fine", 5], [None, None], [None, None])  # type: ignore[list-item]
    assert score_rows(tiny_model, [], [], []) == []

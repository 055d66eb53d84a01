"""Per-loader tests on the tiny fake data dir (tests/data/datasets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from training.datasets import conspiracy, hate, stance, toxic
from training.datasets.catalog import LOADERS
from training.datasets.schema import validate


def by_doc(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("doc_id")


def labels_of(frame: pd.DataFrame, column: str) -> dict[str, object]:
    values = by_doc(frame)[column]
    return {str(doc): (None if _missing(value) else value) for doc, value in values.items()}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_loader_returns_the_schema(name: str, data_dir: Path) -> None:
    frame = LOADERS[name](data_dir)
    validate(frame, dataset=name)
    assert len(frame) > 0
    assert frame.index.equals(pd.RangeIndex(len(frame)))


def test_hatexplain(data_dir: Path) -> None:
    frame = hate.load_hatexplain(data_dir)
    # undecided is dropped, and so is the whitespace-only post.
    assert labels_of(frame, "hate") == {
        "101_twitter": 0.0,
        "102_gab": 1.0,
        "103_gab": 0.0,
        "104_twitter": 0.0,
    }
    assert labels_of(frame, "toxic")["103_gab"] == 1.0
    assert labels_of(frame, "split") == {
        "101_twitter": "train",
        "102_gab": "train",
        "103_gab": "val",
        "104_twitter": "test",
    }
    assert set(frame["split_basis"]) == {"official"}
    assert frame["hate_target"].isna().all()


def test_dynahate(data_dir: Path) -> None:
    frame = by_doc(hate.load_dynahate(data_dir))
    assert frame.loc["acl1", ["hate", "hate_target", "group"]].tolist() == [1.0, "jewish", "jewish"]
    # The perturbation is about Jews but not hateful: a group, no target, its tag.
    assert frame.loc["acl2", "hate"] == 0.0
    assert pd.isna(frame.loc["acl2", "hate_target"])
    assert frame.loc["acl2", ["group", "tag"]].tolist() == ["jewish", "perturbation"]
    assert frame.loc["acl2", "split"] == frame.loc["acl1", "split"]
    assert frame.loc["acl4", "hate_target"] == "black"  # "bla, jew": first named
    assert frame.loc["acl5", "hate_target"] == "other"
    assert frame.loc["acl7", "hate_target"] == "roma"
    assert pd.isna(frame.loc["acl6", "group"])  # notgiven
    assert frame.loc["acl10", "group"] == "other"  # unknown code
    assert frame["toxic"].isna().all()
    dev = frame.loc[["acl1", "acl3", "acl5"]]
    assert set(dev["split"]) <= {"train", "val"}
    assert set(dev["split_basis"]) == {"hash(dev: original acl.id)->train/val 85/15"}
    assert frame.loc[["acl8", "acl9", "acl10"], "split"].tolist() == ["test"] * 3


def test_sbic(data_dir: Path) -> None:
    frame = hate.load_sbic(data_dir).set_index("text")
    assert frame.loc["those jewish folks control the weather", ["hate", "toxic"]].tolist() == [
        1.0,
        1.0,
    ]
    assert frame.loc["those jewish folks control the weather", "hate_target"] == "jewish"
    assert frame.loc["you are a useless idiot", ["hate", "toxic"]].tolist() == [0.0, 1.0]
    assert frame.loc["nice weather at the lake", ["hate", "toxic"]].tolist() == [0.0, 0.0]
    # The repeated post is one row, combined by max: offensive 0.67 -> hate.
    repeated = frame.loc[["a joke about holocaust victims"]]
    assert len(repeated) == 1
    assert repeated.iloc[0][["hate", "hate_target"]].tolist() == [1.0, "jewish"]
    assert frame.loc["lesbian women and asian folks are the worst", "hate_target"] == "asian"
    assert frame.loc["liberals ruin every single thing", "hate_target"] == "other"
    assert frame.loc["shut your mouth fool", ["hate", "toxic", "split"]].tolist() == [
        0.0,
        1.0,
        "test",
    ]
    assert frame["doc_id"].str.startswith("sha256:").all()


def test_redditbias(data_dir: Path) -> None:
    frame = hate.load_redditbias(data_dir)
    assert set(frame["group"]) == {"jewish", "muslim", "black", "women", "lgbtq"}
    # Value 2, empty cells and annotator notes are dropped; "1.0" counts as 1.
    assert len(frame) == 12
    assert frame.groupby("hate").size().to_dict() == {0.0: 5, 1.0: 7}
    assert (frame["hate_target"].isna() == frame["hate"].eq(0.0)).all()
    assert set(frame.loc[frame["hate"].eq(0.0), "tag"]) == {"identity_mention"}
    # A comment annotated in two group files keeps one id and one split.
    shared = frame.loc[frame["doc_id"].eq("shared1")]
    assert sorted(shared["group"]) == ["jewish", "muslim"]
    assert shared["split"].nunique() == 1
    # Files without ids hash the comment text; latin-1 is decoded.
    female = frame.loc[frame["group"].eq("women")]
    assert female["doc_id"].str.startswith("sha256:").all()
    assert "my wife made a café business plan" in set(female["text"])


def test_stormfront(data_dir: Path) -> None:
    frame = hate.load_stormfront(data_dir)
    assert labels_of(frame, "hate") == {"500_1": 0.0, "500_2": 1.0, "502_1": 0.0}
    splits = labels_of(frame, "split")
    assert splits["500_1"] == splits["500_2"]  # same post, same split
    assert set(frame["split_basis"]) == {"hash(post id)->train/val/test 70/15/15"}


def test_davidson(data_dir: Path) -> None:
    frame = hate.load_davidson(data_dir)
    assert labels_of(frame, "hate") == {"0": 1.0, "1": 0.0, "2": 0.0}
    assert labels_of(frame, "toxic") == {"0": 1.0, "1": 1.0, "2": 0.0}


def test_ethos(data_dir: Path) -> None:
    frame = hate.load_ethos(data_dir).set_index("text")
    assert frame["hate"].to_dict() == {
        "People like that should be thrown out of the country": 1.0,
        "I love the sound of rain": 0.0,
        "Half of them said this was hate": 1.0,
        "A third of them said this was hate": 0.0,
    }
    assert frame["toxic"].isna().all()


def test_toxigen_seeds(data_dir: Path) -> None:
    frame = hate.load_toxigen_seeds(data_dir).set_index("text")
    assert frame.loc["jews only care about money", ["hate", "hate_target"]].tolist() == [
        1.0,
        "jewish",
    ]
    assert frame.loc["mexican food is popular around the world", "group"] == "hispanic"
    assert pd.isna(frame.loc["mexican food is popular around the world", "hate_target"])
    assert frame.loc["trans people are confused", "hate_target"] == "lgbtq"
    assert frame.loc["many languages are spoken by native nations", "group"] == "other"
    assert frame.loc["people from the middle east are all dangerous", "hate_target"] == "arab"


def test_fox_news_comments(data_dir: Path) -> None:
    frame = hate.load_fox_news_comments(data_dir).set_index("text")
    assert frame["hate"].tolist() == [0.0, 1.0, 0.0]
    assert frame["parent_text"].isna().all()  # prev is a neighbour, not a parent
    same_article = frame.loc[
        ["Great news for the kids.", "Those people do not deserve books, send them back."]
    ]
    assert same_article["split"].nunique() == 1


def test_tweeteval_hate_and_offensive(data_dir: Path) -> None:
    hateful = hate.load_tweeteval_hate(data_dir)
    # The empty third training line is dropped.
    assert labels_of(hateful, "hate") == {
        "train:1": 1.0,
        "train:2": 0.0,
        "val:1": 0.0,
        "test:1": 1.0,
    }
    assert labels_of(hateful, "split") == {
        "train:1": "train",
        "train:2": "train",
        "val:1": "val",
        "test:1": "test",
    }
    assert hateful["hate_target"].isna().all()
    offensive = toxic.load_tweeteval_offensive(data_dir)
    assert labels_of(offensive, "toxic") == {
        "train:1": 1.0,
        "train:2": 0.0,
        "val:1": 0.0,
        "test:1": 1.0,
    }
    assert offensive["hate"].isna().all()


def test_antisemitism_4chan_pol(data_dir: Path) -> None:
    frame = hate.load_antisemitism_4chan_pol(data_dir)
    assert labels_of(frame, "hate") == {
        "1": 1.0,
        "2": 0.0,
        "3": None,  # a 0 with a racist keyword says nothing about hate
        "4": 0.0,
        "5": 0.0,
        "6": 1.0,
        "7": 0.0,
    }
    assert labels_of(frame, "tag") == {
        "1": None,
        "2": "identity_mention",
        "3": None,
        "4": None,
        "5": "identity_mention",
        "6": None,
        "7": None,
    }
    assert set(frame["group"]) == {"jewish"}
    assert labels_of(frame, "hate_target")["6"] == "jewish"
    assert labels_of(frame, "split")["7"] == "test"
    assert set(frame.loc[frame["doc_id"].isin(["1", "2", "3", "4", "5"]), "split"]) <= {
        "train",
        "val",
    }


def test_antisemitism_tweets_handlabeled(data_dir: Path) -> None:
    frame = hate.load_antisemitism_tweets_handlabeled(data_dir)
    assert labels_of(frame, "hate") == {"0": 1.0, "1": 0.0, "2": 0.0}
    assert labels_of(frame, "hate_target") == {"0": "jewish", "1": None, "2": None}
    assert labels_of(frame, "tag") == {"0": None, "1": "identity_mention", "2": "identity_mention"}


def test_mhs_jewish(data_dir: Path) -> None:
    frame = hate.load_mhs_jewish(data_dir)
    # The middle band, bounds included, keeps its rows without a hate label.
    assert labels_of(frame, "hate") == {"1": 1.0, "2": 0.0, "3": None, "4": None, "5": None}
    assert labels_of(frame, "tag")["2"] == "counter_speech"
    assert set(frame["group"]) == {"jewish"}


def test_israel_palestine_reddit_stance(data_dir: Path) -> None:
    frame = hate.load_israel_palestine_reddit_stance(data_dir)
    assert set(frame["hate"]) == {0.0}
    assert set(frame["tag"]) == {"political"}
    assert set(frame["group"]) == {"israel-palestine"}
    texts = labels_of(frame, "text")
    assert texts["val:0"] == "I don't think the ceasefire will hold."  # mojibake repaired
    assert texts["val:1"] == "Israel has a right to defend itself > period."
    assert labels_of(frame, "split")["test:1"] == "test"
    assert frame["stance"].isna().all()


def test_civil_toxic_spans(data_dir: Path) -> None:
    frame = toxic.load_civil_toxic_spans(data_dir)
    # 201: 2 of 3 raters left "not toxic" unticked; 202: 2 of 3 ticked; 203: a tie;
    # 204 has no raters and is dropped.
    assert labels_of(frame, "toxic") == {"201": 1.0, "202": 0.0, "203": 0.0}
    assert frame["hate"].isna().all()
    spans = labels_of(frame, "spans")
    assert spans == {"201": [[11, 16], [23, 28]], "202": [[15, 21]], "203": [[7, 11]]}
    text = labels_of(frame, "text")["201"]
    assert isinstance(text, str)
    assert [text[11:16], text[23:28]] == ["idiot", "fool."]


def test_merge_spans() -> None:
    assert toxic.merge_spans([(5, 9), (0, 3), (3, 4), (8, 12), (20, 20)]) == [[0, 4], [5, 12]]
    assert toxic.merge_spans([]) is None


def test_wiki_toxicity_identity(data_dir: Path) -> None:
    frame = toxic.load_wiki_toxicity_identity(data_dir)
    assert frame.groupby("source").size().to_dict() == {
        "bias-madlibs": 3,
        "wiki-toxicity-fuzzed": 2,
        "wiki-toxicity-identity": 2,
    }
    assert frame["eval_only"].all()
    assert set(frame["split"]) == {"test"}
    madlibs = frame.loc[frame["source"].eq("bias-madlibs")].set_index("text")
    assert madlibs["toxic"].to_dict() == {
        "i am jewish": 0.0,
        "i hate jewish": 1.0,
        "respect muslim": 0.0,
    }
    assert madlibs.loc["i hate jewish", "doc_id"] == "verb_adj:2"
    assert madlibs.loc["i am jewish", "tag"] == "identity_mention"
    wiki = frame.loc[frame["source"].eq("wiki-toxicity-identity")]
    assert labels_of(wiki, "toxic") == {"301": 0.0, "302": 1.0}


def test_tweeteval_stance(data_dir: Path) -> None:
    frame = stance.load_tweeteval_stance(data_dir)
    assert len(frame) == 15
    assert set(frame["topic"]) == set(stance.TWEETEVAL_TOPICS.values())
    rows = by_doc(frame)
    assert rows.loc["abortion/train:1", ["topic", "stance", "split"]].tolist() == [
        "Legalization of Abortion",
        "none",
        "train",
    ]
    assert rows.loc["abortion/val:1", "stance"] == "against"
    assert rows.loc["abortion/test:1", "stance"] == "favor"


def test_vast(data_dir: Path) -> None:
    frame = stance.load_vast(data_dir)
    nuclear = frame.loc[frame["text"].str.startswith("Nuclear")]
    assert nuclear["topic"].tolist() == ["nuclear power", "coal"]
    assert nuclear["stance"].tolist() == ["favor", "against"]
    assert nuclear["split"].nunique() == 1  # one comment, one split
    assert frame.loc[frame["topic"].eq("public transport"), "stance"].tolist() == ["none"]
    assert frame.loc[frame["topic"].eq("sugar tax"), "split"].tolist() == ["test"]


def test_rumoureval2019(data_dir: Path) -> None:
    frame = stance.load_rumoureval2019(data_dir)
    # The source post, the empty reply and the reply without a parent are left out.
    assert labels_of(frame, "reply_stance") == {
        "901": "agree",
        "902": "disagree",
        "903": "query",
        "904": "comment",
    }
    assert labels_of(frame, "split") == {
        "901": "train",
        "902": "train",
        "903": "val",
        "904": "test",
    }
    assert labels_of(frame, "parent_text")["903"] == "@news yes I saw it happen"


def test_debagreement(data_dir: Path) -> None:
    frame = stance.load_debagreement(data_dir)
    assert labels_of(frame, "reply_stance") == {
        "c1": "disagree",
        "c2": "comment",
        "c3": "agree",
        "c4": "agree",
    }
    assert labels_of(frame, "parent_text")["c1"] == "Taxes should go up."
    splits = labels_of(frame, "split")
    assert splits["c1"] == splits["c2"]  # same submission
    assert splits["c4"] == "test"
    assert not frame.apply(lambda row: row.astype(str).str.contains("alice").any(), axis=1).any()


def test_pan2024(data_dir: Path) -> None:
    train = conspiracy.load_pan2024_oppositional_train(data_dir)
    assert labels_of(train, "conspiracy") == {"11": 1.0, "12": 0.0, "13": 0.0}
    assert labels_of(train, "tag") == {"11": None, "12": "critical", "13": "critical"}
    assert set(train["split"]) <= {"train", "val"}
    test = conspiracy.load_pan2024_oppositional(data_dir)
    assert labels_of(test, "conspiracy") == {"21": 1.0, "22": 0.0, "23": 0.0}
    assert set(test["split"]) == {"test"}


def test_covid_vaccine_conspiracy(data_dir: Path) -> None:
    frame = conspiracy.load_covid_vaccine_conspiracy(data_dir).set_index("text")
    assert frame["conspiracy"].to_dict() == {
        "The vaccine has a chip so they can track us": 1.0,
        "Got my second dose, arm is sore, café after": 0.0,
    }


def test_prct_youtube(data_dir: Path) -> None:
    frame = conspiracy.load_prct_youtube(data_dir)
    # Annotation False flips the model's label.
    assert labels_of(frame, "conspiracy") == {"C1": 1.0, "C2": 0.0, "C3": 0.0, "C4": 1.0}
    assert labels_of(frame, "parent_text") == {
        "C1": "Immigration is rising",
        "C2": "Is there a plan behind this?",
        "C3": None,
        "C4": "Why so many newcomers?",
    }

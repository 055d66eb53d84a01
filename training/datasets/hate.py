"""Loaders for the hate-speech datasets (and the political-talk probe that must not flag).

Each `load_<name>(data_dir)` reads one dataset directory under `data_dir` and returns it in
the unified schema (see schema.py); label values go through the table in labels.py. Where a
dataset only ships dev/test files, or no splits at all, rows are hash-split by a key chosen
so that near-copies (sentences of one post, a DynaHate perturbation and its original) land
in the same split.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ftfy
import numpy as np
import pandas as pd

from training.datasets import labels
from training.datasets.reading import (
    finish,
    read_csv,
    read_json_lines,
    text_id,
    text_keys,
    tweeteval_task,
)
from training.datasets.schema import DatasetError
from training.datasets.splits import OFFICIAL, TRAIN_VAL, TRAIN_VAL_TEST, hash_basis, hash_split

JEWISH = "jewish"


def with_hate_target(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with hate_target = group on hate==1 rows (the source names the group)."""
    out = frame.copy()
    out["hate_target"] = out["group"].where(out["hate"].eq(1.0))
    return out


def tag_negatives(frame: pd.DataFrame, tag: str, mask: pd.Series | None = None) -> pd.DataFrame:
    """`frame` with `tag` on untagged hate==0 rows (restricted to `mask` when given)."""
    out = frame.copy()
    if "tag" not in out.columns:
        out["tag"] = None
    chosen = out["hate"].eq(0.0) & out["tag"].isna()
    if mask is not None:
        chosen &= mask.reindex(out.index, fill_value=False).astype(bool)
    out["tag"] = out["tag"].where(~chosen, tag)
    return out


def load_hatexplain(data_dir: Path) -> pd.DataFrame:
    """HateXplain (tweets + Gab): normal / offensive / hate speech, official splits."""
    raw = read_csv(
        data_dir,
        "hatexplain/hatexplain_mbib_with_splits.csv",
        columns=("post_id", "text", "majority_label", "split"),
    )
    frame = pd.DataFrame(
        {"text": raw["text"], "doc_id": raw["post_id"], "split": raw["split"]}
    ).assign(split_basis=OFFICIAL)
    frame = labels.map_labels(frame, "hatexplain", labels.label_strings(raw["majority_label"]))
    return finish(frame, source="hatexplain")


def load_dynahate(data_dir: Path) -> pd.DataFrame:
    """DynaHate dev/test subset: hate / nothate with target groups; dev hash-split train/val."""
    name = "dynahate"
    parts = []
    for part, relative in (
        ("dev", "dynahate/dynahate_dev.csv"),
        ("test", "dynahate/dynahate_test.csv"),
    ):
        raw = read_csv(
            data_dir,
            relative,
            columns=("acl.id", "text", "label", "target", "level", "acl.id.matched"),
        )
        perturbed = raw["level"].eq("perturbation")
        frame = pd.DataFrame(
            {
                "text": raw["text"],
                "doc_id": raw["acl.id"],
                "group": raw["target"].map(labels.dynahate_target),
                "tag": perturbed.map({True: "perturbation", False: None}),
            }
        )
        if part == "dev":
            # A perturbation is a minimal edit of its original: key it by the original's id
            # so the pair cannot straddle train and val.
            key = raw["acl.id.matched"].where(perturbed & raw["acl.id.matched"].notna())
            key = key.fillna(raw["acl.id"])
            frame["split"] = hash_split(key, TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("original acl.id", TRAIN_VAL, part="dev")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        parts.append(labels.map_labels(frame, name, labels.label_strings(raw["label"])))
    return finish(with_hate_target(pd.concat(parts, ignore_index=True)), source=name)


def _json_list(value: object, where: str) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: targetMinority is not a JSON list: {value[:40]!r}") from exc
    if not isinstance(parsed, list):
        raise DatasetError(f"{where}: targetMinority is not a JSON list: {value[:40]!r}")
    return [str(item) for item in parsed]


def load_sbic(data_dir: Path) -> pd.DataFrame:
    """Social Bias Frames (aggregated dev/tst): offensive + group-targeted -> hate."""
    name = "sbic"
    parts = []
    for part, relative in (
        ("dev", "sbic/SBIC.v2.agg.dev.csv"),
        ("test", "sbic/SBIC.v2.agg.tst.csv"),
    ):
        raw = read_csv(
            data_dir, relative, columns=("post", "targetMinority", "offensiveYN", "whoTarget")
        )
        raw = raw.loc[raw["post"].notna()].copy()
        raw["targets"] = raw["targetMinority"].map(
            lambda value, where=relative: _json_list(value, where)
        )
        # An aggregated file can repeat a post; keep one row, the most offensive reading.
        posts = raw.groupby("post", sort=False).agg(
            offensive=("offensiveYN", "max"),
            targeted=("whoTarget", "max"),
            targets=("targets", lambda lists: [phrase for group in lists for phrase in group]),
        )
        offensive = posts["offensive"].ge(0.5)
        targeted = posts["targeted"].ge(0.5)
        original = pd.Series(
            np.select(
                [offensive & targeted, offensive, posts["offensive"].lt(0.5)],
                ["offensive_group", "offensive_no_group", "not_offensive"],
                default="",
            ),
            index=posts.index,
        )
        texts = pd.Series(posts.index, index=posts.index)
        frame = pd.DataFrame(
            {
                "text": texts,
                "doc_id": texts.map(text_id),
                "group": posts["targets"].map(labels.sbic_target),
            }
        )
        if part == "dev":
            frame["split"] = hash_split(text_keys(frame["text"]), TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("normalised text", TRAIN_VAL, part="dev")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        parts.append(labels.map_labels(frame, name, original).reset_index(drop=True))
    return finish(with_hate_target(pd.concat(parts, ignore_index=True)), source=name)


def load_redditbias(data_dir: Path) -> pd.DataFrame:
    """RedditBias: one file per group, comments biased (1) or not (0) toward that group."""
    name = "redditbias"
    parts = []
    for stem, group in labels.REDDITBIAS_GROUPS.items():
        raw = read_csv(
            data_dir,
            f"redditbias/reddit_comments_{stem}_processed_phrase_annotated.csv",
            columns=("comment", "bias_sent"),
            encoding="latin-1",
        )
        comments = raw["comment"]
        # The female file has no id column and most lgbtq ids are empty: hash the text then.
        ids = raw["id"] if "id" in raw.columns else pd.Series(np.nan, index=raw.index)
        hashed = comments.fillna("").map(text_id)
        frame = pd.DataFrame(
            {"text": comments, "doc_id": ids.where(ids.notna(), hashed), "group": group}
        )
        parts.append(labels.map_labels(frame, name, labels.label_strings(raw["bias_sent"])))
    frame = pd.concat(parts, ignore_index=True)
    # Keyed by comment id, so a comment annotated in two group files stays in one split.
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("id", TRAIN_VAL_TEST)
    # Comments were retrieved because they name the group: the 0s are identity mentions.
    frame = tag_negatives(with_hate_target(frame), "identity_mention")
    return finish(frame, source=name)


def load_stormfront(data_dir: Path) -> pd.DataFrame:
    """Stormfront sentences: hate / noHate; hash-split by post so a post stays together."""
    name = "stormfront"
    raw = read_csv(
        data_dir, "stormfront/stormfront_hate_sentences.csv", columns=("file_id", "label", "text")
    )
    post = raw["file_id"].astype("str").str.split("_").str[0]
    frame = pd.DataFrame({"text": raw["text"], "doc_id": raw["file_id"]})
    frame["split"] = hash_split(post, TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("post id", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["label"]))
    return finish(frame, source=name)


def load_davidson(data_dir: Path) -> pd.DataFrame:
    """Davidson et al. tweets: hate speech / offensive / neither."""
    name = "davidson"
    raw = read_csv(data_dir, "davidson/labeled_data.csv", columns=("Unnamed: 0", "class", "tweet"))
    frame = pd.DataFrame({"text": raw["tweet"], "doc_id": raw["Unnamed: 0"].astype("str")})
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("row id", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["class"]))
    return finish(frame, source=name)


def load_ethos(data_dir: Path) -> pd.DataFrame:
    """ETHOS binary (semicolon CSV): isHate is the share of annotators who said hate."""
    name = "ethos"
    # The multi-label file is ignored: its "religion" column cannot name the group.
    raw = read_csv(
        data_dir, "ethos/Ethos_Dataset_Binary.csv", columns=("comment", "isHate"), sep=";"
    )
    score = pd.to_numeric(raw["isHate"], errors="coerce")
    original = pd.Series(
        np.select([score.ge(0.5), score.lt(0.5)], ["isHate>=0.5", "isHate<0.5"], default=""),
        index=raw.index,
    )
    frame = pd.DataFrame({"text": raw["comment"], "doc_id": raw["comment"].fillna("").map(text_id)})
    frame["split"] = hash_split(text_keys(frame["text"]), TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("normalised text", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, original)
    return finish(frame, source=name)


def load_toxigen_seeds(data_dir: Path) -> pd.DataFrame:
    """ToxiGen seed statements: hateful or neutral statements about one group each."""
    name = "toxigen-seeds"
    raw = read_csv(
        data_dir,
        "toxigen-seeds/toxigen_seed_statements.csv",
        columns=("target_group", "label", "text"),
    )
    # A group the code book does not know still names some group: "other".
    groups = raw["target_group"].map(lambda group: labels.TOXIGEN_TARGETS.get(str(group), "other"))
    frame = pd.DataFrame(
        {"text": raw["text"], "doc_id": raw["text"].fillna("").map(text_id), "group": groups}
    )
    frame["split"] = hash_split(text_keys(frame["text"]), TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("normalised text", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["label"]))
    return finish(with_hate_target(frame), source=name)


def load_fox_news_comments(data_dir: Path) -> pd.DataFrame:
    """Fox News comments (Gao & Huang): hateful or not; hash-split by article."""
    name = "fox-news-comments"
    raw = read_json_lines(
        data_dir, "fox-news-comments/fox-news-comments.json", columns=("title", "text", "label")
    )
    # `prev` is the neighbouring comment in page order, not the parent, so parent_text
    # stays empty rather than pretending to be reply context.
    frame = pd.DataFrame({"text": raw["text"], "doc_id": raw["text"].fillna("").map(text_id)})
    # Keyed by article so one thread's comments, which answer each other, share a split.
    # There are only ten articles, so the real fractions are coarse (~55/8/37).
    frame["split"] = hash_split(raw["title"].fillna(""), TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("article title", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["label"]))
    return finish(frame, source=name)


def load_tweeteval_hate(data_dir: Path) -> pd.DataFrame:
    """TweetEval hate (HatEval: immigrants and women; the group is not given per tweet)."""
    name = "tweeteval-hate"
    return finish(tweeteval_task(data_dir, "hate", name), source=name)


def _keyword_pattern(words: pd.Series) -> re.Pattern[str]:
    # Matched from a word start, so plurals and compounds ("kikes") count but words that
    # merely contain a keyword in the middle do not.
    ordered = sorted({str(word).strip().lower() for word in words if str(word).strip()}, key=len)
    alternatives = "|".join(re.escape(word) for word in reversed(ordered))
    return re.compile(rf"(?<!\w)(?:{alternatives})" if alternatives else r"(?!)")


def load_antisemitism_4chan_pol(data_dir: Path) -> pd.DataFrame:
    """4chan /pol/ posts: antisemitic or not; 0 with a slur keyword says nothing about hate."""
    name = "antisemitism-4chan-pol"
    keywords = read_csv(
        data_dir, "antisemitism-4chan-pol/keywords.csv", columns=("category", "keyword")
    )
    category = keywords["category"].astype("str")
    # Label 0 only means "not antisemitic": anti-Black posts with the n-word are 0 too. A 0
    # with a slur/racist keyword from the dataset's own list is therefore no hate label.
    slurs = _keyword_pattern(keywords.loc[category.isin(("slurs", "racist")), "keyword"])
    # Posts were picked by these keywords; negatives naming Jews/Israel are hard negatives.
    mentions = _keyword_pattern(keywords.loc[category.isin(("jewish", "middle_east")), "keyword"])
    parts = []
    for part, relative in (("train", "data_train.csv"), ("test", "data_test.csv")):
        raw = read_csv(
            data_dir, f"antisemitism-4chan-pol/{relative}", columns=("Unnamed: 0", "text", "label")
        )
        lowered = raw["text"].fillna("").str.lower()
        value = labels.label_strings(raw["label"])
        has_slur = lowered.map(lambda text: slurs.search(text) is not None).astype(bool)
        original = value.where(~(value.eq("0") & has_slur), "0_with_slur")
        frame = pd.DataFrame(
            {"text": raw["text"], "doc_id": raw["Unnamed: 0"].astype("str"), "group": JEWISH}
        )
        if part == "train":
            frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("row id", TRAIN_VAL, part="train file")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        frame = labels.map_labels(frame, name, original)
        mentioned = lowered.map(lambda text: mentions.search(text) is not None).astype(bool)
        parts.append(tag_negatives(frame, "identity_mention", mentioned))
    return finish(with_hate_target(pd.concat(parts, ignore_index=True)), source=name)


def load_antisemitism_tweets_handlabeled(data_dir: Path) -> pd.DataFrame:
    """Tweets that all contain "jew", hand-labelled antisemitic or not."""
    name = "antisemitism-tweets-handlabeled"
    raw = read_csv(
        data_dir,
        "antisemitism-tweets-handlabeled/consolidated_hand_labels_fixed.csv",
        columns=("Unnamed: 0", "text", "label"),
    )
    frame = pd.DataFrame(
        {"text": raw["text"], "doc_id": raw["Unnamed: 0"].astype("str"), "group": JEWISH}
    )
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("row id", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["label"]))
    # Every tweet was collected for containing "jew": the negatives are identity mentions.
    frame = tag_negatives(with_hate_target(frame), "identity_mention")
    return finish(frame, source=name)


def load_mhs_jewish(data_dir: Path) -> pd.DataFrame:
    """Measuring Hate Speech comments about Jews, banded by the continuous hate score."""
    name = "mhs-jewish"
    raw = read_csv(
        data_dir,
        "mhs-jewish/ucberkeley-dlab_target_jewish.csv",
        columns=("comment_id", "text", "hate_speech_score"),
    )
    score = pd.to_numeric(raw["hate_speech_score"], errors="coerce")
    original = pd.Series(
        np.select(
            [score.gt(0.5), score.lt(-1.0), score.between(-1.0, 0.5)],
            ["score>0.5", "score<-1", "-1<=score<=0.5"],
            default="",
        ),
        index=raw.index,
    )
    frame = pd.DataFrame(
        {"text": raw["text"], "doc_id": raw["comment_id"].astype("str"), "group": JEWISH}
    )
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("comment_id", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, original)
    return finish(with_hate_target(frame), source=name)


def load_israel_palestine_reddit_stance(data_dir: Path) -> pd.DataFrame:
    """Reddit comments on Israel/Palestine: political talk, never hate (mojibake repaired)."""
    name = "israel-palestine-reddit-stance"
    parts = []
    for part, relative, id_column in (
        ("val", "val_data.csv", "Unnamed: 0"),
        ("test", "test_data.csv", "Index"),
    ):
        raw = read_csv(
            data_dir,
            f"israel-palestine-reddit-stance/{relative}",
            columns=(id_column, "self_text", "Sentiment"),
        )
        # About a third of the rows were mis-decoded upstream (mojibake such as "donât").
        texts = raw["self_text"].map(
            lambda text: ftfy.fix_text(text) if isinstance(text, str) else text
        )
        frame = pd.DataFrame(
            {
                "text": texts,
                "doc_id": part + ":" + raw[id_column].astype("str"),
                "group": "israel-palestine",
            }
        )
        if part == "val":
            frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("row id", TRAIN_VAL, part="val file")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        parts.append(labels.map_labels(frame, name, labels.label_strings(raw["Sentiment"])))
    return finish(pd.concat(parts, ignore_index=True), source=name)

"""Loaders for topic stance (TweetEval stance, VAST) and reply stance (RumourEval, DEBAGREEMENT).

Each `load_<name>(data_dir)` returns the unified schema (see schema.py). Topic-stance rows
carry the target phrase in `topic`; reply-stance rows carry the parent's text in
`parent_text`, because a reply's stance only means something next to what it answers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.datasets import labels
from training.datasets.reading import (
    blank,
    finish,
    read_csv,
    read_json_lines,
    read_tweeteval,
    text_id,
    text_keys,
)
from training.datasets.schema import DatasetError
from training.datasets.splits import OFFICIAL, TRAIN_VAL, hash_basis, hash_split

# TweetEval keeps SemEval-2016's five targets in folders; these are SemEval's own phrases.
TWEETEVAL_TOPICS: dict[str, str] = {
    "abortion": "Legalization of Abortion",
    "atheism": "Atheism",
    "climate": "Climate Change is a Real Concern",
    "feminist": "Feminist Movement",
    "hillary": "Hillary Clinton",
}

_RUMOUREVAL_SPLITS = {"train": "train", "dev": "val", "test": "test"}


def load_tweeteval_stance(data_dir: Path) -> pd.DataFrame:
    """TweetEval stance (SemEval-2016 Task 6): favor / against / none per target, official."""
    name = "tweeteval-stance"
    parts = []
    for folder, topic in TWEETEVAL_TOPICS.items():
        for split in ("train", "val", "test"):
            texts, values = read_tweeteval(data_dir, f"stance/{folder}", split)
            frame = pd.DataFrame(
                {
                    "text": texts,
                    "topic": topic,
                    "doc_id": [f"{folder}/{split}:{line}" for line in range(1, len(texts) + 1)],
                    "split": split,
                    "split_basis": OFFICIAL,
                }
            )
            parts.append(labels.map_labels(frame, name, pd.Series(values, dtype="str")))
    return finish(pd.concat(parts, ignore_index=True), source=name)


def load_vast(data_dir: Path) -> pd.DataFrame:
    """VAST (NYT comments): stance toward a topic phrase; dev hash-split train/val by text."""
    name = "vast"
    parts = []
    for part, relative in (("dev", "vast/vast_dev.csv"), ("test", "vast/vast_test.csv")):
        raw = read_csv(data_dir, relative, columns=("Tweet", "Target 1", "Stance 1"))
        frame = pd.DataFrame(
            {
                "text": raw["Tweet"],
                "topic": raw["Target 1"],
                "doc_id": raw["Tweet"].fillna("").map(text_id),
            }
        )
        if part == "dev":
            # One comment appears with several topics: key by its text so all its rows
            # share a split and no comment is seen in both train and val.
            frame["split"] = hash_split(text_keys(frame["text"]), TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("normalised comment text", TRAIN_VAL, part="dev")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        parts.append(labels.map_labels(frame, name, labels.label_strings(raw["Stance 1"])))
    return finish(pd.concat(parts, ignore_index=True), source=name)


def load_rumoureval2019(data_dir: Path) -> pd.DataFrame:
    """RumourEval 2019 replies (Twitter + Reddit): support / deny / query / comment."""
    name = "rumoureval2019"
    path = "rumoureval2019/rumoureval2019_posts.jsonl"
    raw = read_json_lines(
        data_dir,
        path,
        columns=("id", "is_source", "split", "stance_sdqc", "text", "parent_text"),
    )
    is_source = labels.label_strings(raw["is_source"]).map({"True": True, "False": False})
    if is_source.isna().any():
        raise DatasetError(f"{data_dir / path}: is_source must be true or false")
    # Source posts have no parent; replies without text (deleted) or parent are unusable.
    replies = raw.loc[~is_source.astype(bool) & ~blank(raw["text"]) & ~blank(raw["parent_text"])]
    split = replies["split"].map(_RUMOUREVAL_SPLITS)
    if split.isna().any():
        bad = sorted({str(value) for value in replies.loc[split.isna(), "split"]})
        raise DatasetError(f"{data_dir / path}: unknown split {', '.join(bad)}", field="split")
    frame = pd.DataFrame(
        {
            "text": replies["text"],
            "parent_text": replies["parent_text"],
            "doc_id": replies["id"].astype("str"),
            "split": split,
            "split_basis": OFFICIAL,
        }
    )
    frame = labels.map_labels(frame, name, labels.label_strings(replies["stance_sdqc"]))
    return finish(frame, source=name)


def load_debagreement(data_dir: Path) -> pd.DataFrame:
    """DEBAGREEMENT Reddit reply pairs: disagree / neutral / agree; dev hash-split by thread."""
    name = "debagreement"
    parts = []
    for part, relative in (("dev", "debagreement/dev.csv"), ("test", "debagreement/test.csv")):
        raw = read_csv(
            data_dir,
            relative,
            columns=("label", "msg_id_child", "submission_id", "body_parent", "body_child"),
        )
        # Author columns are never copied: usernames are not needed to learn agreement.
        frame = pd.DataFrame(
            {
                "text": raw["body_child"],
                "parent_text": raw["body_parent"],
                "doc_id": raw["msg_id_child"].astype("str"),
            }
        )
        if part == "dev":
            # Keyed by submission so one discussion's pairs stay in one split.
            frame["split"] = hash_split(raw["submission_id"].astype("str"), TRAIN_VAL, salt=name)
            frame["split_basis"] = hash_basis("submission_id", TRAIN_VAL, part="dev")
        else:
            frame["split"] = "test"
            frame["split_basis"] = OFFICIAL
        parts.append(labels.map_labels(frame, name, labels.label_strings(raw["label"])))
    return finish(pd.concat(parts, ignore_index=True), source=name)

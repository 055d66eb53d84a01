"""Loaders for the toxicity datasets, including the eval-only identity bias probes.

Each `load_<name>(data_dir)` returns the unified schema (see schema.py). The Wikipedia
identity sets and the bias madlibs are test-only probes (`eval_only`): a model must score
"i am jewish" low, and must not change its score when identity terms are swapped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.datasets import labels
from training.datasets.reading import finish, read_csv, tweeteval_task
from training.datasets.schema import DatasetError
from training.datasets.splits import OFFICIAL, TRAIN_VAL_TEST, hash_basis, hash_split


def merge_spans(pairs: list[tuple[int, int]]) -> list[list[int]] | None:
    """The union of character spans as sorted, non-overlapping [start, end) pairs."""
    merged: list[list[int]] = []
    for start, end in sorted(pair for pair in pairs if pair[0] < pair[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged or None


def _flags(values: pd.Series, path: str) -> pd.Series:
    spelled = labels.label_strings(values)
    truth = spelled.map({"True": True, "False": False})
    if truth.isna().any():
        bad = sorted(set(spelled[truth.isna()]))[:3]
        raise DatasetError(f"{path}: expected True/False, got {', '.join(map(repr, bad))}")
    return truth.astype(bool)


def load_civil_toxic_spans(data_dir: Path) -> pd.DataFrame:
    """Civil Comments toxic spans: all posts toxic per the original crowd, some borderline."""
    name = "civil-toxic-spans"
    comments = read_csv(
        data_dir, "civil-toxic-spans/comments.csv", columns=("comment_id", "comment_text")
    )
    annotations = read_csv(
        data_dir,
        "civil-toxic-spans/annotations.csv",
        columns=("annotation", "comment_id", "not toxic"),
    )
    spans = read_csv(
        data_dir, "civil-toxic-spans/spans.csv", columns=("annotation", "start", "end")
    )

    annotations["ticked"] = _flags(annotations["not toxic"], "civil-toxic-spans/annotations.csv")
    votes = annotations.groupby("comment_id")["ticked"].agg(["sum", "count"])
    # Toxic only when a strict majority of the span raters did not tick "not toxic"; a tie
    # is borderline like a majority of ticks.
    agree = (votes["count"] - votes["sum"]) * 2 > votes["count"]
    verdict = agree.map({True: "raters_agree_toxic", False: "raters_disagree"})
    original = comments["comment_id"].map(verdict).fillna("unrated").astype("str")

    located = spans.merge(annotations[["annotation", "comment_id"]], on="annotation")
    starts = pd.to_numeric(located["start"], errors="coerce")
    ends = pd.to_numeric(located["end"], errors="coerce")
    pairs: dict[object, list[tuple[int, int]]] = {}
    for comment_id, start, end in zip(located["comment_id"], starts, ends, strict=True):
        # A few span rows are malformed upstream; they carry no usable offsets.
        if pd.notna(start) and pd.notna(end):
            pairs.setdefault(comment_id, []).append((int(start), int(end)))
    union = {comment_id: merge_spans(found) for comment_id, found in pairs.items()}

    frame = pd.DataFrame(
        {
            "text": comments["comment_text"],
            "doc_id": comments["comment_id"].astype("str"),
            "spans": pd.Series(
                [union.get(comment_id) for comment_id in comments["comment_id"]],
                index=comments.index,
                dtype="object",
            ),
        }
    )
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("comment_id", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, original)
    return finish(frame, source=name)


def load_wiki_toxicity_identity(data_dir: Path) -> pd.DataFrame:
    """Eval-only identity probes: Wikipedia identity subset, its fuzzed copy, bias madlibs."""
    parts = []
    for relative, source in (
        ("toxicity_nonfuzzed_testset.csv", "wiki-toxicity-identity"),
        ("toxicity_fuzzed_testset.csv", "wiki-toxicity-fuzzed"),
    ):
        path = f"wiki-toxicity-identity/{relative}"
        raw = read_csv(data_dir, path, columns=("rev_id", "comment", "toxic"))
        frame = pd.DataFrame({"text": raw["comment"], "doc_id": raw["rev_id"].astype("str")})
        original = _flags(raw["toxic"], path).map({True: "True", False: "False"}).astype("str")
        parts.append(finish(_probe(labels.map_labels(frame, source, original)), source=source))

    source = "bias-madlibs"
    raw = read_csv(
        data_dir,
        "wiki-toxicity-identity/bias_madlibs_77k.csv",
        columns=("Text", "Label", "Template"),
    )
    # The template is kept in the id so evaluation can compare scores within one template.
    doc_ids = raw["Template"].astype("str") + ":" + pd.Series(range(1, len(raw) + 1)).astype("str")
    frame = pd.DataFrame({"text": raw["Text"], "doc_id": doc_ids.to_numpy()})
    parts.append(
        finish(
            _probe(labels.map_labels(frame, source, labels.label_strings(raw["Label"]))),
            source=source,
        )
    )
    return pd.concat(parts, ignore_index=True)


def _probe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(split="test", split_basis=OFFICIAL, eval_only=True)
    # Every text in these sets names an identity group by construction; the benign ones
    # are the false-positive probes.
    out["tag"] = out["toxic"].eq(0.0).map({True: "identity_mention", False: None})
    return out


def load_tweeteval_offensive(data_dir: Path) -> pd.DataFrame:
    """TweetEval offensive (OLID): offensive or not, official splits."""
    name = "tweeteval-offensive"
    return finish(tweeteval_task(data_dir, "offensive", name), source=name)

"""Loaders for the conspiracy datasets (PAN 2024 oppositional thinking, COVID vaccines, PRCT).

Each `load_<name>(data_dir)` returns the unified schema (see schema.py). PAN's CRITICAL
texts oppose authorities without alleging a secret plot; they are the hard negatives that
teach the head the difference, so they carry the tag "critical".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.datasets import labels
from training.datasets.reading import finish, read_csv, read_json_records, text_id, text_keys
from training.datasets.schema import DatasetError
from training.datasets.splits import OFFICIAL, TRAIN_VAL, TRAIN_VAL_TEST, hash_basis, hash_split

_OPPOSITE = {"PRCT": "Non-PRCT", "Non-PRCT": "PRCT"}


def load_pan2024_oppositional_train(data_dir: Path) -> pd.DataFrame:
    """PAN 2024 oppositional English train set (reconstructed): hash-split train/val."""
    name = "pan2024-oppositional-train"
    raw = read_csv(
        data_dir,
        "pan2024-oppositional-train/dataset_en_train.csv",
        columns=("id", "text", "category"),
    )
    frame = pd.DataFrame({"text": raw["text"], "doc_id": raw["id"].astype("str")})
    # The official test set is a separate dataset, so this file only feeds train and val.
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL, salt=name)
    frame["split_basis"] = hash_basis("id", TRAIN_VAL)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["category"]))
    return finish(frame, source=name)


def load_pan2024_oppositional(data_dir: Path) -> pd.DataFrame:
    """PAN 2024 oppositional English test set: conspiracy vs critical, all test."""
    name = "pan2024-oppositional"
    raw = read_json_records(
        data_dir, "pan2024-oppositional/dataset_en_test.json", columns=("id", "text", "category")
    )
    frame = pd.DataFrame(
        {"text": raw["text"], "doc_id": raw["id"].astype("str"), "split": "test"}
    ).assign(split_basis=OFFICIAL)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["category"]))
    return finish(frame, source=name)


def load_covid_vaccine_conspiracy(data_dir: Path) -> pd.DataFrame:
    """Comments about COVID-19 vaccines labelled conspiracy or not (latin-1 CSV)."""
    name = "covid-vaccine-conspiracy"
    raw = read_csv(
        data_dir,
        "covid-vaccine-conspiracy/covid_vaccine_conspiracy_comments.csv",
        columns=("comments", "label"),
        encoding="latin-1",
    )
    frame = pd.DataFrame(
        {"text": raw["comments"], "doc_id": raw["comments"].fillna("").map(text_id)}
    )
    frame["split"] = hash_split(text_keys(frame["text"]), TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("normalised text", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, labels.label_strings(raw["label"]))
    return finish(frame, source=name)


def load_prct_youtube(data_dir: Path) -> pd.DataFrame:
    """YouTube replies about the Great Replacement conspiracy, with their parent comment."""
    name = "prct-youtube"
    path = "prct-youtube/anonymized_gold_standard.csv"
    raw = read_csv(
        data_dir,
        path,
        columns=(
            "CommentID",
            "CommentText",
            "Model_Classification",
            "Annotation",
            "ParentCommentText",
        ),
    )
    agreed = labels.label_strings(raw["Annotation"]).map({"True": True, "False": False})
    if agreed.isna().any():
        raise DatasetError(f"{data_dir / path}: Annotation must be True or False")
    # Annotation says whether the human agreed with the LLM's label, so the gold label is
    # the model's label when it is True and the other label when it is False.
    model = labels.label_strings(raw["Model_Classification"])
    gold = model.where(agreed.astype(bool), model.map(_OPPOSITE).fillna(model))
    frame = pd.DataFrame(
        {
            "text": raw["CommentText"],
            "parent_text": raw["ParentCommentText"],
            "doc_id": raw["CommentID"].astype("str"),
        }
    )
    frame["split"] = hash_split(frame["doc_id"], TRAIN_VAL_TEST, salt=name)
    frame["split_basis"] = hash_basis("CommentID", TRAIN_VAL_TEST)
    frame = labels.map_labels(frame, name, gold.astype("str"))
    return finish(frame, source=name)

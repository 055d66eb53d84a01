"""Tests for LOADERS and load_all on the tiny fake data dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from training.datasets import catalog, hate
from training.datasets.catalog import LOADERS, load_all
from training.datasets.schema import COLUMNS, DatasetError, SchemaError
from training.registry import load_registry


def test_loaders_cover_every_registered_training_dataset() -> None:
    registered = {dataset.name for dataset in load_registry().datasets}
    # threads/ holds parser fixtures, not labelled rows.
    assert set(LOADERS) == registered - {"threads"}


def test_load_all_combines_validates_and_dedupes(data_dir: Path) -> None:
    frame, report = load_all(data_dir)
    assert list(frame.columns) == list(COLUMNS)
    assert frame.index.equals(pd.RangeIndex(len(frame)))
    assert "pan2024-oppositional-train" in set(frame["source"])
    shared = frame.loc[frame["text"].eq("Same text in both PAN files .")]
    assert shared["source"].tolist() == ["pan2024-oppositional"]
    assert report.count("test_leak", source="pan2024-oppositional-train") == 1
    assert report.rows_out == len(frame)
    expected = {
        source for loader in LOADERS.values() for source in loader(data_dir)["source"].unique()
    }
    assert set(frame["source"]) == expected


def test_load_all_without_eval_only_keeps_the_same_training_rows(data_dir: Path) -> None:
    everything, _ = load_all(data_dir)
    training, _ = load_all(data_dir, include_eval_only=False)
    assert not training["eval_only"].any()
    assert len(training) == len(everything) - int(everything["eval_only"].sum())
    kept = everything.loc[~everything["eval_only"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(training, kept)


def test_load_all_by_name(data_dir: Path) -> None:
    frame, report = load_all(data_dir, ["davidson", "ethos", "davidson"])
    assert set(frame["source"]) == {"davidson", "ethos"}
    assert len(frame) == 7
    assert report.rows_in == 7
    empty, _ = load_all(data_dir, [])
    assert empty.empty
    assert list(empty.columns) == list(COLUMNS)


def test_unknown_name(data_dir: Path) -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset jigsaw \(known: antisemitism-4chan"):
        load_all(data_dir, ["jigsaw"])


def test_missing_data_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetError, match=f"data dir does not exist.*{missing}"):
        load_all(missing)
    with pytest.raises(DatasetError, match=f"data dir does not exist.*{missing}"):
        LOADERS["vast"](missing)


def test_missing_file_names_the_path(data_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "datasets"
    shutil.copytree(data_dir, copy)
    (copy / "vast" / "vast_test.csv").unlink()
    with pytest.raises(DatasetError, match=r"missing dataset file: .*vast/vast_test\.csv") as info:
        load_all(copy, ["davidson", "vast"])
    assert info.value.field == "vast/vast_test.csv"


def test_a_loader_breaking_the_schema_is_named(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> pd.DataFrame:
        return hate.load_ethos(path).assign(split="dev")

    monkeypatch.setitem(catalog.LOADERS, "ethos", broken)
    with pytest.raises(SchemaError, match=r"^ethos: column split: value not in train, val, test"):
        load_all(data_dir, ["ethos"])

"""Error paths of file reading and of loaders meeting malformed files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from training.datasets import conspiracy, hate, stance, toxic
from training.datasets.labels import LabelError
from training.datasets.reading import (
    finish,
    read_csv,
    read_json_lines,
    read_json_records,
    read_lines,
    text_id,
    tweeteval_task,
)
from training.datasets.schema import DatasetError, validate


def write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_read_csv_checks_columns(tmp_path: Path) -> None:
    write(tmp_path, "d/a.csv", "x,y\n1,2\n")
    assert read_csv(tmp_path, "d/a.csv", columns=("x",))["y"].tolist() == [2]
    with pytest.raises(DatasetError, match=r"d/a\.csv: missing column label, text") as info:
        read_csv(tmp_path, "d/a.csv", columns=("x", "label", "text"))
    assert info.value.field == "label"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x,y\n1,2\n3,4,5,6\n", r"cannot read .*bad\.csv: Error tokenizing data"),
        (b"x\n\xff\xfe caf\xe9\n", r"cannot read .*bad\.csv: 'utf-8' codec can't decode"),
        ("", r"cannot read .*bad\.csv: No columns to parse"),
    ],
)
def test_read_csv_wraps_pandas_errors(tmp_path: Path, content: str | bytes, message: str) -> None:
    write(tmp_path, "bad.csv", content)
    with pytest.raises(DatasetError, match=message):
        read_csv(tmp_path, "bad.csv")


def test_read_json_lines(tmp_path: Path) -> None:
    write(tmp_path, "ok.jsonl", '{"id": "0012", "n": 1}\n\n{"id": "7", "n": 2}\n')
    frame = read_json_lines(tmp_path, "ok.jsonl", columns=("id",))
    assert frame["id"].tolist() == ["0012", "7"]  # ids stay text
    write(tmp_path, "bad.jsonl", '{"id": 1}\n{"id": \n')
    with pytest.raises(DatasetError, match=r"cannot read .*bad\.jsonl: Expecting value"):
        read_json_lines(tmp_path, "bad.jsonl")
    write(tmp_path, "list.jsonl", "[1, 2]\n")
    with pytest.raises(DatasetError, match=r"list\.jsonl: record 1 is not a JSON object"):
        read_json_lines(tmp_path, "list.jsonl")


def test_read_json_records(tmp_path: Path) -> None:
    write(tmp_path, "obj.json", json.dumps({"id": 1}))
    with pytest.raises(DatasetError, match=r"obj\.json: expected a JSON list of objects"):
        read_json_records(tmp_path, "obj.json")
    write(tmp_path, "broken.json", "[{")
    with pytest.raises(DatasetError, match=r"cannot read .*broken\.json"):
        read_json_records(tmp_path, "broken.json")
    write(tmp_path, "nokey.json", json.dumps([{"id": 1}]))
    with pytest.raises(DatasetError, match=r"nokey\.json: missing column text"):
        read_json_records(tmp_path, "nokey.json", columns=("id", "text"))


def test_read_lines_splits_on_newline_only(tmp_path: Path) -> None:
    write(tmp_path, "t.txt", "one\u2028still one\nsecond\n")
    assert read_lines(tmp_path, "t.txt") == ["one\u2028still one", "second"]
    write(tmp_path, "latin.txt", b"caf\xe9\n")
    with pytest.raises(DatasetError, match=r"cannot read .*latin\.txt"):
        read_lines(tmp_path, "latin.txt")


def test_tweeteval_files_must_align(data_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "datasets"
    shutil.copytree(data_dir / "tweeteval", copy / "tweeteval")
    write(copy, "tweeteval/hate/val_labels.txt", "0\n1\n")
    with pytest.raises(DatasetError, match=r"val_text\.txt has 1 lines but val_labels\.txt has 2"):
        tweeteval_task(copy, "hate", "tweeteval-hate")


def test_text_id_is_a_short_stable_hash() -> None:
    assert text_id("abc") == "sha256:ba7816bf8f01cfea"
    assert text_id("abc") != text_id("abd")


def test_finish_fills_defaults_and_blanks_empty_parents() -> None:
    frame = pd.DataFrame(
        {
            "text": ["kept", "  ", None],
            "parent_text": ["  ", "p", "p"],
            "split": "train",
            "split_basis": "official",
            "doc_id": ["1", "2", "3"],
        }
    )
    out = finish(frame, source="toy")
    validate(out)
    assert out["text"].tolist() == ["kept"]
    assert out["parent_text"].isna().all()
    assert out["spans"].tolist() == [None]
    assert out["eval_only"].tolist() == [False]


def test_sbic_bad_target_json(tmp_path: Path) -> None:
    header = "post,targetMinority,offensiveYN,whoTarget\n"
    write(tmp_path, "sbic/SBIC.v2.agg.dev.csv", header + 'a post,"[unclosed",1.0,1.0\n')
    write(tmp_path, "sbic/SBIC.v2.agg.tst.csv", header)
    with pytest.raises(
        DatasetError, match=r"SBIC\.v2\.agg\.dev\.csv: targetMinority is not a JSON"
    ):
        hate.load_sbic(tmp_path)
    write(tmp_path, "sbic/SBIC.v2.agg.dev.csv", header + 'a post,"{}",1.0,1.0\n')
    with pytest.raises(DatasetError, match=r"targetMinority is not a JSON list: '\{\}'"):
        hate.load_sbic(tmp_path)


def test_ethos_missing_score_is_an_unmapped_label(tmp_path: Path) -> None:
    write(tmp_path, "ethos/Ethos_Dataset_Binary.csv", "comment;isHate\nsome words;\n")
    with pytest.raises(LabelError, match=r"ethos: label value\(s\) not in the mapping table: ''"):
        hate.load_ethos(tmp_path)


def test_civil_not_toxic_must_be_boolean(data_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "datasets"
    shutil.copytree(data_dir / "civil-toxic-spans", copy / "civil-toxic-spans")
    write(
        copy,
        "civil-toxic-spans/annotations.csv",
        "annotation,comment_id,worker,country,all toxic,not toxic\n0,201,1,USA,False,maybe\n",
    )
    with pytest.raises(DatasetError, match=r"annotations\.csv: expected True/False, got 'maybe'"):
        toxic.load_civil_toxic_spans(copy)


def test_prct_annotation_must_be_boolean(tmp_path: Path) -> None:
    write(
        tmp_path,
        "prct-youtube/anonymized_gold_standard.csv",
        "CommentID,CommentText,Model_Classification,Annotation,ParentCommentText\n"
        "C1,text,PRCT,perhaps,\n",
    )
    with pytest.raises(DatasetError, match=r"Annotation must be True or False"):
        conspiracy.load_prct_youtube(tmp_path)


def test_rumoureval_rejects_unknown_split_and_bad_flags(tmp_path: Path) -> None:
    row = {
        "id": "1",
        "is_source": False,
        "split": "holdout",
        "stance_sdqc": "comment",
        "text": "a reply",
        "parent_text": "a post",
    }
    write(tmp_path, "rumoureval2019/rumoureval2019_posts.jsonl", json.dumps(row) + "\n")
    with pytest.raises(DatasetError, match=r"rumoureval2019_posts\.jsonl: unknown split holdout"):
        stance.load_rumoureval2019(tmp_path)
    row.update(split="train", is_source="sometimes")
    write(tmp_path, "rumoureval2019/rumoureval2019_posts.jsonl", json.dumps(row) + "\n")
    with pytest.raises(DatasetError, match=r"is_source must be true or false"):
        stance.load_rumoureval2019(tmp_path)

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from app.cli import app
from app.registry import LoadedModel, load
from app.scoring import score_frame
from tests.conftest import ROOT, SHARED, TINY_TRAINING, read_training_frame, shared_file
from training.datasets.schema import COLUMNS, validate
from training.evaluate import evaluate, summary
from training.feedback import (
    SCHEMA,
    FeedbackError,
    FeedbackFile,
    fold_feedback,
    load_feedback,
    read_feedback,
)
from training.fitting import source_weights
from training.report import write_report
from training.train import TrainConfig, build_manifest, train, write_bundle

runner = CliRunner()

# The same small config as the session's tiny_model, so a model trained with feedback differs
# from it only by the feedback rows.
TINY_CONFIG = TrainConfig(
    min_df=1, word_max_features=5_000, char_max_features=5_000, c_grid=(1.0, 8.0)
)
# A made-up insult the tiny corpus never saw, which moderators keep marking toxic.
PROBE = "frog eaters should crawl back into their swamp"
ENDINGS = (
    "today",
    "now",
    "please",
    "already",
    "forever",
    "quickly",
    "soon",
    "again",
    "tonight",
    "everyone",
    "right away",
    "for good",
)


def decision(doc_id: str, text: str = "a plain comment", **fields: Any) -> dict[str, Any]:
    """One line of `threadguard queue export`, with every label null unless given."""
    line: dict[str, Any] = {
        "schema": SCHEMA,
        "doc_id": doc_id,
        "text": text,
        "parent_text": None,
        "topic": None,
        "hate": None,
        "toxic": None,
        "conspiracy": None,
        "hate_target": None,
        "stance": None,
        "reply_stance": None,
        "action": "label",
        "queue": "toxic",
        "moderator": "alice",
        "decided_at": "2026-02-01T10:00:00Z",
        "item_id": 1,
        "decision_id": 1,
        "model_version": "20261123-535e70f8",
    }
    line.update(fields)
    return line


def write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def test_decisions_become_train_rows_in_the_datasets_schema(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "decisions.jsonl",
        [
            decision("blog#1@1", "you are an idiot", toxic=1, hate=0, action="reject"),
            decision(
                "blog#2@1",
                "those people are vermin",
                parent_text="the article",
                topic="Immigration",
                hate=1,
                hate_target="immigrant",
                stance="against",
                reply_stance="disagree",
            ),
        ],
    )
    frame = load_feedback(path)
    validate(frame)
    assert list(frame.columns) == list(COLUMNS)
    assert list(frame["doc_id"]) == ["blog#1@1", "blog#2@1"]
    assert set(frame["source"]) == {"feedback"}
    assert set(frame["split"]) == {"train"}
    assert set(frame["split_basis"]) == {"feedback"}
    assert not frame["eval_only"].any()
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first["toxic"], first["hate"]) == (1.0, 0.0)
    assert math.isnan(first["conspiracy"]) and pd.isna(first["stance"])
    assert pd.isna(first["parent_text"]) and pd.isna(first["topic"])
    assert second["hate_target"] == "immigrant" and math.isnan(second["toxic"])
    assert (second["stance"], second["reply_stance"]) == ("against", "disagree")
    assert (second["parent_text"], second["topic"]) == ("the article", "Immigration")


def test_the_last_decision_per_doc_wins_and_a_withdrawn_doc_is_dropped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "decisions.jsonl",
        [
            decision("blog#1@1", "first comment", toxic=1),
            decision("blog#2@1", "second comment", hate=1, toxic=1),
            decision("blog#3@1", "third comment", conspiracy=1),
            "",
            decision("blog#1@1", "first comment", toxic=0, action="approve"),  # overrules
            decision("blog#2@1", "second comment", action="reopen"),  # withdraws
            decision("blog#3@2", "third comment, edited", conspiracy=0),  # a new version
        ],
    )
    read = read_feedback(path)
    assert (read.decisions, read.docs, read.withdrawn) == (6, 4, 1)
    frame = read.frame
    # In the order of each doc's last decision.
    assert list(frame["doc_id"]) == ["blog#3@1", "blog#1@1", "blog#3@2"]
    assert list(frame["toxic"].fillna(-1)) == [-1.0, 0.0, -1.0]
    assert list(frame["conspiracy"].fillna(-1)) == [1.0, -1.0, 0.0]


def test_a_withdrawn_doc_can_be_decided_again(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "decisions.jsonl",
        [
            decision("blog#1@1", toxic=1),
            decision("blog#1@1", action="escalate"),
            decision("blog#1@1", toxic=0, action="approve"),
        ],
    )
    frame = load_feedback(path)
    assert list(frame["toxic"]) == [0.0]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("{not json", r"decisions\.jsonl line 2: not JSON"),
        ("[1, 2]", r"line 2: not a JSON object"),
        (decision("b#2", schema="threadguard.feedback/2"), r"line 2: schema .*feedback/2"),
        ({k: v for k, v in decision("b#2").items() if k != "schema"}, r"line 2: schema None"),
        (decision("b#2", hate=2), r"line 2: unknown hate value 2 \(expected 1, 0 or null\)"),
        (decision("b#2", toxic=True), r"line 2: unknown toxic value True"),
        (decision("b#2", toxic="yes"), r"line 2: unknown toxic value 'yes'"),
        (decision("b#2", stance="pro"), r"line 2: unknown stance 'pro'"),
        (decision("b#2", reply_stance="agrees"), r"line 2: unknown reply_stance 'agrees'"),
        (decision("b#2", hate=1, hate_target="martians"), r"line 2: unknown hate_target"),
        (decision("b#2", hate=0, hate_target="jewish"), r"line 2: hate_target .* not 1"),
        ({k: v for k, v in decision("b#2").items() if k != "text"}, r"line 2: missing text"),
        (decision("b#2", text="   "), r"line 2: missing text \(doc_id b#2\)"),
        (decision("b#2", text=None), r"line 2: missing text"),
        (decision("", toxic=1), r"line 2: missing doc_id"),
        (decision("b#2", topic=3), r"line 2: topic must be a string or null"),
    ],
)
def test_a_bad_line_is_an_error_naming_the_file_and_line(
    tmp_path: Path, line: dict[str, Any] | str, match: str
) -> None:
    path = write_lines(tmp_path / "decisions.jsonl", [decision("b#1", toxic=1), line])
    with pytest.raises(FeedbackError, match=match) as caught:
        load_feedback(path)
    assert caught.value.exit_code == 2
    assert str(path) in caught.value.message


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"])
def test_an_empty_file_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FeedbackError, match=r"decisions\.jsonl is empty"):
        load_feedback(path)


def test_a_missing_or_undecodable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FeedbackError, match=r"cannot read feedback file .*nope\.jsonl"):
        load_feedback(tmp_path / "nope.jsonl")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(decision("b#1", toxic=1)).encode() + b"\n\xe9t\xe9\n")
    with pytest.raises(FeedbackError, match=r"latin1\.jsonl line 2: not UTF-8"):
        load_feedback(path)


def tiny_frame() -> pd.DataFrame:
    return read_training_frame(TINY_TRAINING)


def test_feedback_that_repeats_a_test_or_validation_text_is_dropped(tmp_path: Path) -> None:
    public = tiny_frame()
    test_text = public.loc[public["split"] == "test", "text"].iloc[0]
    val_text = public.loc[public["split"] == "val", "text"].iloc[0]
    path = write_lines(
        tmp_path / "decisions.jsonl",
        [
            # Case and punctuation do not hide a leak (the datasets' dedupe key).
            decision("b#1", test_text.upper() + "!!", toxic=1),
            decision("b#2", val_text, toxic=0),
            decision("b#3", "a brand new comment", toxic=1),
            decision("b#4", "A brand new comment.", toxic=0),  # the same text, decided later
            decision("b#5", "another new comment", hate=0),
        ],
    )
    read = read_feedback(path)
    merged, report = fold_feedback(public, read.frame)
    record = read.record(report)
    assert record["dropped"] == {"empty_key": 0, "test_leak": 1, "val_leak": 1, "duplicate": 1}
    assert (record["rows"], record["used"]) == (5, 2)
    # Every public row is kept, in order; the survivors are appended.
    pd.testing.assert_frame_equal(merged.iloc[: len(public)][list(public.columns)], public)
    added = merged.iloc[len(public) :]
    assert list(added["doc_id"]) == ["b#4", "b#5"]
    assert list(added["toxic"].fillna(-1)) == [0.0, -1.0]  # the later of the two decisions
    assert set(added["split"]) == {"train"}


def test_feedback_rows_weigh_more_than_a_public_source_of_the_same_size() -> None:
    frame = pd.DataFrame({"source": ["a"] * 4 + ["feedback"] * 4 + ["big"] * 400})
    weights = _weights(frame, TrainConfig())
    assert weights.mean() == pytest.approx(1.0)
    assert weights[4] / weights[0] == pytest.approx(TrainConfig().feedback_weight)
    assert weights[4] / weights[-1] == pytest.approx(TrainConfig().feedback_weight * 10)
    plain = _weights(frame, TrainConfig(source_balance=False, feedback_weight=2.0))
    assert plain[4] / plain[0] == pytest.approx(2.0)
    public_only = frame[frame["source"] != "feedback"]
    np.testing.assert_allclose(
        _weights(public_only, TrainConfig()),
        _weights(public_only, TrainConfig(feedback_weight=99.0)),
    )


def _weights(frame: pd.DataFrame, config: TrainConfig) -> np.ndarray:
    return source_weights(
        frame, balance=config.source_balance, feedback_weight=config.feedback_weight
    )


@pytest.fixture(scope="module")
def feedback_file(tmp_path_factory: pytest.TempPathFactory) -> FeedbackFile:
    public = tiny_frame()
    test_text = public.loc[public["split"] == "test", "text"].iloc[0]
    lines = [
        decision(f"blog#{i}@1", f"{PROBE} {ending}", toxic=1, hate=0, action="reject")
        for i, ending in enumerate(ENDINGS)
    ]
    lines.append(decision("blog#leak@1", test_text, toxic=1, hate=1))
    path = write_lines(tmp_path_factory.mktemp("feedback") / "decisions.jsonl", lines)
    return read_feedback(path)


@pytest.fixture(scope="module")
def feedback_model(
    feedback_file: FeedbackFile, tmp_path_factory: pytest.TempPathFactory
) -> LoadedModel:
    """The tiny model again, trained with the moderators' corrections as one more source."""
    merged, report = fold_feedback(tiny_frame(), feedback_file.frame)
    fitted = train(merged, TINY_CONFIG)
    manifest = build_manifest(
        fitted,
        TINY_CONFIG,
        version="tiny-feedback",
        data_files=[],
        repo=ROOT,
        dedupe={},
        feedback=[feedback_file.record(report)],
    )
    version_dir, _ = write_bundle(fitted, manifest, tmp_path_factory.mktemp("models"))
    return load(version_dir)


def toxic_probability(model: LoadedModel, text: str) -> float:
    frame = pd.DataFrame({"text": [text], "parent_text": [None], "topic": [None]})
    return float(score_frame(model, frame, evidence_top=0)["toxic"].iloc[0])


def test_training_with_feedback_records_it_and_moves_the_corrected_example(
    tiny_model: LoadedModel, feedback_model: LoadedModel, feedback_file: FeedbackFile
) -> None:
    (record,) = feedback_model.manifest["feedback"]
    assert record["sha256"] == feedback_file.sha256 and len(record["sha256"]) == 64
    assert record["path"] == str(feedback_file.path)
    assert record["dropped"]["test_leak"] == 1
    assert record["used"] == len(ENDINGS)
    rows = feedback_model.manifest["training"]["rows"]
    assert rows["toxic"]["feedback"] == len(ENDINGS) and rows["hate"]["feedback"] == len(ENDINGS)
    assert "feedback" not in rows["conspiracy"]
    assert tiny_model.manifest["feedback"] == []
    before = toxic_probability(tiny_model, PROBE)
    after = toxic_probability(feedback_model, PROBE)
    assert after > before + 0.2, (before, after)


def test_the_report_shows_the_baseline_beside_the_new_model(
    tiny_model: LoadedModel, feedback_model: LoadedModel, tmp_path: Path
) -> None:
    frame = tiny_frame()
    frame["eval_only"] = False
    result = evaluate(feedback_model, frame, baseline=tiny_model)
    alone = evaluate(tiny_model, frame)
    # The baseline's figures are exactly what evaluating it alone gives on those rows.
    assert result["baseline"]["summary"] == summary(alone)
    assert result["baseline"]["version"] == "tiny-1"
    out = write_report(feedback_model, result, tmp_path / feedback_model.version)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Against baseline tiny-1" in report
    assert f"same {result['test_rows']:,} test rows" in report
    assert "| metric | n | baseline tiny-1 | this model tiny-feedback | difference |" in report
    new, old = summary(result), result["baseline"]["summary"]
    line = next(x for x in report.splitlines() if x.startswith("| hate AUROC |"))
    assert line.endswith(
        f"| {old['hate_auroc']:.3f} | {new['hate_auroc']:.3f} | "
        f"{new['hate_auroc'] - old['hate_auroc']:+.3f} |"
    )
    assert "### Per head and source, against the baseline (test)" in report
    assert "trained with moderator feedback from" in report
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["baseline"]["version"] == "tiny-1"
    without = write_report(tiny_model, alone, tmp_path / "alone")
    assert "Against baseline" not in (without / "report.md").read_text(encoding="utf-8")


def fake(calls: list[dict[str, Any]], returns: Path) -> Callable[..., Path]:
    def record(*args: Any, **kwargs: Any) -> Path:
        calls.append({"args": args, **kwargs})
        return returns

    return record


def test_the_cli_passes_feedback_and_baseline_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.run

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(training.run, "train_bundle", fake(calls, tmp_path / "v1"))
    monkeypatch.setattr(training.run, "evaluate_bundle", fake(calls, tmp_path / "v1"))
    feedback = tmp_path / "decisions.jsonl"
    result = runner.invoke(
        app,
        ["train", "--data-dir", str(tmp_path), "--out", str(tmp_path), "--feedback", str(feedback)],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", "--data-dir", str(tmp_path), "--baseline", "v0"])
    assert result.exit_code == 0, result.output
    assert calls[0]["feedback"] == feedback
    assert calls[1]["baseline"] == "v0"


def test_bad_feedback_or_baseline_fail_before_any_dataset_is_read(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    bad = write_lines(tmp_path / "decisions.jsonl", ["oops"])
    no_data = tmp_path / "no-datasets"
    result = runner.invoke(
        app, ["train", "--data-dir", str(no_data), "--out", str(tmp_path), "--feedback", str(bad)]
    )
    assert result.exit_code == 2
    assert "error: " in result.stderr and "decisions.jsonl line 1: not JSON" in result.stderr
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--data-dir",
            str(no_data),
            "--model-dir",
            str(tiny_model_dir.parent),
            "--baseline",
            "no-such-version",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "no-such-version" in result.stderr


@pytest.mark.datasets
@pytest.mark.slow
def test_train_with_feedback_on_the_real_datasets_records_it(tmp_path: Path) -> None:
    from training.datasets import LOADERS

    data_dir = shared_file(SHARED / "datasets")
    ethos = LOADERS["ethos"](data_dir)
    leaked = ethos.loc[ethos["split"] == "test", "text"].iloc[0]  # read at run time only
    path = write_lines(
        tmp_path / "decisions.jsonl",
        [decision(f"blog#{i}@1", f"{PROBE} {e}", toxic=1) for i, e in enumerate(ENDINGS)]
        + [decision("blog#leak@1", leaked, hate=1, toxic=1)],
    )
    from training.run import train_bundle
    from training.train import TrainConfig

    said: list[str] = []
    # Small features and one C: what is checked is the feedback's path through a real run
    # (the CLI's wiring has its own test above).
    config = TrainConfig(sample=60, word_max_features=3_000, char_max_features=6_000, c_grid=(1.0,))
    version_dir = train_bundle(
        data_dir,
        out_dir=tmp_path / "models",
        config=config,
        feedback=path,
        progress=said.append,
    )
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    (record,) = manifest["feedback"]
    assert record["path"] == str(path)
    assert record["used"] == len(ENDINGS) and record["dropped"]["test_leak"] == 1
    assert manifest["training"]["rows"]["toxic"]["feedback"] == len(ENDINGS)
    told = "\n".join(said)
    assert "feedback" in told and "1 in a public test set" in told

"""The committed bundle: it verifies, loads, and labels the seed thread as a good model should."""

import json

import pandas as pd
import pytest

from app.registry import default_model_dir, load_current, sha256_file
from app.scoring import score_thread
from app.threads import parse
from tests.conftest import ROOT, SEEDS, shared_file

REPORTS = ROOT / "reports"

EXPECTED_HATE = {"DarkEyes", "Jozo Magoc"}


@pytest.fixture(scope="module")
def seed_scores() -> pd.DataFrame:
    model = load_current(default_model_dir())
    thread = parse(shared_file(SEEDS / "004_f987b5801adb0d07.txt").read_bytes())
    return score_thread(model, thread)


def test_the_current_bundle_matches_its_manifest() -> None:
    model_dir = default_model_dir()
    model = load_current(model_dir)
    manifest = json.loads((model.path / "manifest.json").read_text())
    assert sha256_file(model.path / "model.joblib") == manifest["model_sha256"]
    assert (model.path / "card.md").read_text().startswith(f"# threadguard model {model.version}")
    assert (model.path / "model.joblib").stat().st_size <= 50 * 1024 * 1024


def test_the_seed_hate_comments_are_flagged_with_target_jewish(seed_scores: pd.DataFrame) -> None:
    flagged = seed_scores[seed_scores["hate_flag"]]
    assert set(flagged["author"]) == EXPECTED_HATE
    assert set(flagged["hate_target"]) == {"jewish"}
    assert len(seed_scores) == 14


def test_darkeyes_is_flagged_conspiracy(seed_scores: pd.DataFrame) -> None:
    darkeyes = seed_scores[seed_scores["author"] == "DarkEyes"].iloc[0]
    assert darkeyes["conspiracy_flag"]
    assert darkeyes["evidence"]["conspiracy"]


def test_hate_evidence_points_at_the_coded_words(seed_scores: pd.DataFrame) -> None:
    jozo = seed_scores[seed_scores["author"] == "Jozo Magoc"].iloc[0]
    words = {item["text"] for item in jozo["evidence"]["hate"]}
    assert "ziomongrel" in words


@pytest.fixture(scope="module")
def behaviour() -> dict[str, object]:
    from training.behaviour import model_outcomes, read_suite, summary

    model = load_current(default_model_dir())
    return summary(model_outcomes(model, read_suite()))


def test_the_shipped_bundle_holds_the_behavioural_gate(behaviour: dict[str, object]) -> None:
    """Every functionality at the gate, or, where the bundle's report records it below the
    gate, at least at what the report records: a bundle (or a scoring change) that does
    worse than the figures it shipped with cannot land, and what is short of the gate is
    printed in the report rather than hidden by a lowered bar.
    """
    from training.behaviour import GATE

    model = load_current(default_model_dir())
    report = REPORTS / model.version / "metrics.json"
    assert report.is_file(), f"{report} is missing: run make evaluate for the shipped bundle"
    recorded = json.loads(report.read_text())["behaviour"]["threadguard"]
    now = behaviour["by_functionality"]
    assert isinstance(now, dict)
    assert set(now) == set(recorded["by_functionality"])
    worse = {
        name: (entry["accuracy"], recorded["by_functionality"][name]["accuracy"])
        for name, entry in now.items()
        if entry["accuracy"]
        < min(GATE["per_functionality"], recorded["by_functionality"][name]["accuracy"]) - 1e-9
    }
    assert not worse, f"below the gate and below the report (now, recorded): {worse}"
    overall = behaviour["overall"]
    assert isinstance(overall, float)
    assert overall >= min(GATE["overall"], recorded["overall"]) - 1e-9


def test_evasions_move_the_hate_score_little_and_nonsense_raises_nothing() -> None:
    from training.evasion import run_probe

    probe = run_probe(load_current(default_model_dir()))
    for name, entry in probe["evasions"].items():
        if "typo" in name:
            continue  # not undone by normalisation; reported, not gated
        assert entry["within_tolerance"] >= 0.9, (name, entry)
    raised = {name: e["raised"] for name, e in probe["nonsense"].items() if e["raised"]}
    assert not raised


def test_every_comment_gets_a_severity_whose_probabilities_sum_to_one(
    seed_scores: pd.DataFrame,
) -> None:
    from app.heads import SEVERITY_LABELS

    assert set(seed_scores["severity"]) <= set(SEVERITY_LABELS)
    totals = seed_scores[[f"p_severity_{label}" for label in SEVERITY_LABELS]].sum(axis=1)
    assert totals.to_numpy() == pytest.approx(1.0)
    # The seed's hateful comments are not read as normal.
    flagged = seed_scores[seed_scores["hate_flag"]]
    assert "normal" not in set(flagged["severity"])

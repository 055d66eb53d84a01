"""Routing policy: loading and validating policy files, and routing hand-built score rows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.heads import BINARY_HEADS
from app.policy import (
    HEAD_QUEUES,
    Policy,
    PolicyError,
    Route,
    ScoreRowError,
    flagged_heads,
    load_policy,
    needs_review,
    priority,
    route,
)
from app.registry import LoadedModel
from app.scoring import score_rows

THRESHOLDS = {"hate": 0.57, "toxic": 0.5, "conspiracy": 0.6}


def scored(**values: Any) -> dict[str, Any]:
    """A score row as `score_rows` gives it for a clean top-level comment, with `values` on top."""
    row: dict[str, Any] = {
        "hate": 0.05,
        "hate_flag": False,
        "hate_target": None,
        "hate_target_p": math.nan,
        "toxic": 0.1,
        "toxic_flag": False,
        "conspiracy": 0.02,
        "conspiracy_flag": False,
        "stance": None,
        "stance_p": math.nan,
        "reply_stance": None,
        "reply_stance_p": math.nan,
        "evidence": {},
        "model_version": "20260101-abc1234",
    }
    row.update(values)
    return row


@pytest.fixture
def policy() -> Policy:
    return load_policy(None, THRESHOLDS)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# Loading


def test_head_queues_are_the_models_binary_heads() -> None:
    assert set(HEAD_QUEUES) == set(BINARY_HEADS)


def test_default_policy_uses_the_manifest_thresholds(policy: Policy) -> None:
    assert {q.head: q.threshold for q in policy.heads} == THRESHOLDS
    assert {q.head: q.severity for q in policy.heads} == {
        "hate": 1.0,
        "conspiracy": 0.7,
        "toxic": 0.5,
    }
    assert policy.uncertain_band == pytest.approx(0.1)
    assert policy.reply_boost == pytest.approx(1.25)
    assert policy.source == "the default policy"


def test_a_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[queues.hate]\nthreshold = 0.4\n[queues.toxic]\nseverity = 0.2\n"
        "[reply_boost]\nfactor = 2\n",
    )
    loaded = load_policy(path, THRESHOLDS)
    assert loaded.head("hate").threshold == pytest.approx(0.4)
    assert loaded.head("hate").severity == pytest.approx(1.0)
    assert loaded.head("toxic").threshold == pytest.approx(0.5)
    assert loaded.head("toxic").severity == pytest.approx(0.2)
    assert loaded.reply_boost == pytest.approx(2.0)
    assert loaded.source == str(path)


def test_a_number_threshold_needs_no_manifest_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "[queues.conspiracy]\nthreshold = 0.9\n")
    loaded = load_policy(path, {"hate": 0.5, "toxic": 0.5})
    assert loaded.head("conspiracy").threshold == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[queues.spam]\nseverity = 1.0\n", r"unknown queue 'spam' \(known: hate, conspiracy"),
        ("[queues.hate]\ncolour = 'red'\n", r"queues\.hate\.colour: unknown key"),
        ("surprise = 1\n", r"surprise: unknown key"),
        ("[queues.hate]\nseverity = 1.5\n", r"queues\.hate\.severity: .*less than or equal to 1"),
        ("[queues.toxic]\nseverity = -0.1\n", r"queues\.toxic\.severity: .*greater than"),
        ("[queues.hate]\nthreshold = 1.2\n", r'queues\.hate\.threshold: must be "manifest" or'),
        ("[queues.hate]\nthreshold = 'model'\n", r"queues\.hate\.threshold: .*'model'"),
        ("[queues.hate]\nthreshold = true\n", r"queues\.hate\.threshold: .*True"),
        ("[queues.hate]\nseverity = '0.5'\n", r"queues\.hate\.severity: .*valid number"),
        ("[queues.uncertain]\nband = 2\n", r"queues\.uncertain\.band: .*less than or equal"),
        ("[queues.reported]\nbase = -1\n", r"queues\.reported\.base: .*greater than"),
        ("[queues.reported]\nenabled = 'yes'\n", r"queues\.reported\.enabled: .*boolean"),
        ("[reply_boost]\nfactor = 0.5\n", r"reply_boost\.factor: .*greater than or equal to 1"),
        ("queues = 3\n", r"invalid policy .*: queues: must be a table"),
    ],
)
def test_invalid_values_name_the_key_and_the_file(tmp_path: Path, text: str, match: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=match) as caught:
        load_policy(path, THRESHOLDS)
    assert str(path) in caught.value.message


def test_the_error_field_is_the_key_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="severity") as caught:
        load_policy(write(tmp_path, "[queues.hate]\nseverity = 3\n"), THRESHOLDS)
    assert caught.value.field == "queues.hate.severity"


def test_a_manifest_threshold_the_model_lacks_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"queues\.toxic\.threshold is \"manifest\".*toxic"):
        load_policy(None, {"hate": 0.5, "conspiracy": 0.5})


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"cannot read policy file .*nope\.toml"):
        load_policy(tmp_path / "nope.toml", THRESHOLDS)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"policy file .*policy\.toml is not valid TOML"):
        load_policy(write(tmp_path, "[queues.hate\n"), THRESHOLDS)


# Routing


def test_a_hate_flag_goes_to_the_hate_queue(policy: Policy) -> None:
    row = scored(hate=0.87, hate_flag=True, hate_target="jewish", hate_target_p=0.9)
    assert route(policy, row) == [
        Route("hate", 0.87 * 1.0, "hate 0.87 ≥ 0.57 (target jewish)", "hate")
    ]


def test_priority_is_probability_times_severity(policy: Policy) -> None:
    routes = route(policy, scored(conspiracy=0.8, toxic=0.9))
    assert [r.queue for r in routes] == ["conspiracy", "toxic"]
    assert [r.priority for r in routes] == pytest.approx([0.8 * 0.7, 0.9 * 0.5])


def test_a_probability_exactly_at_the_threshold_flags(policy: Policy) -> None:
    routes = route(policy, scored(toxic=0.5))
    assert [r.queue for r in routes] == ["toxic"]
    assert routes[0].reason == "toxic 0.50 ≥ 0.50"


def test_just_under_the_threshold_is_uncertain(policy: Policy) -> None:
    routes = route(policy, scored(hate=0.5))
    assert len(routes) == 1
    assert routes[0].queue == "uncertain"
    assert routes[0].head == "hate"
    assert routes[0].priority == pytest.approx(0.5 * 1.0 * 0.5)
    assert "hate 0.50 < 0.57" in routes[0].reason


def test_below_the_band_routes_nowhere(policy: Policy) -> None:
    assert route(policy, scored(hate=0.46)) == []


def test_uncertain_holds_one_item_for_the_most_urgent_near_miss(policy: Policy) -> None:
    routes = route(policy, scored(hate=0.5, toxic=0.45, conspiracy=0.55))
    assert [(r.queue, r.head) for r in routes] == [("uncertain", "hate")]


def test_a_clean_row_routes_nowhere(policy: Policy) -> None:
    row = scored()
    assert route(policy, row) == []
    assert not needs_review(policy, row)
    assert priority(policy, row) == 0.0


def test_a_reported_clean_row_goes_to_reported(policy: Policy) -> None:
    routes = route(policy, scored(), reported=True)
    assert [r.queue for r in routes] == ["reported"]
    assert routes[0].head is None
    # base 0.5 raised by the highest p × severity: toxic 0.1 × 0.5.
    assert routes[0].priority == pytest.approx(0.5 + 0.5 * 0.05)
    assert routes[0].reason == "reported by a reader; highest score toxic 0.10"
    assert needs_review(policy, scored(), reported=True)


def test_a_reported_flagged_row_is_in_both_queues(policy: Policy) -> None:
    routes = route(policy, scored(hate=0.9), reported=True)
    assert [r.queue for r in routes] == ["reported", "hate"]
    assert routes[0].priority == pytest.approx(0.5 + 0.5 * 0.9)


def test_reply_boost_needs_agreement_and_a_flagged_parent(policy: Policy) -> None:
    agreeing = scored(toxic=0.6, reply_stance="agree", reply_stance_p=0.8)
    disagreeing = scored(toxic=0.6, reply_stance="disagree", reply_stance_p=0.8)
    plain = 0.6 * 0.5
    assert priority(policy, agreeing) == pytest.approx(plain)
    assert priority(policy, disagreeing, parent_flagged=True) == pytest.approx(plain)
    boosted = route(policy, agreeing, parent_flagged=True)
    assert boosted[0].priority == pytest.approx(plain * 1.25)
    assert boosted[0].reason.endswith("agrees with a flagged parent (×1.25)")


def test_reply_boost_can_lift_a_priority_above_one(policy: Policy) -> None:
    row = scored(hate=0.95, reply_stance="agree")
    assert priority(policy, row, parent_flagged=True) == pytest.approx(0.95 * 1.25)


def test_reply_boost_does_not_queue_a_clean_reply(policy: Policy) -> None:
    assert route(policy, scored(reply_stance="agree"), parent_flagged=True) == []


def test_routes_are_ordered_by_priority_one_per_queue(policy: Policy) -> None:
    row = scored(hate=0.6, toxic=0.99, conspiracy=0.55)
    routes = route(policy, row, reported=True)
    assert [r.queue for r in routes] == ["reported", "hate", "toxic", "uncertain"]
    priorities = [r.priority for r in routes]
    assert priorities == sorted(priorities, reverse=True)
    assert len({r.queue for r in routes}) == len(routes)


def test_a_disabled_queue_opens_no_item(tmp_path: Path) -> None:
    loaded = load_policy(write(tmp_path, "[queues.toxic]\nenabled = false\n"), THRESHOLDS)
    assert route(loaded, scored(toxic=0.9)) == []
    assert flagged_heads(loaded, scored(toxic=0.9)) == ["toxic"]


def test_an_overridden_threshold_ignores_the_rows_flag(tmp_path: Path) -> None:
    loaded = load_policy(write(tmp_path, "[queues.hate]\nthreshold = 0.3\n"), THRESHOLDS)
    routes = route(loaded, scored(hate=0.35, hate_flag=False))
    assert [r.queue for r in routes] == ["hate"]
    assert routes[0].reason == "hate 0.35 ≥ 0.30"


@pytest.mark.parametrize("missing", [None, math.nan, np.float64("nan")])
def test_missing_probabilities_never_route(policy: Policy, missing: Any) -> None:
    row = scored(hate=missing, toxic=missing, conspiracy=missing)
    assert route(policy, row) == []
    assert route(policy, row, reported=True) == [
        Route("reported", 0.5, "reported by a reader", None)
    ]


def test_a_row_without_stance_or_some_heads_routes_on_what_it_has(policy: Policy) -> None:
    assert [r.queue for r in route(policy, {"hate": np.float32(0.9)})] == ["hate"]


@pytest.mark.parametrize("bad", ["0.9", True, 1.5, -0.1])
def test_a_value_that_is_not_a_probability_is_refused(policy: Policy, bad: Any) -> None:
    with pytest.raises(ScoreRowError, match="hate must be a probability from 0 to 1") as caught:
        route(policy, scored(hate=bad))
    assert caught.value.field == "hate"


def test_flagged_heads_follow_the_policy_thresholds(policy: Policy) -> None:
    assert flagged_heads(policy, scored(hate=0.57, toxic=0.49)) == ["hate"]
    assert flagged_heads(policy, scored(hate=None)) == []


def test_routes_rows_scored_by_a_real_model(tiny_model: LoadedModel) -> None:
    loaded = load_policy(None, tiny_model.thresholds)
    texts = ["What a thoughtful article, thank you.", "I agree with you completely."]
    rows = score_rows(tiny_model, texts, [None, texts[0]], [None, None])
    for row in rows:
        for r in route(loaded, row, parent_flagged=True, reported=True):
            assert r.queue in ("hate", "conspiracy", "toxic", "reported", "uncertain")
            assert 0.0 <= r.priority <= loaded.reply_boost
        expected = {h for h in HEAD_QUEUES if row[h] >= tiny_model.thresholds[h]}
        assert set(flagged_heads(loaded, row)) == expected
        assert expected == {h for h in HEAD_QUEUES if row[f"{h}_flag"]}

"""The behavioural suite (tests/behaviour/): per-functionality accuracy of a bundle and peers.

The suite is hand-written, reviewed by reading, and never trained or tuned on: training
drops any generated or dataset row whose text is a suite case (`suite_keys`), and no
threshold or weight is chosen on it. A case names one head and what it must do: a binary
head flags or does not, `none` means that none of hate, toxic and conspiracy may flag, and
a reply-stance case names the label its reply must get toward its parent.

`GATE` is what the shipped bundle is held to in tests/test_shipped_model.py, so a worse
model cannot land.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.errors import AppError
from app.heads import BINARY_HEADS, REPLY_LABELS
from app.registry import LoadedModel
from app.scoring import records, score_frame
from training.datasets.dedupe import dedupe_key
from training.registry import REPO_ROOT

SUITE_DIR = REPO_ROOT / "tests" / "behaviour"
SUITE_FILE = SUITE_DIR / "suite.jsonl"
FUNCTIONALITIES_FILE = SUITE_DIR / "functionalities.csv"
HEADS = (*BINARY_HEADS, "reply_stance", "none")
GATE = {"per_functionality": 0.80, "overall": 0.90}


class SuiteError(AppError):
    """The behavioural suite's files are missing or malformed."""

    code = "suite_error"


@dataclass(frozen=True)
class Case:
    """One case of the suite."""

    id: str
    functionality: str
    head: str
    expected: str
    text: str
    parent: str | None = None
    group: str | None = None
    pair: str | None = None


def read_suite(path: Path = SUITE_FILE) -> list[Case]:
    """Every case of the suite, in file order.

    Raises:
        SuiteError: the file is missing, a line is not a valid case, or an id repeats.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SuiteError(f"cannot read the behavioural suite {path} ({exc.strerror})") from exc
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{where}: not JSON ({exc.msg})") from exc
        case = _case(raw, where)
        if case.id in seen:
            raise SuiteError(f"{where}: id {case.id!r} repeats")
        seen.add(case.id)
        cases.append(case)
    return cases


def _case(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a case must be a JSON object")
    fields = {key: raw.get(key) for key in Case.__dataclass_fields__}
    for key in ("id", "functionality", "head", "expected", "text"):
        if not isinstance(fields[key], str) or not fields[key]:
            raise SuiteError(f"{where}: {key!r} must be a non-empty string")
    head, expected = fields["head"], fields["expected"]
    if head not in HEADS:
        raise SuiteError(f"{where}: head {head!r} is not one of {', '.join(HEADS)}")
    allowed: tuple[str, ...] = REPLY_LABELS if head == "reply_stance" else ("flag", "no_flag")
    if head == "none":
        allowed = ("no_flag",)
    if expected not in allowed:
        raise SuiteError(f"{where}: expected {expected!r} is not one of {', '.join(allowed)}")
    if (head == "reply_stance") != isinstance(fields["parent"], str):
        raise SuiteError(f"{where}: reply_stance cases, and only they, have a parent")
    return Case(
        id=str(fields["id"]),
        functionality=str(fields["functionality"]),
        head=str(head),
        expected=str(expected),
        text=str(fields["text"]),
        parent=_optional(fields["parent"]),
        group=_optional(fields["group"]),
        pair=_optional(fields["pair"]),
    )


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) else None


def read_functionalities(path: Path = FUNCTIONALITIES_FILE) -> dict[str, dict[str, str]]:
    """functionality -> {head, expected, description}, in file order."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["functionality"]: row for row in csv.DictReader(handle)}
    except OSError as exc:
        raise SuiteError(f"cannot read {path} ({exc.strerror})") from exc


def suite_keys(cases: Sequence[Case] | None = None) -> frozenset[str]:
    """The dedupe keys of every suite text and parent, which no training row may have."""
    chosen = read_suite() if cases is None else cases
    keys = {dedupe_key(c.text) for c in chosen} | {dedupe_key(c.parent or "") for c in chosen}
    return frozenset(key for key in keys if key)


def drop_suite_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """`frame` without train and validation rows whose text is a suite text, and how many.

    Test rows stay: they are only ever scored, never learned from.
    """
    keys = suite_keys()
    exact = {text.strip() for text in suite_texts()}
    learnt = frame["split"].isin(("train", "val"))
    texts = frame["text"].astype(str)
    hit = learnt & (texts.map(dedupe_key).isin(keys) | texts.str.strip().isin(exact))
    return frame.loc[~hit].reset_index(drop=True), int(hit.sum())


def suite_texts(path: Path = SUITE_FILE) -> list[str]:
    """Every text and parent of the suite (what no training row may repeat).

    Raises:
        SuiteError: see `read_suite`.
    """
    cases = read_suite(path)
    return [c.text for c in cases] + [c.parent for c in cases if c.parent]


def model_outcomes(model: LoadedModel, cases: Sequence[Case]) -> pd.DataFrame:
    """One row per case: what the model answered and whether it passed."""
    frame = pd.DataFrame(
        {"text": [c.text for c in cases], "parent_text": [c.parent for c in cases]}
    )
    scored = score_frame(model, frame, evidence_top=0)
    answers: list[str] = []
    scores: list[float] = []
    for case, row in zip(cases, records(scored), strict=True):
        if case.head == "reply_stance":
            answers.append(str(row["reply_stance"]))
            scores.append(float(row["reply_stance_p"]))
        elif case.head == "none":
            raised = [h for h in BINARY_HEADS if row[f"{h}_flag"]]
            answers.append("flag" if raised else "no_flag")
            scores.append(max(float(row[h]) for h in BINARY_HEADS))
        else:
            answers.append("flag" if row[f"{case.head}_flag"] else "no_flag")
            scores.append(float(row[case.head]))
    return _outcomes(cases, answers, scores)


def peer_outcomes(peer: Any, cases: Sequence[Case]) -> pd.DataFrame:
    """A one-score peer's answers at its 0.5 cut-off, standing in for every binary head.

    A peer has no conspiracy or reply-stance head, so those cases get no answer (NaN).
    """
    scores = np.asarray(peer.score([c.text for c in cases]), dtype=np.float64)
    answers = ["flag" if s >= 0.5 else "no_flag" for s in scores]
    table = _outcomes(cases, answers, scores.tolist())
    unanswered = table["head"].isin(("conspiracy", "reply_stance"))
    table["passed"] = table["passed"].astype(float).where(~unanswered)
    return table


def _outcomes(cases: Sequence[Case], answers: list[str], scores: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [c.id for c in cases],
            "functionality": [c.functionality for c in cases],
            "head": [c.head for c in cases],
            "expected": [c.expected for c in cases],
            "answer": answers,
            "score": scores,
            "passed": [a == c.expected for a, c in zip(answers, cases, strict=True)],
        }
    )


def accuracy_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and case count per functionality, in suite order."""
    order = list(dict.fromkeys(outcomes["functionality"]))
    grouped = outcomes.groupby("functionality", sort=False)["passed"]
    table = pd.DataFrame({"accuracy": grouped.mean(), "n": grouped.count()})
    return table.loc[order]


def summary(outcomes: pd.DataFrame) -> dict[str, Any]:
    """Overall accuracy, the worst functionalities and whether the gate holds."""
    table = accuracy_table(outcomes)
    answered = outcomes["passed"].dropna().astype(float)
    overall = float(answered.mean()) if len(answered) else float("nan")
    below = table[table["accuracy"] < GATE["per_functionality"]]
    by_functionality = {
        str(name): {"accuracy": float(accuracy), "n": int(n)}
        for name, accuracy, n in zip(table.index, table["accuracy"], table["n"], strict=True)
    }
    return {
        "overall": overall,
        "n": int(len(answered)),
        "functionalities": int(len(table)),
        "below_gate": {str(k): float(v) for k, v in below["accuracy"].items()},
        "passes_gate": bool(overall >= GATE["overall"] and below.empty),
        "by_functionality": by_functionality,
    }


def failures(outcomes: pd.DataFrame, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """The failed cases with their text, for the report's appendix."""
    texts = {c.id: c for c in cases}
    out = []
    for row in records(outcomes[outcomes["passed"] == False]):  # noqa: E712
        case = texts[str(row["id"])]
        out.append(
            {
                "id": case.id,
                "functionality": case.functionality,
                "expected": case.expected,
                "answer": row["answer"],
                "score": round(float(row["score"]), 3),
                "text": case.text,
            }
        )
    return out

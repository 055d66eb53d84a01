"""The two long jobs behind the CLI: train a new bundle, and evaluate one into a report.

`train_bundle` checks the data dir against the dataset registry (so the manifest's sha256
sums are of the bytes actually read), loads and deduplicates the datasets, trains, looks at
the test rows once for the manifest's test metrics, and writes `models/<version>/` with its
model card; moderator decisions (`feedback`) join as one more training source. `evaluate_bundle`
re-reads a committed bundle and writes `reports/<version>/`, beside a baseline version's
figures on the same test rows when asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app import registry
from app.registry import CARD_FILE, assemble, load, load_current
from training.augment import generate
from training.behaviour import drop_suite_rows, suite_texts
from training.card import render_card
from training.datasets import load_all
from training.evaluate import evaluate, headline_metrics, score_rows, summary, test_rows
from training.feedback import FeedbackError, fold_feedback, read_feedback
from training.registry import REPO_ROOT, DataDirError, load_registry, verify
from training.train import TrainConfig, build_manifest, make_version, train, write_bundle

log = logging.getLogger(__name__)

DEFAULT_MODELS = REPO_ROOT / "models"
DEFAULT_REPORTS = REPO_ROOT / "reports"
SEED_PAGE = REPO_ROOT.parent / "shared" / "seeds" / "004_f987b5801adb0d07.txt"


def data_files(data_dir: Path, sources: Sequence[str]) -> list[dict[str, Any]]:
    """Path, bytes and sha256 of every registered file of the datasets used.

    Raises:
        DataDirError: a file differs from the registry (the run would not be reproducible).
    """
    registry = load_registry()
    problems = [p for p in verify(data_dir, registry) if p.kind.value != "extra"]
    if problems:
        listed = "; ".join(f"{p.path} ({p.kind.value})" for p in problems[:5])
        raise DataDirError(
            f"{data_dir} does not match data/datasets.toml: {listed}"
            + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        )
    wanted = set(sources)
    return [
        {"dataset": d.name, "path": e.path, "bytes": e.size, "sha256": e.sha256}
        for d in registry.datasets
        if d.dir in wanted or d.name in wanted
        for e in d.files
    ]


def train_bundle(
    data_dir: Path,
    *,
    out_dir: Path = DEFAULT_MODELS,
    config: TrainConfig | None = None,
    names: Sequence[str] | None = None,
    set_current: bool = False,
    feedback: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Path:
    """Train on `data_dir` (and a moderator `feedback` file), write a new version under
    `out_dir`, return its directory.

    Raises:
        FeedbackError: the feedback file is unreadable, invalid, or leaves no training row.
    """
    config = config or TrainConfig()
    # A broken feedback file should fail before minutes of dataset loading, not after.
    read = read_feedback(feedback) if feedback is not None else None
    progress(f"loading datasets from {data_dir}")
    frame, report = load_all(data_dir, names)
    frame, suite_hits = drop_suite_rows(frame)
    if suite_hits:
        progress(f"left out {suite_hits:,} dataset rows whose text is a behavioural-suite case")
    sources = sorted(set(frame["source"]))
    generated: dict[str, Any] = {}
    if config.generated:
        progress("generating training rows (training.augment)")
        frame, made = generate(
            frame,
            data_dir,
            seed=config.seed,
            held_out_texts=suite_texts(),
            include_sbic="sbic" in sources,
        )
        generated = {**made.to_dict(), "suite_rows_left_out": suite_hits}
    files = data_files(data_dir, _dataset_dirs(sources))
    records: list[dict[str, Any]] = []
    if read is not None:
        frame, folded = fold_feedback(frame, read.frame)
        record = read.record(folded)
        progress(_feedback_line(record))
        if record["used"] == 0:
            raise FeedbackError(
                f"{read.path}: no moderator decision is left to train on ({_dropped(record)})"
            )
        records.append(record)
    fitted = train(frame, config, progress=progress)
    # The feedback file's bytes are part of what was trained on, so they name the version.
    version = make_version(config, [*files, *records])
    manifest = build_manifest(
        fitted,
        config,
        version=version,
        data_files=files,
        repo=REPO_ROOT,
        dedupe=_report_dict(report),
        feedback=records,
        generated=generated,
    )
    # Test rows are read here once, after every choice above was made on validation data.
    progress("scoring the test rows once for the manifest")
    preview = assemble(out_dir / version, manifest, fitted.bundle)
    scored = score_rows(preview, test_rows(frame))
    manifest["metrics"]["test"] = summary(headline_metrics(preview, scored))
    version_dir, loaded = write_bundle(fitted, manifest, out_dir)
    (version_dir / CARD_FILE).write_text(render_card(loaded.manifest), encoding="utf-8")
    if set_current:
        registry.set_current(out_dir, version)
    return version_dir


def evaluate_bundle(
    data_dir: Path,
    *,
    model_dir: Path = DEFAULT_MODELS,
    version: str | None = None,
    out_dir: Path = DEFAULT_REPORTS,
    with_peers: bool = True,
    seed_page: Path | None = SEED_PAGE,
    baseline: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Path:
    """Evaluate a committed bundle on the test splits; write `out_dir/<version>/`.

    With `baseline`, that version of `model_dir` is scored on the same test rows by the same
    code, and the report shows both side by side.

    Raises:
        ModelArtifactError: the version, CURRENT or the baseline cannot be loaded.
    """
    from training.report import write_report

    model = load(model_dir / version) if version else load_current(model_dir)
    progress(f"loaded bundle {model.version}")
    old = load(model_dir / baseline) if baseline else None
    if old is not None:
        progress(f"loaded baseline {old.version}")
    frame, _ = load_all(data_dir)
    peers: list[Any] = []
    if with_peers:
        from training.peers import available_peers

        peers = list(available_peers())
    result = evaluate(
        model, frame, peers=peers, seed_page=seed_page, baseline=old, progress=progress
    )
    ablation = out_dir / "training-ablation.json"
    if ablation.is_file():
        # Written by `python -m training ablate-training`: the same for every bundle of the
        # pipeline version it measured, so it is read, not rerun, by each evaluation.
        measured = json.loads(ablation.read_text())
        result = {
            **result,
            "ablation": measured["variants"],
            "ablation_conditions": {
                "sample": measured.get("sample"),
                "caveat": measured.get("caveat", ""),
            },
        }
    encoder = out_dir / "encoder-ablation.json"
    if encoder.is_file():
        # Written by `python -m training ablate-encoder` (needs the encoder extra): read, not
        # rerun, for the same reason as the training ablation.
        result = {**result, "encoder_ablation": json.loads(encoder.read_text())}
    return write_report(model, result, out_dir / model.version)


def _feedback_line(record: dict[str, Any]) -> str:
    return (
        f"feedback {record['path']}: {record['decisions']:,} decisions on {record['docs']:,} "
        f"comments, {record['used']:,} rows used ({_dropped(record)})"
    )


def _dropped(record: dict[str, Any]) -> str:
    dropped = record["dropped"]
    parts = [f"{record['withdrawn']:,} withdrawn"]
    parts += [
        f"{dropped[step]:,} {label}"
        for step, label in (
            ("test_leak", "in a public test set"),
            ("val_leak", "in a public validation set"),
            ("duplicate", "repeated"),
            ("empty_key", "without words"),
        )
        if dropped.get(step)
    ]
    return ", ".join(parts)


def _dataset_dirs(sources: Sequence[str]) -> list[str]:
    """Dataset directory names behind loader source names (a few loaders rename)."""
    renamed = {
        "tweeteval-stance": "tweeteval",
        "bias-madlibs": "wiki-toxicity-identity",
        "wiki-toxicity-fuzzed": "wiki-toxicity-identity",
    }
    return sorted({renamed.get(s, s) for s in sources})


def _report_dict(report: Any) -> dict[str, Any]:
    try:
        return asdict(report)
    except TypeError:
        loaded: dict[str, Any] = json.loads(json.dumps(report, default=str))
        return loaded

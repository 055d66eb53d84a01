from pathlib import Path

from app.registry import LoadedModel
from tests.conftest import TINY_TRAINING, read_training_frame
from training.evaluate import evaluate, summary
from training.report import write_report


def test_an_evaluation_writes_metrics_report_and_plots(
    tiny_model: LoadedModel, tmp_path: Path
) -> None:
    frame = read_training_frame(TINY_TRAINING)
    frame["eval_only"] = False
    result = evaluate(tiny_model, frame)
    assert result["test_rows"] == int((frame["split"] == "test").sum())
    out = write_report(tiny_model, result, tmp_path / tiny_model.version)
    report = (out / "report.md").read_text()
    assert report.startswith(f"# Evaluation of threadguard model {tiny_model.version}")
    assert "## Goals" in report and "## Per head (test)" in report
    assert (out / "metrics.json").read_text().startswith("{")
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "calibration.png" in pngs and "pr_hate.png" in pngs
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "hate_auroc" in summary(result)

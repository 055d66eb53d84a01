from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    import pandas as pd

    from app.registry import LoadedModel

pytest_plugins = ["tests.dbfixtures"]

# The same examples on every run, so CI is red only when the code changed; set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=1_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
THREAD_FIXTURES = SHARED / "datasets" / "threads"
DATA = Path(__file__).resolve().parent / "data"


def shared_file(path: Path) -> Path:
    """A file under ../shared, or a skip naming the missing path."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared/ folder beside the repository)")
    return path


@pytest.fixture
def seed_page() -> bytes:
    return shared_file(SEEDS / "004_f987b5801adb0d07.txt").read_bytes()


@pytest.fixture
def seed_original() -> bytes:
    return shared_file(SEEDS / "000_995f28ecffe272e4.txt").read_bytes()


TINY_TRAINING = DATA / "train_small.jsonl"


def read_training_frame(path: Path) -> pd.DataFrame:
    """A hand-written training frame in the loaders' unified schema."""
    import pandas as pd

    frame = pd.read_json(path, lines=True, dtype=False)
    for column in ("hate", "toxic", "conspiracy"):
        frame[column] = frame[column].astype("float64")
    for column in ("parent_text", "topic", "hate_target", "stance", "reply_stance", "tag"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle trained in seconds on tests/data/train_small.jsonl, written like a real one."""
    from app.registry import set_current
    from training.train import TrainConfig, build_manifest, train, write_bundle

    config = TrainConfig(
        min_df=1,
        word_max_features=5_000,
        char_max_features=5_000,
        c_grid=(1.0, 8.0),
        # The fixture's rows have all three severity classes, so the tiny bundle has the head.
        severity_sources=("tiny",),
    )
    fitted = train(read_training_frame(TINY_TRAINING), config)
    manifest = build_manifest(fitted, config, version="tiny-1", data_files=[], repo=ROOT, dedupe={})
    out = tmp_path_factory.mktemp("models")
    version_dir, _ = write_bundle(fitted, manifest, out)
    (version_dir / "card.md").write_text("# tiny-1\n\nA bundle for tests.\n", encoding="utf-8")
    set_current(out, "tiny-1")
    return version_dir


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> LoadedModel:
    from app.registry import load

    return load(tiny_model_dir)

from pathlib import Path

import pytest

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

"""Shared fixtures for the dataset loader tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.datasets.frames import FIXTURES


@pytest.fixture
def data_dir() -> Path:
    """The tiny fake data dir: the real file names and columns, a few invented rows each."""
    return FIXTURES

"""Fixtures for training tests: the real data folder (skips when absent) and a tiny ConvNeXt config."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import resolve_data_root

TINY_ARCH = {"dims": [8, 16], "depths": [1, 1], "head_hidden": 16, "norm": "bn", "stem_stride": 2}


@pytest.fixture(scope="session")
def data_root() -> Path:
    """`../shared/data` (or $BLOOMWELL_DATA_ROOT); skips the test when FER2013 is not there."""
    root = resolve_data_root(None)
    if not (root / "fer2013" / "train").is_dir():
        pytest.skip(f"FER2013 not found under {root}")
    return root

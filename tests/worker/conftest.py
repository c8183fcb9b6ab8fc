"""Helpers shared by the worker tests: paths of the real shared videos and synthetic test videos."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from services.common.settings import REPO_ROOT

SHARED_DATA = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VIDEOS = SHARED_DATA / "videos"


def shared_video(name: str) -> Path:
    """A real face video from ``../shared/data/videos`` (skips the test where the data is absent)."""
    path = VIDEOS / name
    if not path.is_file():
        pytest.skip(f"shared test video {path} is not available")
    return path


def write_video(path: Path, frames: int = 20, fps: float = 10.0, size: tuple[int, int] = (160, 120),
                fourcc: str = "mp4v") -> Path:
    """Write a small synthetic video (a moving gradient, no face) with OpenCV."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path.suffix} with {fourcc}"
    base = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    for i in range(frames):
        image = np.roll(base, i * 3, axis=1)
        writer.write(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path

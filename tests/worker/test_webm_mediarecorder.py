"""A WebM recorded by a real browser MediaRecorder (headless Chromium, fake camera playing a real face video).

Such files carry no duration, a frame count that means nothing, and seeking in them returns frame 0; the
shared decoder must still measure and sample them by timestamps.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from bloomwell_ml.faces import HaarDetector
from services.common import video
from services.common.settings import REPO_ROOT
from services.common.video import probe_video, sniff_file
from services.inference_worker.frames import sample_frames
from tests.worker.conftest import shared_video
from tests.worker.mediarecorder import chromium_path

SECONDS = 3.0


@pytest.fixture(scope="module")
def recorded_webm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if chromium_path() is None or importlib.util.find_spec("playwright") is None:
        pytest.skip("needs Chromium and the playwright package")
    out = tmp_path_factory.mktemp("webm") / "mediarecorder.webm"
    source = shared_video("fer_woman2.mp4")
    run = subprocess.run([sys.executable, "-m", "tests.worker.mediarecorder", str(source), str(out), str(SECONDS)],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return out


def test_recorded_file_is_webm_without_a_usable_frame_count(recorded_webm: Path) -> None:
    assert sniff_file(recorded_webm) == "webm"
    cap = cv2.VideoCapture(str(recorded_webm))
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.release()
    info = probe_video(recorded_webm)
    # What the header claims is not what the stream holds (MediaRecorder writes no duration).
    assert count != info.frame_count_read
    assert info.container == "webm"
    assert info.duration_s == pytest.approx(SECONDS, abs=0.8)
    assert info.frame_count_read >= 15
    assert (info.width, info.height) == (640, 360)


def test_recorded_file_is_sampled_by_timestamps_and_shows_the_face(recorded_webm: Path) -> None:
    frames = list(sample_frames(recorded_webm, 5.0))
    assert abs(len(frames) - SECONDS * 5) <= 4
    times = [f.t for f in frames]
    assert times == sorted(times) and times[0] == 0.0
    assert all(0.1 < b - a < 0.4 for a, b in zip(times, times[1:], strict=False))
    with_face = sum(1 for boxes in HaarDetector().detect([f.image for f in frames]) if boxes)
    assert with_face >= len(frames) * 0.6


def test_recorded_file_is_measured_from_its_packets_as_by_decoding(recorded_webm: Path) -> None:
    """The upload check reads the packets' timestamps without decoding them: on a MediaRecorder file (no duration,
    no frame count) it finds what decoding every frame finds."""
    packets = video._packet_span(recorded_webm, None)
    assert packets is not None
    assert packets == video._decoded_span(recorded_webm, 0.0, None)

"""The tracking stage's detection schedule: key frames detected, boxes carried by the tracker in between, every frame
detected around shot changes and wherever a track is not continued confidently; and the pipeline's classification
reuse, which keeps each person's smoothed segments those of full detection on real videos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from bloomwell_ml.faces import Box, YuNetDetector
from services.common.video import DecodedFrame
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.config import WorkerSettings
from services.inference_worker.pipeline import AnalysisOutput, analyze_video
from services.inference_worker.tracking import (
    FaceTracker,
    TrackSchedule,
    TrackStats,
    interpolate_box,
    track_faces,
)
from tests.worker.conftest import shared_video


class ScriptedDetector:
    """Returns the boxes a script gives for each frame index, and records which frames it was asked about."""

    name = "scripted"

    def __init__(self, script: dict[int, list[Box]]) -> None:
        self.script = script
        self.asked: list[int] = []

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        out = []
        for image in frames:
            index = int(image[0, 0, 0])  # the frame's index is written into its first pixel
            self.asked.append(index)
            out.append(list(self.script.get(index, [])))
        return out


def frames(n: int, fps: float = 30.0, cut_at: int | None = None) -> list[DecodedFrame]:
    out = []
    for i in range(n):
        image = np.full((90, 160, 3), (40, 40, 40) if cut_at is None or i < cut_at else (40, 200, 90), np.uint8)
        image[0, 0, 0] = i
        out.append(DecodedFrame(index=i, t=i / fps, image=image))
    return out


def moving(i: int, score: float = 0.95) -> Box:
    return Box(20 + i, 20, 40, 40, score)


def test_key_frames_are_detected_and_boxes_carried_in_between() -> None:
    detector = ScriptedDetector({i: [moving(i)] for i in range(13)})
    stats = TrackStats()
    out = list(track_faces(frames(13), detector, FaceTracker(30.0), TrackSchedule(detect_every=6), stats))
    assert [f.frame.index for f in out] == list(range(13))
    assert detector.asked == [0, 6, 12]
    assert [f.detected for f in out] == [i % 6 == 0 for i in range(13)]
    assert stats.detected == 3 and stats.carried == 10 and stats.rollbacks == 0
    ids = {i for f in out for i in f.ids}
    assert len(ids) == 1 and None not in ids  # one track from the first frame on (back-filled)
    assert out[3].boxes[0].x == 23  # interpolated between x=20 at frame 0 and x=26 at frame 6


def test_a_face_appearing_between_key_frames_makes_every_frame_in_between_detected() -> None:
    script = {i: [moving(i)] + ([Box(110, 30, 30, 30, 0.9)] if i >= 4 else []) for i in range(13)}
    detector = ScriptedDetector(script)
    stats = TrackStats()
    out = list(track_faces(frames(13), detector, FaceTracker(30.0), TrackSchedule(detect_every=6), stats))
    assert sorted(detector.asked) == list(range(13)) or set(range(1, 7)) <= set(detector.asked)
    assert stats.rollbacks >= 1
    assert [len(f.boxes) for f in out[:7]] == [1, 1, 1, 1, 2, 2, 2]  # the new face from the frame it appeared


def test_a_low_confidence_key_frame_or_a_cut_is_not_carried_over() -> None:
    low = ScriptedDetector({i: [moving(i, 0.95 if i != 6 else 0.6)] for i in range(13)})
    out = list(track_faces(frames(13), low, FaceTracker(30.0), TrackSchedule(detect_every=6)))
    assert set(range(1, 6)) <= set(low.asked) and all(f.detected for f in out[:7])
    cut = ScriptedDetector({i: [moving(i)] for i in range(13)})
    tracker = FaceTracker(30.0)
    out = list(track_faces(frames(13, cut_at=4), cut, tracker, TrackSchedule(detect_every=6)))
    assert tracker.cuts == 1
    assert out[4].cut and out[4].detected
    assert out[3].ids[0] != out[4].ids[0]  # a new track after the cut, though the boxes overlap


def test_every_frame_schedule_tracks_like_the_tracker_on_every_frame() -> None:
    script = {i: [moving(i)] + ([Box(110, 30, 30, 30, 0.9)] if 3 <= i < 9 else []) for i in range(12)}
    staged = list(track_faces(frames(12), ScriptedDetector(script), FaceTracker(30.0), TrackSchedule(detect_every=1)))
    tracker = FaceTracker(30.0)
    plain = [tracker.update(f.t, script[f.index], f.image) for f in frames(12)]
    assert [f.ids for f in staged] == plain


def test_rollback_undoes_back_fills() -> None:
    tracker = FaceTracker(30.0)
    first = tracker.update(0.0, [moving(0)])
    checkpoint = tracker.checkpoint()
    tracker.update(1 / 30, [moving(1)])
    assert first[0] is not None
    tracker.rollback(checkpoint)
    assert first == [None]
    second = tracker.update(1 / 30, [moving(1)])
    assert first == second and second[0] is not None


def test_interpolated_boxes_carry_landmarks() -> None:
    from bloomwell_ml.faces import Landmarks

    a = Box(0, 0, 10, 10, 0.9, Landmarks((2, 3), (8, 3), (5, 5), (3, 8), (7, 8)))
    b = Box(10, 20, 20, 20, 0.8, Landmarks((12, 23), (28, 23), (20, 30), (14, 35), (26, 35)))
    mid = interpolate_box(a, b, 0.5)
    assert (mid.x, mid.y, mid.w, mid.h, mid.score) == (5, 10, 15, 15, 0.8)
    assert mid.landmarks is not None and mid.landmarks.right_eye == (7.0, 13.0)


@pytest.mark.parametrize("name", ["fer_test.mp4", "huimiang_1543684773_neutral_to_angry.avi"])
def test_every_frame_with_the_schedules_keeps_the_segments_of_full_detection(name: str) -> None:
    """Every frame analysed with the default schedules against detection on every frame and classification of
    every face: each person's segments are the same expressions (and unreadable gaps) in the same order, with
    boundaries within two frames (``bench/bench_runtime.py --sections segments`` lists every difference on every
    shared video)."""
    import cv2

    video = shared_video(name)
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    settings = WorkerSettings()
    classifier = EmotionClassifier.load(settings.resolved_model_path, device="cpu", tta="none")
    base = settings.pipeline_options(fps)  # every frame (the shared videos' rates are within the accepted range)
    assert base.sample_fps == fps
    fast = analyze_video(video, classifier=classifier, detector=YuNetDetector(), options=base)
    full = analyze_video(video, classifier=classifier, detector=YuNetDetector(),
                         options=replace(base, detect_interval_s=0.0, classify_interval_s=0.0))
    assert fast.timings.detections < full.timings.detections / 2
    assert fast.timings.faces < full.timings.faces
    assert fast.timings.frames == full.timings.frames

    def segments(out: AnalysisOutput) -> dict[str, list[tuple[object, object, float, float]]]:
        return {p.label: [(s.emotion, s.gap_reason, s.start_t, s.end_t) for s in p.segments]
                for p in out.document.people}

    got, expected = segments(fast), segments(full)
    assert got.keys() == expected.keys()
    for label, rows in expected.items():
        assert [r[:2] for r in got[label]] == [r[:2] for r in rows], label
        for a, b in zip(got[label], rows, strict=True):
            assert abs(a[2] - b[2]) <= 2 / fps + 1e-6 and abs(a[3] - b[3]) <= 2 / fps + 1e-6, (label, a, b)

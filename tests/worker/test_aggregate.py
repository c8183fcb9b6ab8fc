"""Summary, majority vote and wellbeing indicators from per-face probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from bloomwell_ml.labels import EMOTIONS
from services.common.schemas import AnalysisResultOut
from services.inference_worker.aggregate import (
    FaceObservation,
    FrameObservation,
    build_summary,
    compute_indicators,
    frames_document,
    sample_interval,
)


def onehot(label: str, weight: float = 0.9) -> np.ndarray:
    p = np.full(len(EMOTIONS), (1 - weight) / (len(EMOTIONS) - 1))
    p[EMOTIONS.index(label)] = weight
    return p


def timeline(labels: list[str | None], step: float = 0.2) -> list[FrameObservation]:
    """Frames every ``step`` s; None = no face."""
    return [
        FrameObservation(t=i * step, faces=[FaceObservation([10, 10, 50, 50], onehot(label))] if label else [])
        for i, label in enumerate(labels)
    ]


def summary_for(frames: list[FrameObservation], **kwargs: float) -> dict:
    return build_summary(frames, duration_s=kwargs.get("duration_s", 4.0), sample_fps=5.0,
                         model_name="m", model_version="1", **{k: v for k, v in kwargs.items() if k != "duration_s"})


def test_dominant_by_mean_probability_can_differ_from_majority_vote() -> None:
    # 3 frames mildly "sad" (0.4) and 2 strongly "happy" (0.95): the vote says sad, the mean says happy.
    sad = np.array([0.1, 0.1, 0.1, 0.15, 0.05, 0.4, 0.1])
    frames = [FrameObservation(t=i * 0.2, faces=[FaceObservation([0, 0, 9, 9], sad)]) for i in range(3)]
    frames += [FrameObservation(t=0.6 + i * 0.2, faces=[FaceObservation([0, 0, 9, 9], onehot("happy", 0.95))])
               for i in range(2)]
    summary = summary_for(frames)
    assert summary["dominant_emotion"] == "happy"
    assert summary["distribution"]["sad"] == pytest.approx(0.6)
    assert summary["distribution"]["happy"] == pytest.approx(0.4)
    assert sum(summary["distribution"].values()) == pytest.approx(1.0)
    assert sum(summary["mean_probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert list(summary["mean_probabilities"]) == list(EMOTIONS)


def test_subject_is_the_first_face_and_frames_without_face_are_counted() -> None:
    frames = timeline(["happy", None, "happy", None])
    frames[0].faces.append(FaceObservation([0, 0, 5, 5], onehot("angry")))  # a smaller second face
    summary = summary_for(frames)
    assert summary["frames_analyzed"] == 4
    assert summary["frames_with_face"] == 2
    assert summary["distribution"]["happy"] == 1.0
    assert summary["indicators"]["negative_share"] == 0.0


def test_no_face_at_all() -> None:
    summary = summary_for(timeline([None, None, None]))
    assert summary["dominant_emotion"] is None
    assert summary["frames_with_face"] == 0
    assert set(summary["distribution"].values()) == {0.0}
    assert summary["indicators"] == {
        "negative_share": 0.0, "sustained_negative_affect": False, "longest_negative_run_s": 0.0,
        "expression_variability": 0.0, "emotion_changes_per_min": 0.0,
    }


def test_negative_run_is_broken_by_a_positive_frame_or_a_missing_face() -> None:
    labels = ["sad"] * 4 + ["happy"] + ["angry"] * 6 + [None] + ["fear"] * 3
    ind = compute_indicators(timeline(labels), sample_interval_s=0.2)
    assert ind["longest_negative_run_s"] == pytest.approx(1.2)
    assert ind["negative_share"] == pytest.approx(13 / 14, abs=1e-4)
    assert ind["sustained_negative_affect"] is False


def test_sustained_negative_affect_needs_a_long_enough_run() -> None:
    frames = timeline(["neutral"] * 5 + ["sad"] * 15 + ["neutral"] * 5)
    assert compute_indicators(frames, 0.2)["sustained_negative_affect"] is True  # 3.0 s
    assert compute_indicators(frames, 0.2, sustained_negative_s=3.5)["sustained_negative_affect"] is False


def test_variability_is_normalised_entropy() -> None:
    assert compute_indicators(timeline(["happy"] * 10), 0.2)["expression_variability"] == 0.0
    uniform = compute_indicators(timeline(list(EMOTIONS) * 2), 0.2)["expression_variability"]
    assert uniform == pytest.approx(1.0)
    half = compute_indicators(timeline(["happy", "neutral"] * 5), 0.2)["expression_variability"]
    assert half == pytest.approx(np.log(2) / np.log(7), abs=1e-4)


def test_emotion_changes_per_minute() -> None:
    # 30 face-frames at 0.2 s = 6 s = 0.1 min; 3 changes -> 30 per minute.
    frames = timeline(["happy"] * 10 + ["neutral"] * 10 + ["happy"] * 5 + ["surprise"] * 5)
    assert compute_indicators(frames, 0.2)["emotion_changes_per_min"] == pytest.approx(30.0)


def test_one_frame_flicker_is_not_a_change() -> None:
    frames = timeline(["happy", "happy", "sad", "happy", "happy", "neutral", "neutral", "neutral"])
    assert compute_indicators(frames, 0.2)["emotion_changes_per_min"] == pytest.approx(1 / (8 * 0.2 / 60))


def test_sample_interval_follows_slow_videos() -> None:
    assert sample_interval(timeline(["happy"] * 5, step=0.2), 5.0) == pytest.approx(0.2)
    assert sample_interval(timeline(["happy"] * 5, step=0.5), 5.0) == pytest.approx(0.5)  # 2 fps video
    assert sample_interval(timeline(["happy"]), 4.0) == pytest.approx(0.25)


def test_document_validates_against_the_public_schema() -> None:
    frames = timeline(["happy", "sad", None, "angry"])
    frames[0].faces[0].crop = "0_0.jpg"
    doc = {"summary": summary_for(frames), "frames": frames_document(frames)}
    parsed = AnalysisResultOut.model_validate(doc)
    assert parsed.frames[0].faces[0].emotion == "happy"
    assert parsed.frames[0].faces[0].crop == "0_0.jpg"
    assert parsed.frames[1].faces[0].crop is None
    assert parsed.frames[2].faces == []
    for frame in parsed.frames:
        for face in frame.faces:
            assert list(face.probabilities) == list(EMOTIONS)
            assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-3)

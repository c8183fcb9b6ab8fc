"""The whole analysis pipeline on real videos with the tiny real checkpoint and the Haar detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from bloomwell_ml.faces import HaarDetector
from bloomwell_ml.labels import EMOTIONS
from services.common.schemas import AnalysisResultOut
from services.common.video import VideoError
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.pipeline import CropKeeper, PipelineOptions, analyze_video
from tests.worker.conftest import shared_video, write_video


@pytest.fixture(scope="module")
def classifier(tiny_model_path: Path) -> EmotionClassifier:
    return EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32")


def test_real_video_gives_a_full_result(classifier: EmotionClassifier, tmp_path: Path) -> None:
    events: list[tuple[str, int, int]] = []
    out = analyze_video(
        shared_video("fer_test.mp4"), classifier=classifier, detector=HaarDetector(),
        options=PipelineOptions(sample_fps=5.0, frame_batch_size=8, max_crops=6),
        duration_hint_s=4.6, crops_dir=tmp_path / "crops", on_progress=lambda *e: events.append(e),
    )
    result = AnalysisResultOut.model_validate({"summary": out.summary, "frames": out.frames})
    summary = result.summary
    assert summary.frames_analyzed == 23
    assert summary.frames_with_face >= 20
    assert summary.dominant_emotion in EMOTIONS
    assert summary.duration_s == pytest.approx(4.6)
    assert summary.model.name == "tiny-random-test"
    for frame in result.frames:
        for face in frame.faces:
            assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
            assert face.emotion == max(face.probabilities, key=face.probabilities.__getitem__)
    names = [f.crop for fr in result.frames for f in fr.faces if f.crop]
    assert 1 <= len(names) <= 6
    assert sorted(p.name for p in (tmp_path / "crops").iterdir()) == sorted(names)
    # Each batch reports classifying then detecting; the last report covers every frame.
    assert [e[0] for e in events[:2]] == ["classifying", "detecting"]
    assert events[-1][1] == 23
    assert out.timings.batches == 3 and out.timings.frames == 23


def test_video_without_a_face_succeeds_with_zero_face_frames(classifier: EmotionClassifier, tmp_path: Path) -> None:
    path = write_video(tmp_path / "gradient.mp4", frames=30, fps=10.0)
    out = analyze_video(path, classifier=classifier, detector=HaarDetector(), options=PipelineOptions())
    assert out.summary["frames_analyzed"] == 15
    assert out.summary["frames_with_face"] == 0
    assert out.summary["dominant_emotion"] is None
    assert all(f["faces"] == [] for f in out.frames)


def test_text_file_is_refused(classifier: EmotionClassifier, tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_text("not a video")
    with pytest.raises(VideoError):
        analyze_video(path, classifier=classifier, detector=HaarDetector(), options=PipelineOptions())


def test_crop_keeper_spreads_a_bounded_number_of_crops(tmp_path: Path) -> None:
    import numpy as np

    keeper = CropKeeper(tmp_path, max_crops=5, expected_frames=50)
    crop = np.zeros((20, 20, 3), np.uint8)
    kept = [keeper.maybe_keep(i, 0, crop) for i in range(60)]
    names = [k for k in kept if k]
    assert names == ["0_0.jpg", "10_0.jpg", "20_0.jpg", "30_0.jpg", "40_0.jpg"]
    assert len(list(tmp_path.iterdir())) == 5
    assert CropKeeper(None, max_crops=5, expected_frames=5).maybe_keep(0, 0, crop) is None

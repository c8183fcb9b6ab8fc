"""Re-identification in the real pipeline: the stage clip counts the performer once across its cuts, no person holds
faces of two shots unless the embedder matched them, and single-person videos stay one person."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from bloomwell_ml.faces import YuNetDetector
from services.common.schemas import ResultDocument
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.pipeline import AnalysisOutput, PipelineOptions, analyze_video
from tests.worker.conftest import shared_video

STAGE_CUTS_S = (0.7, 2.7, 7.1)
"""The stage clip's shot changes (looked at: wide shot, a singer in profile before the audience, the performer in a
medium shot, the audience); a sampled frame's shot is the number of cuts before it."""


def shot(t: float) -> int:
    return sum(t > cut for cut in STAGE_CUTS_S)


def stage(classifier: EmotionClassifier, detector: YuNetDetector, options: PipelineOptions) -> AnalysisOutput:
    return analyze_video(shared_video("face_recognition_short_hamilton_clip.mp4"), classifier=classifier,
                         detector=detector, options=options)


def test_stage_clip_counts_the_performer_once_across_the_cuts(shipped: EmotionClassifier,
                                                              yunet: YuNetDetector) -> None:
    out = stage(shipped, yunet, PipelineOptions())
    doc = ResultDocument.model_validate(out.document.model_dump(mode="json"))
    readable = [p for p in doc.people if p.assessable_frames > 0]
    # What a viewer counts among the faces that can be read: the performer (wide shot 0-0.6 s and medium shot
    # 2.8-7.0 s) and the smiling audience member of the last shot. Before: 3, the performer twice.
    assert len(readable) == 2, [(p.label, p.first_t, p.last_t) for p in readable]
    # Every face a viewer can tell apart, once (looked at, frame by frame): the performer, the small face at the
    # left of the wide shot, the singer in profile and three audience faces behind him, four audience faces at the
    # end. Before: also 10, but one of them was the performer again and another track mixed two shots.
    assert doc.summary.people_count == 10, [(p.label, p.first_t, p.last_t) for p in doc.people]
    assert len(doc.people) == doc.summary.people_count and [p.track_id for p in doc.people] == \
        list(range(1, len(doc.people) + 1))  # numbered after merging: no holes
    shots_of = {p.track_id: {shot(fr.t) for fr in doc.frames for f in fr.faces if f.track_id == p.track_id}
                for p in doc.people}
    performer = next(p for p in readable if p.first_t == 0.0)
    assert shots_of[performer.track_id] == {0, 2} and performer.last_t >= 6.8
    audience = next(p for p in readable if p is not performer)
    assert shots_of[audience.track_id] == {3}
    # No other person spans a cut: every raw track lies in one shot (the tracker restarts at each cut), and the only
    # tracks merged across shots are the performer's.
    times = [fr.t for fr in doc.frames]
    for track, frames in out.track_frames.items():
        assert len({shot(times[i]) for i in frames}) == 1, (track, sorted(times[i] for i in frames))
    merged = {person for person in out.persons.values() if list(out.persons.values()).count(person) > 1}
    assert len(merged) == 1
    # the performer's figures come from both shots
    seen = [shot(fr.t) for fr in doc.frames for f in fr.faces if f.track_id == performer.track_id and f.assessable]
    assert seen.count(0) >= 3 and seen.count(2) >= 15


def test_without_re_identification_the_performer_is_two_people(shipped: EmotionClassifier,
                                                                yunet: YuNetDetector) -> None:
    out = stage(shipped, yunet, PipelineOptions(reid_faces_per_track=0))
    readable = [p for p in out.document.people if p.assessable_frames > 0]
    assert len(readable) == 3
    assert out.timings.reid >= 0 and out.persons == {t: t for t in out.track_frames}


@pytest.mark.parametrize("name", ["fer_woman2.mp4", "1zlab_face.mp4", "fer_test.mp4",
                                  "huimiang_1543684773_neutral_to_angry.avi"])
def test_single_person_videos_stay_one_person(shipped: EmotionClassifier, yunet: YuNetDetector, name: str) -> None:
    out = analyze_video(shared_video(name), classifier=shipped, detector=yunet, options=PipelineOptions())
    assert out.document.summary.people_count == 1
    # one track with readable faces: nothing to merge it with, so the embedder is not run at all; several tracks
    # (the tracker lost her for a while) are embedded and merged back into one person
    assert len(out.face_descriptors) != 1
    assert len(out.face_descriptors) == 0 or len(set(out.persons.values())) == 1


def covered_face_video(path: Path, detector: YuNetDetector, hide: tuple[float, float] = (3.0, 5.4),
                       seconds: float = 8.0, fps: float = 10.0) -> Path:
    """fer_woman2's first ``seconds`` at ``fps``, her face covered by a flat patch during ``hide`` (a hand or an object
    in front of the face: the picture barely changes, so no shot change, but the tracker loses her for over a
    second)."""
    cap = cv2.VideoCapture(str(shared_video("fer_woman2.mp4")))
    source_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer: cv2.VideoWriter | None = None
    index, written = 0, 0
    while written < seconds * fps:
        ok, frame = cap.read()
        if not ok:
            break
        t = index / source_fps
        index += 1
        if t + 1e-9 < written / fps:
            continue
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (frame.shape[1], frame.shape[0]))
        if hide[0] <= t < hide[1]:
            for box in detector.detect([frame])[0]:
                x0, y0 = max(0, box.x - box.w // 3), max(0, box.y - box.h // 3)
                frame[y0:box.y + box.h * 4 // 3, x0:box.x + box.w * 4 // 3] = frame.mean(axis=(0, 1))
        writer.write(frame)
        written += 1
    cap.release()
    assert writer is not None
    writer.release()
    return path


def test_a_face_hidden_for_two_seconds_is_still_one_person(shipped: EmotionClassifier, yunet: YuNetDetector,
                                                           tmp_path: Path) -> None:
    video = covered_face_video(tmp_path / "covered.mp4", yunet)
    off = analyze_video(video, classifier=shipped, detector=yunet,
                        options=PipelineOptions(reid_faces_per_track=0))
    on = analyze_video(video, classifier=shipped, detector=yunet, options=PipelineOptions())
    assert len(off.track_frames) >= 2 and off.document.summary.people_count >= 2  # the tracker lost her
    assert on.document.summary.people_count == 1
    (person,) = on.document.people
    assert person.first_t < 1.0 and person.last_t > 6.5
    assert any(s.gap_reason == "not_visible" for s in person.segments)  # the hidden stretch is a gap, not a read

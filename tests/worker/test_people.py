"""From tracked, classified faces to people: which tracks count, their order, figures from readable faces only."""

from __future__ import annotations

import numpy as np
import pytest

from bloomwell_ml.faces import Box
from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import Emotion, UnassessableReason
from services.common.schemas import ModelInfo
from services.common.timeline import FrameState, indicators, mark_unclear, rate_segments, segments
from services.inference_worker.aggregate import (
    AggregateOptions,
    FaceObservation,
    FrameObservation,
    build_document,
    min_track_frames,
)

MODEL = ModelInfo(name="m", version="1", temperature=1.0, detector="yunet")


def probs(label: str, p: float = 0.8) -> np.ndarray:
    out = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1))
    out[EMOTIONS.index(label)] = p
    return out


def face(track: int | None, label: str, size: int = 60, reason: UnassessableReason | None = None) -> FaceObservation:
    return FaceObservation(box=Box(10, 10, size, size), track=track, probabilities=probs(label), reason=reason)


def document(frames: list[FrameObservation], **kw: object) -> dict:
    """The document as stored (its JSON form)."""
    return build_document(frames, duration_s=len(frames) * 0.2, options=AggregateOptions(**kw),
                          model=MODEL).model_dump(mode="json")


def test_min_track_frames_rule() -> None:
    assert min_track_frames(0.2, 0.5, 100) == 3  # 0.5 s at 5 frames/s
    assert min_track_frames(1.0, 0.5, 100) == 2  # never a single frame
    assert min_track_frames(1 / 30, 0.5, 100) == 15
    assert min_track_frames(0.2, 0.5, 1) == 1  # a one-frame video still has its face


def test_people_are_ordered_and_short_tracks_are_marked_brief() -> None:
    frames = []
    for k in range(10):
        faces = [face(7, "happy", 50)]
        if k < 4:
            faces.append(face(3, "sad", 90))  # bigger, but seen less
        if k == 5:
            faces.append(face(9, "angry"))  # two frames only: noise
        if k == 6:
            faces.append(face(9, "angry"))
        frames.append(FrameObservation(t=k * 0.2, faces=faces))
    doc = document(frames)
    # numbered by first appearance (both from the first frame: the larger face first); the summary describes the
    # person read longest
    assert [(p["track_id"], p["label"]) for p in doc["people"]] == [(1, "Person 1"), (2, "Person 2")]
    first, second = doc["people"]
    assert (first["frames_with_face"], first["dominant_emotion"]) == (4, "sad")
    assert (second["frames_with_face"], second["dominant_emotion"]) == (10, "happy")
    assert doc["summary"]["people_count"] == 2 and doc["primary_track_id"] == 2
    assert doc["summary"]["dominant_emotion"] == "happy"
    brief = [f for fr in doc["frames"] for f in fr["faces"] if f["track_id"] is None]
    assert len(brief) == 2 and all(f["unassessable_reason"] == "brief" and not f["assessable"] for f in brief)


def test_unreadable_faces_feed_nothing_and_leave_gaps_with_reasons() -> None:
    labels = ["sad"] * 4 + [None, None] + ["sad"] * 4
    frames = []
    for k, label in enumerate(labels):
        f = face(1, "happy", reason=UnassessableReason.too_dark) if label is None else face(1, label)
        frames.append(FrameObservation(t=k * 0.2, faces=[f]))
    frames.insert(8, FrameObservation(t=1.55, faces=[]))  # a frame where the person is not visible
    doc = document(frames)
    (person,) = doc["people"]
    assert person["assessable_frames"] == 8 and person["unassessable"] == {"too_dark": 2}
    assert person["distribution"]["happy"] == 0.0 and person["dominant_emotion"] == "sad"
    kinds = [s["emotion"] or s["gap_reason"] for s in person["segments"]]
    assert kinds == ["sad", "too_dark", "sad", "not_visible", "sad"]
    # the negative run is broken by what could not be seen
    assert person["indicators"]["longest_negative_run_s"] == 0.8
    assert person["indicators"]["sustained_negative_affect"] is False


def test_indicators_are_counts_under_a_minute_and_a_rate_from_a_minute() -> None:
    states = [FrameState(k * 0.2, Emotion.happy if (k // 50) % 2 else Emotion.neutral) for k in range(400)]  # 80 s
    long = indicators(states, 0.2, 3.0)
    assert long is not None and long.expression_changes == 7
    assert long.emotion_changes_per_min == round(7 / (80 / 60), 3)
    short = indicators(states[:100], 0.2, 3.0)  # 20 s
    assert short is not None and short.expression_changes == 1 and short.emotion_changes_per_min is None
    assert indicators([FrameState(0.0, None, "not_visible")], 0.2, 3.0) is None


def test_segments_cover_time_without_holes() -> None:
    states = [FrameState(0.0, Emotion.happy), FrameState(0.2, Emotion.happy),
              FrameState(0.4, None, UnassessableReason.blurred), FrameState(0.6, Emotion.sad)]
    assert [segment.model_dump(mode="json") for segment in segments(states, 0.2)] == [
        {"start_t": 0.0, "end_t": 0.4, "emotion": "happy", "gap_reason": None, "confidence": None, "unclear": False},
        {"start_t": 0.4, "end_t": 0.6, "emotion": None, "gap_reason": "blurred", "confidence": None, "unclear": False},
        {"start_t": 0.6, "end_t": 0.8, "emotion": "sad", "gap_reason": None, "confidence": None, "unclear": False},
    ]


def test_a_stretch_the_model_was_unsure_of_is_unclear_and_the_indicators_skip_it() -> None:
    """Four seconds of 'sad' at 0.3 (under the threshold) then a second at 0.9: the unsure stretch is marked
    unclear, counts as readable time, and is neither negative nor a sustained negative run."""
    frames = [FrameObservation(t=k * 0.2, faces=[FaceObservation(box=Box(10, 10, 60, 60), track=1,
                                                                probabilities=probs("sad", 0.3 if k < 20 else 0.9))])
              for k in range(25)]
    doc = build_document(frames, duration_s=5.0, options=AggregateOptions(unclear_below=0.5), model=MODEL)
    (person,) = doc.people
    assert [(s.emotion, s.unclear) for s in person.segments] == [(Emotion.sad, True)]  # one smoothed stretch …
    assert person.segments[0].confidence == pytest.approx((20 * 0.3 + 5 * 0.9) / 25, abs=1e-4)  # … its mean
    assert doc.summary.unclear_below == 0.5
    sure = build_document(frames, duration_s=5.0, options=AggregateOptions(unclear_below=0.4), model=MODEL)
    assert not sure.people[0].segments[0].unclear
    assert sure.people[0].indicators is not None and sure.people[0].indicators.sustained_negative_affect
    ind = person.indicators
    assert ind is not None and ind.observed_s == person.readable_s == 5.0  # unclear time is still readable time
    assert (ind.negative_share, ind.longest_negative_run_s, ind.sustained_negative_affect) == (0.0, 0.0, False)


def test_rate_segments_uses_the_faces_inside_each_segment() -> None:
    segs = segments([FrameState(0.0, Emotion.angry), FrameState(0.2, Emotion.angry), FrameState(0.4, Emotion.happy),
                     FrameState(0.6, None, "not_visible")], 0.2)
    faces = [(0.0, {"angry": 0.3}), (0.2, {"angry": 0.5}), (0.4, {"happy": 0.9})]
    rated = rate_segments(segs, faces, 0.45)
    assert [(s.confidence, s.unclear) for s in rated] == [(0.4, True), (0.9, False), (None, False)]
    states = mark_unclear([FrameState(0.0, Emotion.angry), FrameState(0.2, Emotion.angry),
                           FrameState(0.4, Emotion.happy)], rated)
    assert [s.unclear for s in states] == [True, True, False]


def test_no_face_at_all_gives_an_empty_but_valid_document() -> None:
    doc = document([FrameObservation(t=k * 0.2) for k in range(5)])
    assert doc["people"] == [] and doc["summary"]["indicators"] is None and doc["primary_track_id"] is None

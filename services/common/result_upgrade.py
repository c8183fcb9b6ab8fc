"""Serving results stored before the version-2 document: a version-1 row is converted on read.

Version 1 followed the largest face of each frame and summarised it as one subject. The upgrade makes that subject
the one person (track 1, "Person 1"), keeps every other face in the timeline without a track, and rebuilds the
person's timeline and indicators with version 1's own smoothing (the 3-frame majority filter its indicators used),
so an old report shows what was computed then — never a re-analysis. Quality was not measured then: every face
counts as assessable and carries no ``quality`` record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import NOT_VISIBLE, UNCLEAR_BELOW, Emotion
from services.common.durations import frame_bounds, frame_spans, total_seconds
from services.common.schemas import (
    FaceResult,
    FrameResult,
    Indicators,
    ModelInfo,
    Person,
    ResultDocument,
    Segment,
    Summary,
    TimelinePoint,
)
from services.common.timeline import FrameState, indicators, rate_segments, segments

V1_SMOOTHING = "3-frame majority filter (version 1 result)"
V1_TRACK_ID = 1
V1_DEFAULT_SAMPLE_FPS = 5.0
V1_UNKNOWN_MODEL = {"name": "unknown", "version": "unknown"}
V1_KEPT_INDICATORS = ("negative_share", "sustained_negative_affect", "longest_negative_run_s", "expression_variability")
"""Indicators version 1 computed itself, kept as stored (its definitions: raw top labels per face-frame)."""


def majority_filter(labels: list[str], window: int = 3) -> list[str]:
    """Each label replaced by the most frequent one in the centred window (itself on a tie), as version 1 did."""
    if len(labels) < window:
        return list(labels)
    half = window // 2
    out = list(labels)
    for i in range(len(labels)):
        counts = Counter(labels[max(0, i - half) : i + half + 1])
        label, count = max(counts.items(), key=lambda kv: (kv[1], -EMOTIONS.index(kv[0])))
        if count > 1:
            out[i] = label
    return out


def _interval(frames: list[dict[str, Any]], sample_fps: float) -> float:
    nominal = 1.0 / sample_fps if sample_fps > 0 else 1.0 / V1_DEFAULT_SAMPLE_FPS
    gaps = sorted(b["t"] - a["t"] for a, b in zip(frames, frames[1:], strict=False))
    return max(nominal, gaps[len(gaps) // 2]) if gaps else nominal


@dataclass(frozen=True)
class _Subject:
    """Version 1's one subject: the first (largest) face of every frame that had one, with its smoothed label."""

    frames: list[dict[str, Any]]
    smoothed: dict[float, Emotion]

    @classmethod
    def of(cls, frames: list[dict[str, Any]]) -> _Subject:
        subject_frames = [f for f in frames if f.get("faces")]
        smoothed = majority_filter([f["faces"][0]["emotion"] for f in subject_frames])
        return cls(subject_frames, {f["t"]: Emotion(label) for f, label in zip(subject_frames, smoothed, strict=True)})

    def face(self, frame: dict[str, Any]) -> dict[str, Any]:
        face: dict[str, Any] = frame["faces"][0]
        return face

    def state(self, t: float) -> FrameState:
        label = self.smoothed.get(t)
        return FrameState(t, label, None if label else NOT_VISIBLE)


def _frame(frame: dict[str, Any], span_s: float) -> FrameResult:
    """A version-1 frame with its first face as the subject's (track 1) and the others without a track."""
    faces = [
        FaceResult.model_validate({**face, "track_id": V1_TRACK_ID if index == 0 else None, "quality": None,
                                   "assessable": True, "unassessable_reason": None})
        for index, face in enumerate(frame.get("faces") or [])
    ]
    return FrameResult(t=frame["t"], span_s=span_s, faces=faces)


def _bounds(frames: list[dict[str, Any]], summary: dict[str, Any]) -> list[float]:
    """The frames' stretches of video (:func:`~services.common.durations.frame_bounds`) for a stored result."""
    interval = _interval(frames, float(summary.get("sample_fps") or V1_DEFAULT_SAMPLE_FPS))
    times = [float(f["t"]) for f in frames]
    duration = float(summary.get("duration_s") or 0.0)
    if times and times[-1] >= duration:
        duration = times[-1] + interval
    return frame_bounds(times, interval, duration)


def with_derived_figures(summary: dict[str, Any], people: list[dict[str, Any]], frames: list[dict[str, Any]]
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``people`` and ``frames`` of a version-2 result stored before these were part of the document, filled in by
    the worker's definitions: each frame's ``span_s``, each person's ``seen_s``/``readable_s``, and each segment's
    ``confidence``/``unclear`` (indicators stay as stored)."""
    people = [_rated(p, frames, float(summary.get("unclear_below") or UNCLEAR_BELOW)) for p in people]
    if all("span_s" in f for f in frames) and all("seen_s" in p and "readable_s" in p for p in people):
        return people, frames
    spans = frame_spans(_bounds(frames, summary))
    frames = [{**f, "span_s": span} for f, span in zip(frames, spans, strict=True)]

    def seconds(track_id: Any, readable: bool) -> float:
        return total_seconds(f["span_s"] for f in frames
                             if any(face.get("track_id") == track_id and (face.get("assessable") or not readable)
                                    for face in f.get("faces") or []))

    people = [{**p, "seen_s": seconds(p["track_id"], False), "readable_s": seconds(p["track_id"], True)}
              for p in people]
    return people, frames


def _indicators(states: list[FrameState], interval: float, stored: dict[str, Any]) -> Indicators:
    rebuilt = indicators(states, interval, 3.0)
    assert rebuilt is not None, "the subject was read in at least one frame"
    return rebuilt.model_copy(update={key: stored[key] for key in V1_KEPT_INDICATORS if key in stored})


def _filled(summary: dict[str, Any]) -> dict[str, Any]:
    """The version-1 summary with its optional parts filled in (version 1 left some out, or stored null)."""
    optional = {key: summary.get(key) or {} for key in ("distribution", "mean_probabilities", "indicators")}
    return {**summary, **optional, "model": summary.get("model") or V1_UNKNOWN_MODEL,
            "sample_fps": float(summary.get("sample_fps") or V1_DEFAULT_SAMPLE_FPS)}


def _rated(person: dict[str, Any], frames: list[dict[str, Any]], unclear_below: float) -> dict[str, Any]:
    """A stored person whose segments lack ``unclear``, with it (:func:`~services.common.timeline.rate_segments`)."""
    if all("unclear" in s for s in person.get("segments") or []):
        return person
    faces = [(float(f["t"]), face["probabilities"]) for f in frames for face in f.get("faces") or []
             if face.get("track_id") == person["track_id"] and face.get("assessable")]
    segs = rate_segments([Segment.model_validate(s) for s in person["segments"]], faces, unclear_below)
    return {**person, "segments": [s.model_dump(mode="json") for s in segs]}


def _person(summary: dict[str, Any], frames: list[dict[str, Any]], subject: _Subject, interval: float,
            bounds: list[float]) -> Person:
    """The subject as Person 1, with its figures as version 1 stored them."""
    first, last = subject.frames[0]["t"], subject.frames[-1]["t"]
    states = []
    for i, frame in enumerate(frames):
        if first <= frame["t"] <= last:
            state = subject.state(frame["t"])
            states.append(FrameState(bounds[i], state.emotion, state.gap_reason, end_t=bounds[i + 1]))
    seen = total_seconds(span for span, frame in zip(frame_spans(bounds), frames, strict=True) if frame.get("faces"))
    sizes = [min(subject.face(f)["box"][2], subject.face(f)["box"][3]) for f in subject.frames]
    crops = (subject.face(f).get("crop") for f in subject.frames)
    return Person(
        track_id=V1_TRACK_ID,
        label="Person 1",
        first_t=first,
        last_t=last,
        frames_with_face=len(subject.frames),
        assessable_frames=len(subject.frames),
        seen_s=seen,
        readable_s=seen,
        mean_face_px=round(sum(sizes) / len(sizes), 1),
        dominant_emotion=summary.get("dominant_emotion"),
        distribution=summary["distribution"],
        mean_probabilities=summary["mean_probabilities"],
        indicators=_indicators(states, interval, summary["indicators"]),
        unassessable={},
        crop=next((crop for crop in crops if crop), None),
        timeline=[TimelinePoint(t=f["t"], emotion=subject.smoothed[f["t"]],
                                probabilities=subject.face(f)["probabilities"]) for f in subject.frames],
        segments=rate_segments(segments(states, interval),
                               [(f["t"], subject.face(f)["probabilities"]) for f in subject.frames], UNCLEAR_BELOW),
    )


def _summary(summary: dict[str, Any], frames: list[dict[str, Any]], subject: _Subject, person: Person | None,
             bounds: list[float]) -> Summary:
    return Summary(
        dominant_emotion=summary.get("dominant_emotion"),
        distribution=summary["distribution"],
        mean_probabilities=summary["mean_probabilities"],
        frames_analyzed=summary.get("frames_analyzed", len(frames)),
        frames_with_face=summary.get("frames_with_face", len(subject.frames)),
        assessable_frames=len(subject.frames),
        people_count=1 if person else 0,
        primary_track_id=person.track_id if person else None,
        duration_s=max([float(summary.get("duration_s") or 0.0), *bounds[-1:]]),
        sample_fps=summary["sample_fps"],
        smoothing=V1_SMOOTHING,
        model=ModelInfo.model_validate(summary["model"]),
        indicators=person.indicators if person else None,
    )


def upgrade_v1(summary: dict[str, Any], frames: list[dict[str, Any]]) -> ResultDocument:
    """The version-2 document for a version-1 ``summary`` and ``frames``."""
    summary = _filled(summary)
    subject = _Subject.of(frames)
    bounds = _bounds(frames, summary)
    interval = _interval(frames, summary["sample_fps"])
    person = _person(summary, frames, subject, interval, bounds) if subject.frames else None
    return ResultDocument(
        upgraded_from=1,
        summary=_summary(summary, frames, subject, person, bounds),
        people=[person] if person else [],
        primary_track_id=person.track_id if person else None,
        frames=[_frame(frame, span) for frame, span in zip(frames, frame_spans(bounds), strict=True)],
    )

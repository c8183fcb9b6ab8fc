"""From classified, tracked faces to the version-2 result document: people, their smoothed timelines, indicators.

Pure functions over plain data, no I/O. Definitions (documented for the result's readers in docs/CONTRACTS.md):

* A *person* is a face track (``tracking.FaceTracker``) seen in at least ``max(2, ceil(min_track_s / interval))``
  sampled frames (0.5 s: 3 frames at 5 frames/s); shorter tracks are noise — in the shared videos they are
  mostly false boxes and faces crossing the picture — and their faces stay in ``frames`` with ``track_id`` null,
  marked ``brief``. Tracks have already been merged into persons (``reid``). People are numbered by first
  appearance, then face size; the *primary* person, the one the summary describes, is the one with the most
  readable frames, then frames seen, then face size.
* Only *assessable* faces (``quality.assess``) feed a person's figures. Their calibrated probabilities are
  smoothed over time (``smoothing``); ``timeline`` holds the smoothed series, ``segments`` the smoothed expression
  band from the person's first to last frame with gaps (unreadable, or not visible) and their reasons.
* Durations (``seen_s``, ``readable_s``, the indicators' seconds, the segments' ends) are sums of the stretches of
  video the sampled frames stand for (:mod:`services.common.durations`): readable ≤ seen ≤ the video's length.
* Each segment carries its ``confidence`` (mean calibrated probability of its expression over its readable frames)
  and is ``unclear`` under ``unclear_below`` (:data:`services.common.analysis.UNCLEAR_BELOW`); the indicators skip
  unclear stretches. An unassessable face carries no label and no crop.
* ``dominant_emotion``: the most frequent smoothed expression (ties: the higher mean probability);
  ``distribution``: share of readable frames per smoothed expression; ``mean_probabilities``: mean raw
  probabilities over readable frames; indicators as in :func:`services.common.timeline.indicators`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bloomwell_ml.faces import Box
from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import NOT_VISIBLE, UNCLEAR_BELOW, Emotion, UnassessableReason
from services.common.durations import frame_bounds, frame_spans, total_seconds
from services.common.schemas import (
    FaceQuality,
    FaceResult,
    FrameResult,
    ModelInfo,
    Person,
    ResultDocument,
    Summary,
    TimelinePoint,
)
from services.common.timeline import FrameState, indicators, mark_unclear, rate_segments, segments
from services.inference_worker.smoothing import SmoothingOptions, smooth

DIGITS = 4
"""Probabilities are stored rounded to this many digits."""


@dataclass(slots=True)
class FaceObservation:
    """One detected, classified face: box, raw tracker id, probabilities (:data:`EMOTIONS` order), quality."""

    box: Box
    track: int | None
    probabilities: np.ndarray
    quality: FaceQuality | None = None
    reason: UnassessableReason | None = None
    crop: str | None = None

    @property
    def assessable(self) -> bool:
        """Whether the face is read (no quality reason, and it belongs to a kept track)."""
        return self.reason is None


@dataclass(slots=True)
class FrameObservation:
    """One sampled frame at ``t`` seconds with its faces, largest first."""

    t: float
    faces: list[FaceObservation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AggregateOptions:
    """How observations become people."""

    sample_fps: float = 5.0
    sustained_negative_s: float = 3.0
    min_track_s: float = 0.5
    unclear_below: float = UNCLEAR_BELOW
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)


def top_index(p: np.ndarray) -> int:
    """Index of the top emotion, taken on the rounded values the document stores, so a reader who takes
    the argmax of the stored probabilities (first label on a tie) gets the same label."""
    return int(np.argmax(np.round(np.asarray(p, dtype=np.float64), DIGITS)))


def probabilities_dict(p: np.ndarray, digits: int = DIGITS) -> dict[str, float]:
    """``{label: probability}`` in :data:`EMOTIONS` order, rounded for the JSON document."""
    return {label: round(float(v), digits) for label, v in zip(EMOTIONS, p, strict=True)}


def sample_interval(frames: Sequence[FrameObservation], sample_fps: float) -> float:
    """Seconds one sampled frame stands for: the median gap between frames, never below ``1 / sample_fps``
    (a video with fewer frames per second than requested is sampled at its own rate)."""
    nominal = 1.0 / sample_fps
    if len(frames) < 2:
        return nominal
    gaps = np.diff([f.t for f in frames])
    return max(nominal, float(np.median(gaps)))


def min_track_frames(interval_s: float, min_track_s: float, total_frames: int) -> int:
    """Frames a track needs to count as a person (never more than the video has)."""
    return max(1, min(total_frames, max(2, math.ceil(min_track_s / interval_s - 1e-9))))


@dataclass
class _Track:
    """The faces of one raw tracker id: (frame index, face), in frame order."""

    raw: int
    faces: list[tuple[int, FaceObservation]] = field(default_factory=list)

    @property
    def readable(self) -> list[tuple[int, FaceObservation]]:
        return [(i, f) for i, f in self.faces if f.assessable]

    @property
    def mean_px(self) -> float:
        return float(np.mean([f.box.short_side for _, f in self.faces]))


def _tracks(frames: Sequence[FrameObservation]) -> list[_Track]:
    """The faces grouped by raw tracker id (faces without one stay out), in order of first appearance."""
    by_raw: dict[int, _Track] = {}
    for i, frame in enumerate(frames):
        for face in frame.faces:
            if face.track is not None:
                by_raw.setdefault(face.track, _Track(face.track)).faces.append((i, face))
    return list(by_raw.values())


def _keep_people(tracks: list[_Track], frames: Sequence[FrameObservation], needed: int) -> list[_Track]:
    """The tracks seen in at least ``needed`` frames, in appearance order (then the larger face). Faces of shorter
    tracks lose their track, and every face without a track that was readable is marked ``brief`` (in place)."""
    for track in tracks:
        if len(track.faces) < needed:
            _untrack(track)
    _mark_brief(frames)
    kept = [track for track in tracks if len(track.faces) >= needed]
    return sorted(kept, key=lambda tr: (tr.faces[0][0], -tr.mean_px, tr.raw))


def _primary(people: list[Person]) -> Person | None:
    """The person the summary describes: most readable frames, then frames seen, then the larger face."""
    return min(people, key=lambda p: (-p.assessable_frames, -p.frames_with_face, -p.mean_face_px, p.track_id),
               default=None)


def _untrack(track: _Track) -> None:
    for _, face in track.faces:
        face.track = None


def _mark_brief(frames: Sequence[FrameObservation]) -> None:
    for frame in frames:
        for face in frame.faces:
            if face.track is None and face.reason is None:
                face.reason = UnassessableReason.brief


def _states(track: _Track, bounds: Sequence[float], label_at: dict[int, Emotion]) -> list[FrameState]:
    """One state per sampled frame from the track's first to its last, over the frame's stretch of video (``bounds``,
    :func:`~services.common.timeline.frame_bounds`): read, unreadable (why), or not visible."""
    face_at = dict(track.faces)
    states = []
    for i in range(track.faces[0][0], track.faces[-1][0] + 1):
        face = face_at.get(i)
        if face is None:
            states.append(FrameState(bounds[i], None, NOT_VISIBLE, end_t=bounds[i + 1]))
        else:
            states.append(FrameState(bounds[i], label_at.get(i), face.reason if i not in label_at else None,
                                     end_t=bounds[i + 1]))
    return states


def _dominant(labels: list[Emotion], mean: np.ndarray) -> Emotion | None:
    """The most frequent label (ties: the higher mean probability); None without labels."""
    counts = Counter(labels)
    return max(counts, key=lambda e: (counts[e], mean[EMOTIONS.index(e)])) if counts else None


def _person(track_id: int, track: _Track, frames: Sequence[FrameObservation], bounds: Sequence[float],
            interval: float, options: AggregateOptions, crop: str | None) -> Person:
    readable = track.readable
    probs = np.array([f.probabilities for _, f in readable], dtype=np.float64).reshape(-1, len(EMOTIONS))
    times = [frames[i].t for i, _ in readable]
    smoothed_p, smoothed_i = smooth(probs, times, options.smoothing, options.sample_fps)
    smoothed = [Emotion(EMOTIONS[int(k)]) for k in smoothed_i]
    label_at = {i: label for (i, _), label in zip(readable, smoothed, strict=True)}
    states = _states(track, bounds, label_at)
    spans = frame_spans(bounds)
    faces = [(round(frames[i].t, 3), probabilities_dict(f.probabilities)) for i, f in readable]
    rated = rate_segments(segments(states, interval), faces, options.unclear_below)
    states = mark_unclear(states, rated)
    mean = probs.mean(axis=0) if len(probs) else np.zeros(len(EMOTIONS))
    counts = Counter(smoothed)
    shares = np.array([counts.get(Emotion(e), 0) for e in EMOTIONS], dtype=np.float64) / max(1, len(smoothed))
    return Person(
        track_id=track_id,
        label=f"Person {track_id}",
        first_t=round(frames[track.faces[0][0]].t, 3),
        last_t=round(frames[track.faces[-1][0]].t, 3),
        frames_with_face=len(track.faces),
        assessable_frames=len(readable),
        seen_s=total_seconds(spans[i] for i, _ in track.faces),
        readable_s=total_seconds(spans[i] for i, _ in readable),
        mean_face_px=round(track.mean_px, 1),
        dominant_emotion=_dominant(smoothed, mean),
        distribution=probabilities_dict(shares),
        mean_probabilities=probabilities_dict(mean),
        indicators=indicators(states, interval, options.sustained_negative_s),
        unassessable=dict(Counter(str(f.reason) for _, f in track.faces if f.reason is not None)),
        crop=crop,
        timeline=[TimelinePoint(t=round(t, 3), emotion=label, probabilities=probabilities_dict(p))
                  for t, p, label in zip(times, smoothed_p, smoothed, strict=True)],
        segments=rated,
    )


def _best_crop(track: _Track) -> str | None:
    """The kept crop of the clearest readable face of the track (sharpest × largest); None when no readable face
    has a kept crop — an unread face never pictures a person."""
    candidates = [f for _, f in track.readable if f.crop]
    if not candidates:
        return None

    def clarity(f: FaceObservation) -> float:
        q = f.quality
        return (q.sharpness * q.face_px) if q else 0.0

    return max(candidates, key=clarity).crop


def _face(face: FaceObservation, person_of: dict[int, int]) -> FaceResult:
    """One face of ``frames``; ``person_of`` maps a kept raw tracker id to its person's track id."""
    return FaceResult(
        track_id=None if face.track is None else person_of.get(face.track),
        box=(face.box.x, face.box.y, face.box.w, face.box.h),
        emotion=Emotion(EMOTIONS[top_index(face.probabilities)]) if face.assessable else None,
        probabilities=probabilities_dict(face.probabilities),
        crop=face.crop if face.assessable else None,
        quality=face.quality.rounded() if face.quality else None,
        assessable=face.assessable,
        unassessable_reason=face.reason,
    )


def _summary(frames: Sequence[FrameObservation], people: list[Person], duration_s: float,
             options: AggregateOptions, model: ModelInfo) -> Summary:
    """Whole-video figures; the expression figures are the primary person's (zero without one)."""
    primary = _primary(people)
    zero = probabilities_dict(np.zeros(len(EMOTIONS)))
    return Summary(
        dominant_emotion=primary.dominant_emotion if primary else None,
        distribution=primary.distribution if primary else zero,
        mean_probabilities=primary.mean_probabilities if primary else zero,
        frames_analyzed=len(frames),
        frames_with_face=sum(1 for f in frames if f.faces),
        assessable_frames=primary.assessable_frames if primary else 0,
        people_count=len(people),
        primary_track_id=primary.track_id if primary else None,
        duration_s=round(float(duration_s), 3),
        sample_fps=float(options.sample_fps),
        smoothing=options.smoothing.describe(),
        unclear_below=float(options.unclear_below),
        model=model,
        indicators=primary.indicators if primary else None,
    )


def build_document(frames: Sequence[FrameObservation], *, duration_s: float, options: AggregateOptions,
                   model: ModelInfo, person_crop: Callable[[int], str | None] = lambda raw: None) -> ResultDocument:
    """The version-2 result document (raises ``pydantic.ValidationError`` if it would not be a valid one).

    Faces of tracks too short to be a person lose their track and are marked ``brief`` (in place).
    ``person_crop(raw tracker id)`` is asked, for each person kept, for a crop picturing them (preferred over
    the frame crops).
    """
    interval = sample_interval(frames, options.sample_fps)
    duration_s = video_length(frames, duration_s, interval)
    bounds = frame_bounds([frame.t for frame in frames], interval, duration_s)
    ordered = _keep_people(_tracks(frames), frames, min_track_frames(interval, options.min_track_s, len(frames)))
    people = [_person(rank, track, frames, bounds, interval, options, person_crop(track.raw) or _best_crop(track))
              for rank, track in enumerate(ordered, start=1)]
    person_of = {track.raw: person.track_id for track, person in zip(ordered, people, strict=True)}
    summary = _summary(frames, people, duration_s, options, model)
    return ResultDocument(
        summary=summary,
        people=people,
        primary_track_id=summary.primary_track_id,
        frames=[FrameResult(t=round(frame.t, 3), span_s=span, faces=[_face(face, person_of) for face in frame.faces])
                for frame, span in zip(frames, frame_spans(bounds), strict=True)],
    )


def video_length(frames: Sequence[FrameObservation], duration_s: float, interval_s: float) -> float:
    """The video's length for the document: the given one (container or decoder), unless a frame was decoded at or
    past it — then the given length was wrong and the video lasts until that frame's stretch ends."""
    last_t = frames[-1].t if frames else 0.0
    return float(duration_s) if last_t < duration_s else last_t + interval_s


def unassessable_counts(frames: Sequence[FrameObservation]) -> dict[str, int]:
    """Count of unreadable faces per reason over the whole video (for the no-assessable-face message)."""
    return dict(Counter(str(f.reason) for frame in frames for f in frame.faces if f.reason is not None))

"""From classified, tracked faces to the version-2 result document: people, their smoothed timelines, indicators.

Pure functions over plain data, no I/O. Definitions (documented for the result's readers in docs/CONTRACTS.md):

* A *person* is a face track (``tracking.FaceTracker``) seen in at least ``max(2, ceil(min_track_s / interval))``
  sampled frames (0.5 s: 3 frames at 5 frames/s); shorter tracks are noise — in the shared videos they are
  mostly false boxes and faces crossing the picture — and their faces stay in ``frames`` with ``track_id`` null,
  marked ``brief``. People are ordered by readable frames, then frames seen, then face size: Person 1 is the
  primary person, the one the summary describes.
* Only *assessable* faces (``quality.assess``) feed a person's figures. Their calibrated probabilities are
  smoothed over time (``smoothing``); ``timeline`` holds the smoothed series, ``segments`` the smoothed expression
  band from the person's first to last frame with gaps (unreadable, or not visible) and their reasons.
* ``dominant_emotion``: the most frequent smoothed expression (ties: the higher mean probability);
  ``distribution``: share of readable frames per smoothed expression; ``mean_probabilities``: mean raw
  probabilities over readable frames; indicators as in :func:`services.common.timeline.indicators`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bloomwell_ml.faces import Box
from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import SCHEMA_VERSION, UnassessableReason
from services.common.timeline import NOT_VISIBLE, FrameState, indicators, segments
from services.inference_worker.quality import FaceQuality
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
    raw: int
    faces: list[tuple[int, FaceObservation]] = field(default_factory=list)  # (frame index, face)

    @property
    def readable(self) -> list[tuple[int, FaceObservation]]:
        return [(i, f) for i, f in self.faces if f.assessable]

    @property
    def mean_px(self) -> float:
        return float(np.mean([f.box.short_side for _, f in self.faces]))


def _order(tracks: list[_Track]) -> list[_Track]:
    return sorted(tracks, key=lambda tr: (-len(tr.readable), -len(tr.faces), -tr.mean_px, tr.faces[0][0]))


def _person(track_id: int, track: _Track, frames: Sequence[FrameObservation], interval: float,
            options: AggregateOptions, crop: str | None) -> dict[str, Any]:
    readable = track.readable
    first_i, last_i = track.faces[0][0], track.faces[-1][0]
    probs = np.array([f.probabilities for _, f in readable], dtype=np.float64).reshape(-1, len(EMOTIONS))
    times = [frames[i].t for i, _ in readable]
    smoothed_p, smoothed_i = smooth(probs, times, options.smoothing)
    label_at = {i: EMOTIONS[int(k)] for (i, _), k in zip(readable, smoothed_i, strict=True)}
    face_at = dict(track.faces)
    states = []
    for i in range(first_i, last_i + 1):
        face = face_at.get(i)
        if face is None:
            states.append(FrameState(frames[i].t, None, NOT_VISIBLE))
        elif i in label_at:
            states.append(FrameState(frames[i].t, label_at[i]))
        else:
            states.append(FrameState(frames[i].t, None, str(face.reason)))
    labels = [label_at[i] for i, _ in readable]
    mean = probs.mean(axis=0) if len(probs) else np.zeros(len(EMOTIONS))
    counts = Counter(labels)
    dominant = max(counts, key=lambda e: (counts[e], mean[EMOTIONS.index(e)])) if counts else None
    shares = np.array([counts.get(e, 0) for e in EMOTIONS], dtype=np.float64) / max(1, len(labels))
    return {
        "track_id": track_id,
        "label": f"Person {track_id}",
        "first_t": round(frames[first_i].t, 3),
        "last_t": round(frames[last_i].t, 3),
        "frames_with_face": len(track.faces),
        "assessable_frames": len(readable),
        "mean_face_px": round(track.mean_px, 1),
        "dominant_emotion": dominant,
        "distribution": probabilities_dict(shares),
        "mean_probabilities": probabilities_dict(mean),
        "indicators": indicators(states, interval, options.sustained_negative_s),
        "unassessable": dict(Counter(str(f.reason) for _, f in track.faces if f.reason is not None)),
        "crop": crop,
        "timeline": [{"t": round(t, 3), "emotion": EMOTIONS[int(k)], "probabilities": probabilities_dict(p)}
                     for t, p, k in zip(times, smoothed_p, smoothed_i, strict=True)],
        "segments": segments(states, interval),
    }


def _best_crop(track: _Track) -> str | None:
    """The kept crop of the clearest face of the track (readable first, then sharpest × largest)."""
    candidates = [f for _, f in track.faces if f.crop]
    if not candidates:
        return None

    def clarity(f: FaceObservation) -> tuple[bool, float]:
        q = f.quality
        return (f.assessable, (q.sharpness * q.face_px) if q else 0.0)

    return max(candidates, key=clarity).crop


def build_document(frames: Sequence[FrameObservation], *, duration_s: float, options: AggregateOptions,
                   model: dict[str, Any], person_crop: Callable[[int], str | None] | None = None) -> dict[str, Any]:
    """The version-2 result document (``AnalysisResultOut`` shape, without ``upgraded_from``).

    Faces of tracks too short to be a person lose their track and are marked ``brief`` (in place).
    ``person_crop(raw tracker id)`` is asked, for each person kept, for a crop picturing them (preferred over
    the frame crops).
    """
    interval = sample_interval(frames, options.sample_fps)
    by_raw: dict[int, _Track] = defaultdict(lambda: _Track(-1))
    for i, frame in enumerate(frames):
        for face in frame.faces:
            if face.track is not None:
                track = by_raw[face.track]
                track.raw = face.track
                track.faces.append((i, face))
    needed = min_track_frames(interval, options.min_track_s, len(frames))
    kept: list[_Track] = []
    for track in by_raw.values():
        if len(track.faces) >= needed:
            kept.append(track)
            continue
        for _, face in track.faces:
            face.track = None
    for frame in frames:
        for face in frame.faces:
            if face.track is None and face.reason is None:
                face.reason = UnassessableReason.brief
    ordered = _order(kept)
    final_id = {track.raw: rank for rank, track in enumerate(ordered, start=1)}
    people = [_person(rank, track, frames, interval, options,
                      (person_crop(track.raw) if person_crop else None) or _best_crop(track))
              for rank, track in enumerate(ordered, start=1)]
    primary = people[0] if people else None
    frames_doc = [
        {
            "t": round(frame.t, 3),
            "faces": [
                {
                    "track_id": final_id.get(face.track) if face.track is not None else None,
                    "box": face.box.as_list(),
                    "emotion": EMOTIONS[top_index(face.probabilities)],
                    "probabilities": probabilities_dict(face.probabilities),
                    "crop": face.crop,
                    "quality": face.quality.as_dict() if face.quality else None,
                    "assessable": face.assessable,
                    "unassessable_reason": None if face.reason is None else str(face.reason),
                }
                for face in frame.faces
            ],
        }
        for frame in frames
    ]
    zero = probabilities_dict(np.zeros(len(EMOTIONS)))
    summary = {
        "dominant_emotion": primary["dominant_emotion"] if primary else None,
        "distribution": primary["distribution"] if primary else zero,
        "mean_probabilities": primary["mean_probabilities"] if primary else zero,
        "frames_analyzed": len(frames),
        "frames_with_face": sum(1 for f in frames if f.faces),
        "assessable_frames": primary["assessable_frames"] if primary else 0,
        "people_count": len(people),
        "primary_track_id": primary["track_id"] if primary else None,
        "duration_s": round(float(duration_s), 3),
        "sample_fps": float(options.sample_fps),
        "smoothing": options.smoothing.describe(),
        "model": model,
        "indicators": primary["indicators"] if primary else None,
    }
    return {"schema_version": SCHEMA_VERSION, "summary": summary, "people": people,
            "primary_track_id": summary["primary_track_id"], "frames": frames_doc}


def unassessable_counts(frames: Sequence[FrameObservation]) -> dict[str, int]:
    """Count of unreadable faces per reason over the whole video (for the no-assessable-face message)."""
    return dict(Counter(str(f.reason) for frame in frames for f in frame.faces if f.reason is not None))

"""Turning per-face probabilities into the result document: timeline, summary and wellbeing indicators.

Pure functions over plain data, no I/O. Definitions (documented for the result's readers):

* A *face-frame* is a sampled frame with at least one face; its *subject* is its largest face (face 0).
  Summary and indicators describe the subject; every face stays in the timeline.
* ``mean_probabilities``: mean of the subject's probabilities over face-frames;
  ``dominant_emotion`` is its argmax (None without any face).
* ``distribution``: majority vote, the share of face-frames whose top emotion is each label.
* ``negative_share``: share of face-frames whose top emotion is angry, disgust, fear or sad.
* ``longest_negative_run_s``: the longest stretch of consecutive face-frames with a negative top
  emotion, in seconds (each frame counts for one sampling interval; a frame without a face ends a run).
* ``sustained_negative_affect``: that stretch lasts at least ``sustained_negative_s`` (default 3 s).
* ``expression_variability``: normalised Shannon entropy of ``distribution`` (0: one emotion
  throughout, 1: all seven equally often).
* ``emotion_changes_per_min``: changes of the subject's top emotion between consecutive face-frames,
  per minute of face-frame time, after a 3-frame majority filter (a one-frame flicker of the classifier is
  not a change of expression).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bloomwell_ml.labels import EMOTIONS, NEGATIVE_EMOTIONS

_NEGATIVE_INDEX = np.array([label in NEGATIVE_EMOTIONS for label in EMOTIONS])


@dataclass(slots=True)
class FaceObservation:
    """One classified face: box ``[x, y, w, h]``, probabilities in :data:`EMOTIONS` order, crop name."""

    box: list[int]
    probabilities: np.ndarray
    crop: str | None = None


@dataclass(slots=True)
class FrameObservation:
    """One sampled frame at ``t`` seconds with its faces, largest first."""

    t: float
    faces: list[FaceObservation] = field(default_factory=list)


DIGITS = 4
"""Probabilities are stored rounded to this many digits."""


def top_index(p: np.ndarray) -> int:
    """Index of the top emotion, taken on the rounded values the document stores, so a reader who takes
    the argmax of the stored probabilities (first label on a tie) gets the same label."""
    return int(np.argmax(np.round(np.asarray(p, dtype=np.float64), DIGITS)))


def probabilities_dict(p: np.ndarray, digits: int = DIGITS) -> dict[str, float]:
    """``{label: probability}`` in :data:`EMOTIONS` order, rounded for the JSON document."""
    return {label: round(float(v), digits) for label, v in zip(EMOTIONS, p, strict=True)}


def frames_document(frames: Sequence[FrameObservation]) -> list[dict]:
    """The ``frames`` list of the result (``FrameResult`` shape)."""
    return [
        {
            "t": round(f.t, 3),
            "faces": [
                {
                    "box": list(face.box),
                    "emotion": EMOTIONS[top_index(face.probabilities)],
                    "probabilities": probabilities_dict(face.probabilities),
                    "crop": face.crop,
                }
                for face in f.faces
            ],
        }
        for f in frames
    ]


def _runs(flags: Sequence[bool]) -> int:
    """Length of the longest run of True values."""
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def majority_filter(labels: np.ndarray, window: int = 3) -> np.ndarray:
    """Each label replaced by the most frequent one in the centred window (the label itself on a tie)."""
    if len(labels) < window:
        return labels
    half = window // 2
    out = labels.copy()
    for i in range(len(labels)):
        values, counts = np.unique(labels[max(0, i - half) : i + half + 1], return_counts=True)
        if counts.max() > 1:
            out[i] = values[int(np.argmax(counts))]
    return out


def compute_indicators(
    frames: Sequence[FrameObservation], sample_interval_s: float, sustained_negative_s: float = 3.0
) -> dict:
    """The ``indicators`` block (``Indicators`` shape); see the module docstring for definitions."""
    subject = [f.faces[0].probabilities for f in frames if f.faces]
    if not subject:
        return {
            "negative_share": 0.0,
            "sustained_negative_affect": False,
            "longest_negative_run_s": 0.0,
            "expression_variability": 0.0,
            "emotion_changes_per_min": 0.0,
        }
    top = np.array([top_index(p) for p in subject], dtype=np.int64)
    negative = _NEGATIVE_INDEX[top]
    # A run is broken by a frame without a face: build the flag sequence over all sampled frames.
    flags = [bool(_NEGATIVE_INDEX[top_index(f.faces[0].probabilities)]) if f.faces else False for f in frames]
    longest_s = _runs(flags) * sample_interval_s
    votes = np.bincount(top, minlength=len(EMOTIONS)) / len(top)
    nonzero = votes[votes > 0]
    entropy = float(-(nonzero * np.log(nonzero)).sum() / math.log(len(EMOTIONS)))
    steady = majority_filter(top)
    changes = int(np.count_nonzero(steady[1:] != steady[:-1]))
    minutes = len(top) * sample_interval_s / 60.0
    return {
        "negative_share": round(float(negative.mean()), 4),
        "sustained_negative_affect": bool(longest_s >= sustained_negative_s - 1e-9),
        "longest_negative_run_s": round(longest_s, 3),
        "expression_variability": round(max(0.0, min(1.0, entropy)), 4),
        "emotion_changes_per_min": round(changes / minutes, 3) if minutes > 0 else 0.0,
    }


def sample_interval(frames: Sequence[FrameObservation], sample_fps: float) -> float:
    """Seconds one sampled frame stands for: the median gap between frames, never below ``1 / sample_fps``
    (a video with fewer frames per second than requested is sampled at its own rate)."""
    nominal = 1.0 / sample_fps
    if len(frames) < 2:
        return nominal
    gaps = np.diff([f.t for f in frames])
    return max(nominal, float(np.median(gaps)))


def build_summary(
    frames: Sequence[FrameObservation],
    *,
    duration_s: float,
    sample_fps: float,
    model_name: str,
    model_version: str,
    sustained_negative_s: float = 3.0,
) -> dict:
    """The ``summary`` block (``Summary`` shape) of the result."""
    subject = np.array([f.faces[0].probabilities for f in frames if f.faces], dtype=np.float64)
    if len(subject):
        mean = subject.mean(axis=0)
        votes = np.bincount([top_index(p) for p in subject], minlength=len(EMOTIONS)) / len(subject)
        dominant: str | None = EMOTIONS[top_index(mean)]
    else:
        mean = np.zeros(len(EMOTIONS))
        votes = np.zeros(len(EMOTIONS))
        dominant = None
    return {
        "dominant_emotion": dominant,
        "distribution": probabilities_dict(votes),
        "mean_probabilities": probabilities_dict(mean),
        "frames_analyzed": len(frames),
        "frames_with_face": int(len(subject)),
        "duration_s": round(float(duration_s), 3),
        "sample_fps": float(sample_fps),
        "model": {"name": model_name, "version": model_version},
        "indicators": compute_indicators(frames, sample_interval(frames, sample_fps), sustained_negative_s),
    }

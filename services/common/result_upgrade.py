"""Serving results stored before the version-2 document: a version-1 row is converted on read.

Version 1 followed the largest face of each frame and summarised it as one subject. The upgrade makes that subject
the one person (track 1, "Person 1"), keeps every other face in the timeline without a track, and rebuilds the
person's timeline and indicators with version 1's own smoothing (the 3-frame majority filter its indicators used),
so an old report shows what was computed then — never a re-analysis. Quality was not measured then: every face
counts as assessable and carries no ``quality`` record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import SCHEMA_VERSION
from services.common.timeline import NOT_VISIBLE, FrameState, indicators, segments

V1_SMOOTHING = "3-frame majority filter (version 1 result)"
V1_TRACK_ID = 1


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
    nominal = 1.0 / sample_fps if sample_fps > 0 else 0.2
    gaps = sorted(b["t"] - a["t"] for a, b in zip(frames, frames[1:], strict=False))
    return max(nominal, gaps[len(gaps) // 2]) if gaps else nominal


def upgrade_v1(summary: dict[str, Any], frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The version-2 document for a version-1 ``summary`` and ``frames``."""
    sample_fps = float(summary.get("sample_fps") or 5.0)
    interval = _interval(frames, sample_fps)
    subject_frames = [f for f in frames if f.get("faces")]
    raw_labels = [f["faces"][0]["emotion"] for f in subject_frames]
    smooth = iter(majority_filter(raw_labels))
    smoothed_by_t = {f["t"]: next(smooth) for f in subject_frames}

    new_frames = []
    for frame in frames:
        faces = []
        for index, face in enumerate(frame.get("faces") or []):
            faces.append({**face, "track_id": V1_TRACK_ID if index == 0 else None, "quality": None,
                          "assessable": True, "unassessable_reason": None})
        new_frames.append({"t": frame["t"], "faces": faces})

    old_indicators = summary.get("indicators") or {}
    person: dict[str, Any] | None = None
    if subject_frames:
        first, last = subject_frames[0]["t"], subject_frames[-1]["t"]
        span = [f for f in frames if first <= f["t"] <= last]
        states = [FrameState(f["t"], smoothed_by_t.get(f["t"]), None if f["t"] in smoothed_by_t else NOT_VISIBLE)
                  for f in span]
        person_indicators = indicators(states, interval, 3.0)
        assert person_indicators is not None
        # Figures version 1 computed itself are kept as stored (its definitions: raw top labels per face-frame).
        for key in ("negative_share", "sustained_negative_affect", "longest_negative_run_s", "expression_variability"):
            if key in old_indicators:
                person_indicators[key] = old_indicators[key]
        sizes = [min(f["faces"][0]["box"][2], f["faces"][0]["box"][3]) for f in subject_frames]
        crop = next((f["faces"][0].get("crop") for f in subject_frames if f["faces"][0].get("crop")), None)
        person = {
            "track_id": V1_TRACK_ID,
            "label": "Person 1",
            "first_t": first,
            "last_t": last,
            "frames_with_face": len(subject_frames),
            "assessable_frames": len(subject_frames),
            "mean_face_px": round(sum(sizes) / len(sizes), 1),
            "dominant_emotion": summary.get("dominant_emotion"),
            "distribution": summary.get("distribution") or {},
            "mean_probabilities": summary.get("mean_probabilities") or {},
            "indicators": person_indicators,
            "unassessable": {},
            "crop": crop,
            "timeline": [
                {"t": f["t"], "emotion": smoothed_by_t[f["t"]], "probabilities": f["faces"][0]["probabilities"]}
                for f in subject_frames
            ],
            "segments": segments(states, interval),
        }
    model = dict(summary.get("model") or {"name": "unknown", "version": "unknown"})
    model.setdefault("temperature", 1.0)
    model.setdefault("detector", None)
    primary = V1_TRACK_ID if person else None
    new_summary = {
        "dominant_emotion": summary.get("dominant_emotion"),
        "distribution": summary.get("distribution") or {},
        "mean_probabilities": summary.get("mean_probabilities") or {},
        "frames_analyzed": summary.get("frames_analyzed", len(frames)),
        "frames_with_face": summary.get("frames_with_face", len(subject_frames)),
        "assessable_frames": len(subject_frames),
        "people_count": 1 if person else 0,
        "primary_track_id": primary,
        "duration_s": summary.get("duration_s", 0.0),
        "sample_fps": sample_fps,
        "smoothing": V1_SMOOTHING,
        "model": model,
        "indicators": person["indicators"] if person else None,
    }
    return {"schema_version": SCHEMA_VERSION, "upgraded_from": 1, "summary": new_summary,
            "people": [person] if person else [], "primary_track_id": primary, "frames": new_frames}


def result_document(summary: dict[str, Any], frames: list[dict[str, Any]], people: list[dict[str, Any]] | None,
                    schema_version: int | None) -> dict[str, Any]:
    """The version-2 document of a stored result row, whichever version it was stored in."""
    if (schema_version or 1) >= SCHEMA_VERSION and people is not None:
        return {"schema_version": SCHEMA_VERSION, "summary": summary, "people": people,
                "primary_track_id": summary.get("primary_track_id"), "frames": frames}
    return upgrade_v1(summary, frames)

"""Pure helpers over one person's per-frame states, shared by the worker's aggregation and the v1 upgrade.

A *state* per sampled frame is either an expression label (the person was read), an unassessable reason (the face
was there but could not be read), or ``not_visible`` (no face of this person in that frame).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bloomwell_ml.labels import EMOTIONS, NEGATIVE_EMOTIONS
from services.common.analysis import Emotion, GapReason
from services.common.durations import SECONDS_DIGITS, total_seconds
from services.common.schemas import Indicators, Segment


@dataclass(frozen=True, slots=True)
class FrameState:
    """One sampled frame of one person: ``emotion`` when read, else ``gap_reason`` (a reason or ``not_visible``).

    ``end_t``: where the frame's stretch of video ends (:func:`frame_bounds`); when None, at the next state's time
    (the last one lasts the sampling interval)."""

    t: float
    emotion: Emotion | None
    gap_reason: GapReason | None = None
    end_t: float | None = None
    unclear: bool = False
    """Read, but in a stretch whose expression the model was unsure of (:func:`rate_segments`)."""


def _ends(states: Sequence[FrameState], interval_s: float) -> list[float]:
    """Where each state's stretch ends (its ``end_t``, else the next state's time, the last one ``interval_s`` on)."""
    return [
        round(s.end_t if s.end_t is not None else (states[i + 1].t if i + 1 < len(states) else s.t + interval_s),
              SECONDS_DIGITS)
        for i, s in enumerate(states)
    ]


def segments(states: Sequence[FrameState], interval_s: float) -> list[Segment]:
    """Consecutive frames with the same emotion (or the same gap reason) merged into segments.

    A frame lasts until its ``end_t`` (by default the next frame's time; the last one lasts ``interval_s``).
    """
    out: list[Segment] = []
    ends = _ends(states, interval_s)
    for i, state in enumerate(states):
        end = ends[i]
        gap_reason = None if state.emotion else state.gap_reason
        if out and (out[-1].emotion, out[-1].gap_reason) == (state.emotion, gap_reason):
            out[-1].end_t = end
        else:
            out.append(Segment(start_t=round(state.t, 3), end_t=end, emotion=state.emotion, gap_reason=gap_reason))
    return out


def rate_segments(segs: Sequence[Segment], faces: Sequence[tuple[float, Mapping[str, float]]],
                  unclear_below: float) -> list[Segment]:
    """Each segment with its ``confidence`` — the mean probability of its expression over the readable faces inside
    it (``faces``: time and calibrated probabilities) — and whether that makes it ``unclear``. The one computation
    of "how sure": the worker stores it, the web app shows it."""
    out = []
    for i, seg in enumerate(segs):
        if seg.emotion is None:
            out.append(seg.model_copy(update={"confidence": None, "unclear": False}))
            continue
        last = i == len(segs) - 1
        inside = [p for t, p in faces
                  if seg.start_t - 1e-6 <= t and (t < seg.end_t - 1e-6 or (last and t <= seg.end_t + 1e-6))]
        if not inside:
            out.append(seg.model_copy(update={"confidence": None, "unclear": False}))
            continue
        confidence = round(math.fsum(p.get(seg.emotion, 0.0) for p in inside) / len(inside), 4)
        out.append(seg.model_copy(update={"confidence": confidence, "unclear": confidence < unclear_below}))
    return out


def mark_unclear(states: Sequence[FrameState], segs: Sequence[Segment]) -> list[FrameState]:
    """The states with ``unclear`` set where they fall in an unclear segment."""
    spans = [(s.start_t, s.end_t) for s in segs if s.unclear]
    return [dataclasses.replace(s, unclear=any(a - 1e-6 <= s.t < b - 1e-6 for a, b in spans)) if s.emotion else s
            for s in states]


def longest_run(flags: Sequence[bool]) -> int:
    """Length of the longest run of True values."""
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def longest_seconds(flags: Sequence[bool], spans: Sequence[float]) -> float:
    """Seconds of the longest run of True values, each frame counting its span."""
    best = current = 0.0
    for flag, span in zip(flags, spans, strict=True):
        current = current + span if flag else 0.0
        best = max(best, current)
    return round(best, SECONDS_DIGITS)


def changes(labels: Sequence[str]) -> int:
    """How often consecutive labels differ."""
    return sum(1 for a, b in zip(labels, labels[1:], strict=False) if a != b)


def distribution(labels: Sequence[str]) -> dict[str, float]:
    """Share of ``labels`` per emotion, in :data:`EMOTIONS` order (all zero for no labels)."""
    n = len(labels)
    return {label: round(sum(1 for x in labels if x == label) / n, 4) if n else 0.0 for label in EMOTIONS}


def normalised_entropy(shares: dict[str, float]) -> float:
    """Shannon entropy of a distribution over the seven labels, divided by its maximum (0..1)."""
    values = [v for v in shares.values() if v > 0]
    entropy = -sum(v * math.log(v) for v in values)
    return round(max(0.0, min(1.0, entropy / math.log(len(EMOTIONS)))), 4)


def indicators(states: Sequence[FrameState], interval_s: float, sustained_negative_s: float) -> Indicators | None:
    """The indicators of one person from its (smoothed) per-frame states; None if never read.

    Unclear stretches (the model was unsure, :func:`mark_unclear`) are skipped: they count as readable time but
    never as negative. Runs of negative expression are broken by any frame that was not clearly read as negative (a
    gap included): the longest run is the longest stretch *seen* to be negative. A rate per minute is given only when
    at least 60 s were read; shorter clips report counts and durations.
    """
    read = [s.emotion for s in states if s.emotion]
    if not read:
        return None
    spans = [round(end - s.t, SECONDS_DIGITS) for s, end in zip(states, _ends(states, interval_s), strict=True)]
    observed_s = total_seconds(span for s, span in zip(states, spans, strict=True) if s.emotion)
    negative = [s.emotion in NEGATIVE_EMOTIONS and not s.unclear for s in states]
    longest_s = longest_seconds(negative, spans)
    n_changes = changes(read)
    shares = distribution(read)
    return Indicators(
        observed_s=round(observed_s, 3),
        negative_share=round(sum(negative) / len(read), 4),
        sustained_negative_affect=bool(longest_s >= sustained_negative_s - 1e-9),
        sustained_negative_s=float(sustained_negative_s),
        longest_negative_run_s=round(longest_s, 3),
        expression_changes=n_changes,
        expression_variability=normalised_entropy(shares),
        emotion_changes_per_min=round(n_changes / (observed_s / 60.0), 3) if observed_s >= 60.0 else None,
    )

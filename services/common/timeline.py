"""Pure helpers over one person's per-frame states, shared by the worker's aggregation and the v1 upgrade.

A *state* per sampled frame is either an expression label (the person was read), an unassessable reason (the face
was there but could not be read), or ``not_visible`` (no face of this person in that frame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bloomwell_ml.labels import EMOTIONS, NEGATIVE_EMOTIONS
from services.common.analysis import Emotion, GapReason
from services.common.schemas import Indicators, Segment


@dataclass(frozen=True, slots=True)
class FrameState:
    """One sampled frame of one person: ``emotion`` when read, else ``gap_reason`` (a reason or ``not_visible``)."""

    t: float
    emotion: Emotion | None
    gap_reason: GapReason | None = None


def segments(states: Sequence[FrameState], interval_s: float) -> list[Segment]:
    """Consecutive frames with the same emotion (or the same gap reason) merged into segments.

    A frame lasts until the next frame's time; the last one lasts ``interval_s``.
    """
    out: list[Segment] = []
    for i, state in enumerate(states):
        end = round(states[i + 1].t if i + 1 < len(states) else state.t + interval_s, 3)
        gap_reason = None if state.emotion else state.gap_reason
        if out and (out[-1].emotion, out[-1].gap_reason) == (state.emotion, gap_reason):
            out[-1].end_t = end
        else:
            out.append(Segment(start_t=round(state.t, 3), end_t=end, emotion=state.emotion, gap_reason=gap_reason))
    return out


def longest_run(flags: Sequence[bool]) -> int:
    """Length of the longest run of True values."""
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


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

    Runs of negative expression are broken by any frame that was not read as negative (a gap included): the
    longest run is the longest stretch *seen* to be negative. A rate per minute is given only when at least
    60 s were read; shorter clips report counts and durations.
    """
    read = [s.emotion for s in states if s.emotion]
    if not read:
        return None
    observed_s = len(read) * interval_s
    negative = [s.emotion in NEGATIVE_EMOTIONS for s in states]
    longest_s = longest_run(negative) * interval_s
    n_changes = changes(read)
    shares = distribution(read)
    return Indicators(
        observed_s=round(observed_s, 3),
        negative_share=round(sum(1 for e in read if e in NEGATIVE_EMOTIONS) / len(read), 4),
        sustained_negative_affect=bool(longest_s >= sustained_negative_s - 1e-9),
        sustained_negative_s=float(sustained_negative_s),
        longest_negative_run_s=round(longest_s, 3),
        expression_changes=n_changes,
        expression_variability=normalised_entropy(shares),
        emotion_changes_per_min=round(n_changes / (observed_s / 60.0), 3) if observed_s >= 60.0 else None,
    )

"""How long things were seen, in one place: every duration in the result document (a person seen, readable, the
indicators' seconds, the segments' ends) is a sum of the stretches of video the sampled frames stand for.

A sampled frame stands for the video from its time until the next sampled frame (the last one for one sampling
interval), clipped to the video's length. Summing stretches of distinct frames can never exceed the video's
length, so *readable ≤ seen ≤ video length* holds by construction, and a reader who adds up the ``span_s`` of the
frames (JSON or CSV) gets the same figures as the document's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

SECONDS_DIGITS = 3
"""Times and durations are stored rounded to this many digits (milliseconds)."""


def frame_bounds(times: Sequence[float], interval_s: float, duration_s: float) -> list[float]:
    """The ``len(times) + 1`` boundaries of the stretches of video the sampled frames stand for: frame ``i`` stands
    for ``[bounds[i], bounds[i + 1])`` — until the next sampled frame, the last one for ``interval_s`` — every
    boundary clipped to ``[0, duration_s]`` and rounded to milliseconds.

    This is the one definition of how long anything was seen: a duration is a sum of these stretches, so figures
    summed over any subset of frames never exceed ``duration_s`` (the sum telescopes), by construction.
    """
    limit = round(max(0.0, duration_s), SECONDS_DIGITS)
    bounds = [min(limit, round(max(0.0, t), SECONDS_DIGITS)) for t in times]
    if times:
        bounds.append(min(limit, round(max(0.0, times[-1] + interval_s), SECONDS_DIGITS)))
    for i in range(1, len(bounds)):  # never decreasing, even for out-of-order input
        bounds[i] = max(bounds[i], bounds[i - 1])
    return bounds


def frame_spans(bounds: Sequence[float]) -> list[float]:
    """Seconds each sampled frame stands for (:func:`frame_bounds`), rounded to milliseconds."""
    return [round(b - a, SECONDS_DIGITS) for a, b in zip(bounds, bounds[1:], strict=False)]


def total_seconds(spans: Iterable[float]) -> float:
    """The sum of frame spans, rounded to milliseconds (how every stored duration is added up)."""
    return round(math.fsum(spans), SECONDS_DIGITS)

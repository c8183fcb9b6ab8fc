"""The report's "How the time divides" as the web app computes it (``frontend/src/domain/timeline.ts``
``timeSplit``), written again over a stored result document's person as the tests' oracle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def time_split(person: Mapping[str, Any]) -> tuple[dict[str, float], float]:
    """Each expression's clear share of the readable time (its ``distribution`` share less its frames inside unclear
    segments) and the unclear share."""
    unclear = [(s["start_t"], s["end_t"]) for s in person["segments"] if s.get("emotion") and s.get("unclear")]
    clear: dict[str, float] = {}
    moved = 0.0
    for emotion, share in person["distribution"].items():
        mine = [p for p in person["timeline"] if p["emotion"] == emotion]
        unsure = sum(1 for p in mine if any(a - 1e-6 <= p["t"] < b - 1e-6 for a, b in unclear))
        part = share * unsure / len(mine) if mine else 0.0
        clear[emotion] = share - part
        moved += part
    return clear, moved

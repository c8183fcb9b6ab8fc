"""The emotion label space used everywhere in Bloomwell, in its one canonical order."""

from typing import Final

EMOTIONS: Final[tuple[str, ...]] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
"""The seven classes, in the order every model output, table and chart uses."""

NEGATIVE_EMOTIONS: Final[frozenset[str]] = frozenset({"angry", "disgust", "fear", "sad"})
"""Classes counted as negative affect by the wellbeing indicators."""

NUM_CLASSES: Final[int] = len(EMOTIONS)

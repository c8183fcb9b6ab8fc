"""Label mappings from each source's own label scheme to Bloomwell's seven classes."""

from __future__ import annotations

from bloomwell_ml.labels import EMOTIONS

LABEL_TO_INDEX: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}

# Folder names seen in public datasets -> canonical label (None = drop, e.g. contempt).
NAME_ALIASES: dict[str, str | None] = {
    "anger": "angry", "angry": "angry", "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "happy": "happy", "happiness": "happy", "joy": "happy",
    "neutral": "neutral", "sad": "sad", "sadness": "sad", "surprise": "surprise", "surprised": "surprise",
    "contempt": None,
}

# RAF-DB basic: 1 surprise, 2 fear, 3 disgust, 4 happiness, 5 sadness, 6 anger, 7 neutral.
RAFDB_TO_LABEL: dict[int, str] = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry",
                                  7: "neutral"}

# AffectNet (8-class): 0 neutral, 1 happy, 2 sad, 3 surprise, 4 fear, 5 disgust, 6 anger, 7 contempt (dropped).
AFFECTNET_TO_LABEL: dict[int, str | None] = {0: "neutral", 1: "happy", 2: "sad", 3: "surprise", 4: "fear",
                                             5: "disgust", 6: "angry", 7: None}


def name_to_index(name: str) -> int | None:
    """Index of a class name or alias (case-insensitive); None for classes we drop; KeyError if unknown."""
    key = name.strip().lower()
    if key not in NAME_ALIASES:
        raise KeyError(f"unknown expression label {name!r}")
    canon = NAME_ALIASES[key]
    return None if canon is None else LABEL_TO_INDEX[canon]

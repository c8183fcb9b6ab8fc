"""The analysis contract shared by the gateway, the worker and the web app: stages, error codes, the reasons a face
is not assessable, the result schema version, the sample-rate range and the sentences shown to people.

One definition of each: the gateway validates against these, the worker reports them, the OpenAPI schema (and the
web app's generated types) carry them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

SCHEMA_VERSION: Final[Literal[2]] = 2
"""Version of the result document the worker writes (see :mod:`services.common.schemas`)."""

MIN_SAMPLE_FPS: Final[float] = 0.5
MAX_SAMPLE_FPS: Final[float] = 30.0
DEFAULT_SAMPLE_FPS: Final[float] = 5.0
"""Frames analysed per second of video: the accepted range and the default."""


UNCLEAR_BELOW: Final[float] = 0.50
"""A stretch of a person's timeline whose expression the model gave, on average over its readable frames, a
probability under this is reported as *unclear* instead of naming the expression, and the indicators skip it.

From the shipped model's calibration figures (``python -m training.unclear_threshold``; rerun it after changing the
model and set this from its output): expression-ensemble 3.0.0 on the worker's CPU path (ONNX, no TTA, its fitted
temperature 0.958) over FER2013 test, judged against the FER+ majority labels (6,300 images): accuracy is under 50 %
in every well-filled bin of top probability below 0.50 (0.45–0.50: 49 %, 441 images; 0.50–0.55: 52 %; 0.60–0.65:
65 %); 19.8 % of the images fall under it, 41 % of those are right against 81 % of the others. Against the FER2013
labels: the same 0.50 (22.0 % under). 2.2.0 (overconfident at temperature 1) needed 0.75 for the same rule."""


DEFAULT_MAX_FRAME_PIXELS: Final[int] = 3840 * 2160
"""Largest frame (width × height) accepted at upload; the worker shrinks anything larger right after decoding."""
DEFAULT_MIN_FRAME_SIDE_PX: Final[int] = 32
"""Smallest width/height accepted at upload: face detection needs more than a few pixels."""


def clamp_sample_fps(value: float | None, default: float = DEFAULT_SAMPLE_FPS) -> float:
    """The sampling rate to use: ``value`` (or ``default`` when unset) kept within the accepted range."""
    fps = value if value and value > 0 else default
    return float(min(MAX_SAMPLE_FPS, max(MIN_SAMPLE_FPS, fps)))


class Emotion(StrEnum):
    """An expression label: the model's seven classes, in their canonical order (``bloomwell_ml.labels.EMOTIONS``)."""

    angry = "angry"
    disgust = "disgust"
    fear = "fear"
    happy = "happy"
    neutral = "neutral"
    sad = "sad"
    surprise = "surprise"


class Stage(StrEnum):
    """Where a job is, as reported in ``stage`` while it runs and after it ends."""

    queued = "queued"
    probing = "probing"
    analyzing = "analyzing"
    summarizing = "summarizing"
    saving = "saving"
    done = "done"
    failed = "failed"


LEGACY_STAGES: Final[dict[str, Stage]] = {"detecting": Stage.analyzing, "classifying": Stage.analyzing}
"""Stages older workers wrote, as they read today (a row written then may still be read)."""


def stored_stage(value: object) -> object:
    """A stage as stored or published, with the names of :data:`LEGACY_STAGES` mapped to today's."""
    return LEGACY_STAGES.get(value, value) if isinstance(value, str) else value


class ErrorCode(StrEnum):
    """``error_code`` of a failed analysis."""

    unreadable_video = "unreadable_video"
    no_frames = "no_frames"
    no_face = "no_face"
    no_assessable_face = "no_assessable_face"
    timeout = "timeout"
    invalid_result = "invalid_result"
    internal = "internal"


class UnassessableReason(StrEnum):
    """Why a face was not read (it stays in the timeline, marked, and feeds no summary or indicator)."""

    too_small = "too_small"
    blurred = "blurred"
    too_dark = "too_dark"
    overexposed = "overexposed"
    low_contrast = "low_contrast"
    turned_away = "turned_away"
    brief = "brief"


REASON_PHRASES: Final[dict[UnassessableReason, str]] = {
    UnassessableReason.too_small: "the face was too small in the picture",
    UnassessableReason.blurred: "the face was blurred",
    UnassessableReason.too_dark: "the face was too dark",
    UnassessableReason.overexposed: "the face was over-exposed",
    UnassessableReason.low_contrast: "the picture of the face had too little contrast",
    UnassessableReason.turned_away: "the face was turned away from the camera",
    UnassessableReason.brief: "the face was visible only for a moment",
}
"""Plain words for each reason, used in the failure message of a video without any assessable face."""

NOT_VISIBLE: Final[Literal["not_visible"]] = "not_visible"
"""The gap reason of a stretch in which a person's face was not in the picture at all."""

GapReason = UnassessableReason | Literal["not_visible"]
"""Why a stretch of a person's timeline has no expression: an unassessable reason, or :data:`NOT_VISIBLE`."""

GAP_PHRASES: Final[dict[str, str]] = {
    **{reason.value: phrase for reason, phrase in REASON_PHRASES.items()},
    NOT_VISIBLE: "this person was not in the picture",
}
"""Plain words for every gap reason of a person's timeline (published in ``GET /v1/config`` for the web app)."""

MESSAGES: Final[dict[str, str]] = {
    "unreadable_video": "We could not read this video. The file may be damaged or use an unsupported codec.",
    "missing_video": "The uploaded video is no longer available, so it could not be analysed. Please upload it again.",
    "no_frames": "The video contains no frames that could be decoded.",
    "no_face": "No face was found in this video. Please record with your face clearly visible and well lit.",
    "timeout": "The analysis took too long and was stopped. Please try a shorter video.",
    "invalid_result": "The analysis produced a result we could not store, so it was stopped. This is a fault on our "
    "side, not your video's; please try again later.",
    "attempts": "The analysis failed repeatedly on our side and was stopped. Please try again later.",
    "internal": "Something went wrong on our side while analysing this video. Please try again later.",
    "model": "The emotion model is not available on the server. Please try again later.",
}
"""User-facing sentences of the worker's failures (``error``), keyed by cause."""


def no_assessable_face_message(reason_counts: dict[str, int]) -> str:
    """The sentence for a video where faces were found but none could be read, naming the commonest reason."""
    ordered = sorted(reason_counts.items(), key=lambda kv: -kv[1])
    phrases = [REASON_PHRASES[UnassessableReason(reason)] for reason, _ in ordered[:2]]
    why = " and ".join(phrases) if phrases else "the face could not be read"
    return (
        f"We found a face but could not read its expression: {why}. "
        "Please record again facing the camera, closer, in even light, and hold still for a moment."
    )

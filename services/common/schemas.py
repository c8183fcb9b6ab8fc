"""The result document: one pydantic model built by the worker (``inference_worker.aggregate.build_document``), by
the version-1 upgrade (``common.result_upgrade.upgrade_v1``) and read by the gateway; the worker stores its
``model_dump(mode="json")``, so a document that does not validate fails the job (``invalid_result``) instead of a
failed read later. Numbers must be finite (a NaN from a broken model is refused here).

Version 2 (``schema_version: 2``) describes each *person* (a face track) separately: ``people`` holds one entry
per person with a smoothed expression timeline and its own indicators, ``summary`` describes the primary person
(seen longest, then largest) and says how many people were seen, and every face of ``frames`` carries its
``track_id``, a ``quality`` record and whether it was ``assessable``. Results stored in version 1 are upgraded on
read (:mod:`services.common.result_upgrade`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.analysis import SCHEMA_VERSION, UNCLEAR_BELOW, Emotion, GapReason, UnassessableReason

Probabilities = dict[str, float]
"""Label → probability, keys in :data:`bloomwell_ml.labels.EMOTIONS` order."""


class DocumentModel(BaseModel):
    """Base of every part of the result document: finite numbers only."""

    model_config = ConfigDict(allow_inf_nan=False)


class FaceQuality(DocumentModel):
    """How readable one face was (measured on the face itself, before classification); the worker's quality gate
    judges the measured values, the document stores them rounded (:meth:`rounded`)."""

    face_px: int = Field(description="the face box's shorter side in source-frame pixels")
    sharpness: float = Field(description="variance of the Laplacian of the 48 px face crop (higher = sharper)")
    brightness: float = Field(description="mean grey level of the face crop, 0-255")
    contrast: float = Field(description="standard deviation of the grey levels of the face crop")
    yaw_deg: float | None = Field(
        default=None, description="head turn estimated from the landmarks (0 = frontal); null without landmarks"
    )
    roll_deg: float | None = Field(
        default=None, description="tilt of the eye line (0 = level); null without landmarks"
    )

    def rounded(self) -> FaceQuality:
        """The stored form: measurements to one decimal."""
        return FaceQuality(
            face_px=self.face_px,
            sharpness=round(self.sharpness, 1),
            brightness=round(self.brightness, 1),
            contrast=round(self.contrast, 1),
            yaw_deg=None if self.yaw_deg is None else round(self.yaw_deg, 1),
            roll_deg=None if self.roll_deg is None else round(self.roll_deg, 1),
        )


class FaceResult(DocumentModel):
    """One detected face in one sampled frame."""

    track_id: int | None = Field(
        description="the person this face belongs to (see `people`); null for a face seen too briefly to follow"
    )
    box: tuple[int, int, int, int] = Field(description="x, y, width, height in source-frame pixels")
    emotion: Emotion | None = Field(
        description="top label of this frame's (raw, unsmoothed) probabilities; null when the face was not assessable "
        "(an unread face is never labelled)"
    )
    probabilities: Probabilities = Field(description="the classifier's calibrated probabilities for this frame")
    crop: str | None = Field(
        default=None, description="file name under /v1/analyses/{id}/crops/; kept for assessable faces only"
    )
    quality: FaceQuality | None = Field(default=None, description="null in results upgraded from version 1")
    assessable: bool = Field(description="false: too small, blurred, dark, turned or brief to read; not summarised")
    unassessable_reason: UnassessableReason | None = Field(default=None, description="why, when not assessable")

    @model_validator(mode="after")
    def _unread_faces_say_nothing(self) -> FaceResult:
        """An unassessable face carries no label and no picture (also in results stored before this rule)."""
        if not self.assessable:
            self.emotion = None
            self.crop = None
        return self


class FrameResult(DocumentModel):
    """One sampled frame of the video."""

    t: float = Field(description="seconds from the start of the video")
    span_s: float = Field(
        description="seconds of video this sampled frame stands for (until the next sampled frame, clipped to the "
        "video's length): every duration of the document is a sum of these"
    )
    faces: list[FaceResult]


class ModelInfo(DocumentModel):
    """Which model produced a result."""

    name: str
    version: str
    temperature: float = Field(default=1.0, description="calibration temperature applied to the logits")
    detector: str | None = Field(default=None, description="the face detector (null in upgraded v1 results)")


class Indicators(DocumentModel):
    """Simple wellbeing observations of one person from the smoothed timeline (observations, not a diagnosis)."""

    observed_s: float = Field(
        description="seconds of video in which this person's face was assessable (equals the person's `readable_s`)"
    )
    negative_share: float = Field(
        description="share of the assessable time whose smoothed expression is angry, disgust, fear or sad and not "
        "unclear (stretches the model was unsure of are skipped)"
    )
    sustained_negative_affect: bool = Field(
        description="true when a clear (not unclear) negative expression lasts without a break for at least "
        "`sustained_negative_s`"
    )
    sustained_negative_s: float = Field(description="the threshold for `sustained_negative_affect`, seconds")
    longest_negative_run_s: float = Field(description="the longest continuous negative stretch, seconds")
    expression_changes: int = Field(description="how often the smoothed expression changed")
    expression_variability: float = Field(
        description="normalised entropy of the distribution, 0 (one expression throughout) to 1 (all seven equally)"
    )
    emotion_changes_per_min: float | None = Field(
        default=None, description="changes per minute, only when at least 60 s were assessable (else null)"
    )


class Segment(DocumentModel):
    """A stretch of one person's smoothed timeline with one expression, or a gap with its reason."""

    start_t: float = Field(description="seconds from the start of the video")
    end_t: float
    emotion: Emotion | None = Field(description="the smoothed expression; null for a gap")
    gap_reason: GapReason | None = Field(
        default=None, description="for a gap: why this stretch could not be read (not_visible: no face of this person)"
    )
    confidence: float | None = Field(
        default=None,
        description="mean calibrated (raw, unsmoothed) probability of `emotion` over the stretch's readable frames; "
        "null for a gap",
    )
    unclear: bool = Field(
        default=False,
        description="true when `confidence` is under the summary's `unclear_below`: the report says the expression "
        "was unclear instead of naming it, and the indicators skip the stretch",
    )


class TimelinePoint(DocumentModel):
    """One sampled frame of one person's smoothed series (assessable frames only)."""

    t: float
    emotion: Emotion = Field(description="the smoothed expression at this frame")
    probabilities: Probabilities = Field(description="the smoothed probabilities at this frame")


class Person(DocumentModel):
    """One person (a face track) over the video."""

    track_id: int
    label: str = Field(description='"Person 1", "Person 2", … in order of time seen, then face size')
    first_t: float
    last_t: float
    frames_with_face: int
    assessable_frames: int
    seen_s: float = Field(
        description="seconds of video in which this person's face was in the picture: the sum of `span_s` of the "
        "frames with their face (≤ the video's `duration_s`)"
    )
    readable_s: float = Field(
        description="seconds of video in which this person's face was assessable: the sum of `span_s` of the frames "
        "with their assessable face (≤ `seen_s`)"
    )
    mean_face_px: float = Field(description="mean shorter side of this person's face boxes, pixels")
    dominant_emotion: Emotion | None = Field(
        description="most frequent smoothed expression; null if never assessable"
    )
    distribution: Probabilities = Field(description="share of the assessable frames per smoothed expression")
    mean_probabilities: Probabilities = Field(description="mean raw probabilities over the assessable frames")
    indicators: Indicators | None = Field(description="null when the person was never assessable")
    unassessable: dict[str, int] = Field(description="count of this person's unassessable frames per reason")
    crop: str | None = Field(description="a representative face crop (the clearest one kept)")
    timeline: list[TimelinePoint]
    segments: list[Segment] = Field(description="the smoothed expression band, with gaps, from first_t to last_t")


class Summary(DocumentModel):
    """Whole-video figures; the emotion figures describe the primary person."""

    dominant_emotion: Emotion | None
    distribution: Probabilities = Field(description="the primary person's share of assessable frames per expression")
    mean_probabilities: Probabilities
    frames_analyzed: int
    frames_with_face: int = Field(description="sampled frames with at least one face")
    assessable_frames: int = Field(description="sampled frames in which the primary person was assessable")
    people_count: int = Field(description="how many people were seen (tracks kept in `people`)")
    primary_track_id: int | None
    duration_s: float
    sample_fps: float
    smoothing: str = Field(description="how the per-person timeline was smoothed")
    unclear_below: float = Field(
        default=UNCLEAR_BELOW,
        description="a segment whose confidence is under this is unclear (from the model's calibration figures)",
    )
    model: ModelInfo
    indicators: Indicators | None = Field(description="the primary person's indicators")


class ResultDocument(DocumentModel):
    """The version-2 result document: what the worker stores (``summary``, ``people``, ``frames``) and
    ``GET /v1/analyses/{id}/result`` serves."""

    schema_version: Literal[2] = SCHEMA_VERSION
    upgraded_from: int | None = Field(
        default=None, description="1 when this result was stored in version 1 and converted on read"
    )
    summary: Summary
    people: list[Person]
    primary_track_id: int | None
    frames: list[FrameResult]

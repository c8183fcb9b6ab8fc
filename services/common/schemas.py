"""Pydantic shapes shared by the worker (which writes results) and the gateway (which serves them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

Probabilities = dict[str, float]
"""Label → probability, keys in :data:`bloomwell_ml.labels.EMOTIONS` order."""


class FaceResult(BaseModel):
    """One detected face in one sampled frame."""

    box: tuple[int, int, int, int] = Field(description="x, y, width, height in source-frame pixels")
    emotion: str
    probabilities: Probabilities
    crop: str | None = Field(default=None, description="file name under /v1/analyses/{id}/crops/")


class FrameResult(BaseModel):
    """One sampled frame of the video."""

    t: float = Field(description="seconds from the start of the video")
    faces: list[FaceResult]


class ModelInfo(BaseModel):
    """Which model produced a result."""

    name: str
    version: str


class Indicators(BaseModel):
    """Simple wellbeing observations derived from the timeline (observations, not a diagnosis)."""

    negative_share: float = Field(
        description="share of face-frames whose emotion is angry, disgust, fear or sad"
    )
    sustained_negative_affect: bool = Field(
        description="true when negative emotions dominate for a continuous stretch of the video"
    )
    longest_negative_run_s: float
    expression_variability: float = Field(description="normalised entropy of the distribution, 0..1")
    emotion_changes_per_min: float


class Summary(BaseModel):
    """Whole-video figures."""

    dominant_emotion: str | None
    distribution: Probabilities = Field(description="majority vote: share of face-frames per label")
    mean_probabilities: Probabilities
    frames_analyzed: int
    frames_with_face: int
    duration_s: float
    sample_fps: float
    model: ModelInfo
    indicators: Indicators


class AnalysisResultOut(BaseModel):
    """``GET /v1/analyses/{id}/result``."""

    summary: Summary
    frames: list[FrameResult]

"""Response bodies of the analyses routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.common.analysis import Emotion, ErrorCode
from services.common.events import StageField
from services.common.models import AnalysisStatus
from services.common.quality import QualityThresholds


class AnalysisCreated(BaseModel):
    """``202`` answer of ``POST /v1/analyses``."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: AnalysisStatus
    created_at: datetime


class AnalysisOut(BaseModel):
    """The state of one analysis job."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: AnalysisStatus
    progress: float
    stage: StageField | None
    error: str | None
    error_code: ErrorCode | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    filename: str
    duration_s: float | None
    sample_fps: float
    keep_video: bool
    dominant_emotion: Emotion | None
    expected_s: float | None = Field(
        default=None,
        description="while queued or processing: seconds the job is expected to take once a worker runs it, from the "
        "workers' measured speed (processing seconds per second of video, a moving figure); null otherwise",
    )


class AnalysisListItem(AnalysisOut):
    """One analysis in the history list, with what a history needs from its result (no extra request per item)."""

    thumbnail_url: str | None = Field(
        default=None,
        description="path of the primary person's representative face crop (fetch it with the Bearer header); "
        "null until succeeded, when no crop was kept, or for results stored before per-person results",
    )
    negative_share: float | None = Field(
        default=None, description="the primary person's `indicators.negative_share`; null when unknown"
    )


class AnalysisPage(BaseModel):
    """A page of the caller's analyses, newest first."""

    items: list[AnalysisListItem]
    next_cursor: str | None


class FaceDetectorConfig(BaseModel):
    """The worker's face detector, for a client that runs the same model file (``GET /v1/config`` ``face_check``)."""

    name: str = Field(description="the detector (yunet: models/face_detector/, served by the web app's own build)")
    model_sha256: str = Field(description="SHA-256 of the model file the worker loads")
    max_side: int = Field(description="frames are scaled to this long side before detection")
    score_threshold: float = Field(description="least confidence of a face that is kept")
    nms_threshold: float = Field(description="overlap (IoU) above which the weaker of two boxes is dropped")
    min_face_px: int = Field(description="smallest face box kept, source pixels")


class FaceCheckConfig(BaseModel):
    """What the worker's quality gate asks of a face, so a client can check the camera picture before recording."""

    quality: QualityThresholds
    image_px: int = Field(description="side of the square grey face image on which sharpness, brightness and "
                          "contrast are measured (the classifier's input)")
    nose_depth_ratio: float = Field(description="the head's turn is atan((nose offset / eye distance) / this)")
    detector: FaceDetectorConfig


class PublicConfig(BaseModel):
    """Limits a client needs before uploading (``GET /v1/config``)."""

    max_upload_bytes: int
    max_duration_s: float
    min_record_s: float
    max_record_s: float
    accepted_extensions: list[str]
    accepted_mime_types: list[str]
    default_sample_fps: float
    min_sample_fps: float
    max_sample_fps: float
    gap_phrases: dict[str, str] = Field(
        description="plain words for each reason a stretch of a person's timeline could not be read"
    )
    face_check: FaceCheckConfig = Field(description="the worker's face detector and quality thresholds")

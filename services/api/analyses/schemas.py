"""Response bodies of the analyses routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.common.analysis import Emotion, ErrorCode
from services.common.events import StageField
from services.common.models import AnalysisStatus


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

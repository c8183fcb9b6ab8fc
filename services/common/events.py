"""Typed progress events published by the worker over Redis pub/sub and relayed by the gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, BeforeValidator, Field

from services.common.analysis import ErrorCode, Stage, stored_stage
from services.common.models import AnalysisStatus

if TYPE_CHECKING:
    import redis
    import redis.asyncio

CHANNEL_PREFIX = "bloomwell:analysis:"

StageField = Annotated[Stage, BeforeValidator(stored_stage)]
"""A job's ``stage`` as read from a row or an event (names older workers wrote are mapped to today's)."""


def channel_for(analysis_id: uuid.UUID | str) -> str:
    """The Redis pub/sub channel carrying one analysis's progress."""
    return f"{CHANNEL_PREFIX}{analysis_id}"


class ProgressEvent(BaseModel):
    """One change of an analysis's state, as pushed to clients (SSE / WebSocket)."""

    analysis_id: uuid.UUID
    status: AnalysisStatus
    progress: float = Field(ge=0.0, le=1.0)
    stage: StageField | None = None
    error: str | None = None
    error_code: ErrorCode | None = None
    expected_s: float | None = Field(
        default=None,
        description="seconds the job is expected to take once a worker runs it, from the measured speed "
        "(services.common.speed); null when the video's length is unknown",
    )
    ts: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def is_terminal(self) -> bool:
        """True when no further event will follow."""
        return self.status.is_terminal


def publish_progress(client: redis.Redis, event: ProgressEvent) -> None:
    """Publish ``event`` on its channel (synchronous client, used by the worker)."""
    client.publish(channel_for(event.analysis_id), event.model_dump_json())


async def publish_progress_async(client: redis.asyncio.Redis, event: ProgressEvent) -> None:
    """Publish ``event`` on its channel (asyncio client, used by the gateway)."""
    await client.publish(channel_for(event.analysis_id), event.model_dump_json())

"""Settings of the API gateway."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.analysis import DEFAULT_MIN_FRAME_SIDE_PX
from services.common.heartbeat import HeartbeatSettings
from services.common.security.settings import TokenSettings
from services.common.settings import REPO_ROOT, AnalysisLimits, QueueSettings

MB = 1024 * 1024


class ApiSettings(TokenSettings, QueueSettings, AnalysisLimits, HeartbeatSettings):
    """Gateway configuration (environment variables of the same names, upper-cased); the queue, the analysis limits
    and ``WORKER_HEARTBEAT_MAX_AGE_S`` (``/readyz``) are the worker's own settings."""

    auth_url: str = "http://127.0.0.1:8001"
    """Where the auth service listens; ``/auth/*`` is forwarded there and its JWKS read from there."""
    max_upload_bytes: int = 100 * MB
    min_frame_side_px: int = Field(default=DEFAULT_MIN_FRAME_SIDE_PX, ge=1)
    """Smallest width or height accepted at upload (no face can be found in less)."""
    upload_idle_timeout_s: float = Field(default=30.0, gt=0)
    """An upload body that sends nothing for this long is cut off (408)."""
    upload_min_bytes_per_s: int = Field(default=8 * 1024, ge=0)
    """After ``upload_rate_grace_s``, an upload slower than this on average is cut off (408)."""
    upload_rate_grace_s: float = Field(default=30.0, ge=0)
    stream_ticket_ttl_s: int = Field(default=30, gt=0)
    """Lifetime of a single-use SSE/WebSocket stream ticket."""
    min_record_s: float = 5.0
    max_record_s: float = 30.0
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"
    cors_origins: list[str] = []
    sse_keepalive_s: float = 15.0
    db_pool_size: int = Field(default=15, ge=1)
    """Database connections each gateway process keeps open (PostgreSQL); requests beyond wait for one."""
    db_max_overflow: int = Field(default=5, ge=0)
    """Extra connections opened under bursts (closed again afterwards, so keep this small)."""

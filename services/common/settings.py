"""Settings shared by every service; each service subclasses :class:`CommonSettings` with its own fields.

Every environment variable Bloomwell reads is a field of one settings class, with its default there and a row in the
README's configuration table (``tests/ops/test_settings_documented.py`` checks both): :class:`CommonSettings` (every
service), :class:`QueueSettings` (the job queue: gateway and worker), :class:`AnalysisLimits` (what is analysed:
gateway and worker), ``services.common.heartbeat.HeartbeatSettings`` (worker liveness: worker, its health check and
the gateway's ``/readyz``) and each service's own class.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.analysis import (
    DEFAULT_MAX_FRAME_PIXELS,
    DEFAULT_SAMPLE_FPS,
    MAX_SAMPLE_FPS,
    MIN_SAMPLE_FPS,
    clamp_sample_fps,
)
from services.common.quality import QualityThresholds

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (where ``models/``, ``frontend/`` and ``.data/`` live)."""

Environment = Literal["local", "test", "production"]

SETTINGS_CONFIG = SettingsConfigDict(
    env_file=".env", env_file_encoding="utf-8", extra="ignore", env_nested_delimiter="__"
)
"""How every settings class reads: environment variables (names upper-cased), then an optional ``.env``."""


class ConfigurationError(RuntimeError):
    """The service is configured in a way it cannot run with; the message says what to change."""


def read_secret_file(variable: str, path: Path) -> str:
    """The contents of a secret file named by ``variable`` (e.g. ``JWT_PRIVATE_KEY_FILE``), or a clear
    :class:`ConfigurationError` naming the file, the reason and the uid that could not read it."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(
            f"{variable}={path} cannot be read: {exc.strerror or exc}. This process runs as uid {os.getuid()} "
            f"(gid {os.getgid()}); make the file readable to it (`make secrets` writes mode 0640, group 1000)."
        ) from exc
    if not text.strip():
        raise ConfigurationError(f"{variable}={path} is empty")
    return text


def normalise_database_url(url: str) -> str:
    """Map plain ``postgresql://`` / ``sqlite://`` URLs to the async drivers Bloomwell uses."""
    for prefix, async_prefix in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return async_prefix + url[len(prefix) :]
    return url


class CommonSettings(BaseSettings):
    """Configuration every service reads from the environment (and an optional ``.env``).

    Where nothing is configured, the embedded local defaults apply: a SQLite database and
    file storage under ``BLOOMWELL_DATA_DIR`` (default ``.data/`` in the repo).
    """

    model_config = SETTINGS_CONFIG

    environment: Environment = "local"
    bloomwell_data_dir: Path = REPO_ROOT / ".data"
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    storage_dir: Path | None = None
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object per log line (``services.common.logs``); the worker tags a job's lines with its
    analysis id either way."""
    trusted_proxies: str = "127.0.0.1,::1"
    """Comma-separated addresses (or CIDR networks) of reverse proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed; requests from anyone else are taken at their socket address."""

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> CommonSettings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.bloomwell_data_dir / 'bloomwell.db'}"
        self.database_url = normalise_database_url(self.database_url)
        if self.storage_dir is None:
            self.storage_dir = self.bloomwell_data_dir / "storage"
        return self

    @property
    def is_local(self) -> bool:
        """True for developer runs and tests, where embedded defaults and generated keys are allowed."""
        return self.environment in ("local", "test")

    @property
    def storage_root(self) -> Path:
        """The storage directory (always set after validation)."""
        assert self.storage_dir is not None
        return self.storage_dir

    def require_configured(self, name: str, value: object) -> None:
        """Refuse to run outside local/test when a secret is missing or left at its default."""
        if not self.is_local and not value:
            raise ValueError(f"{name.upper()} must be configured when ENVIRONMENT={self.environment}")


class AnalysisLimits(BaseSettings):
    """Limits on what is analysed, inherited by the gateway (which checks uploads) and the worker (which obeys
    them), so each variable has one default."""

    model_config = SETTINGS_CONFIG

    max_duration_s: float = Field(default=60.0, gt=0, description="longer videos are refused; the worker stops there")
    default_sample_fps: float = Field(
        default=DEFAULT_SAMPLE_FPS, ge=MIN_SAMPLE_FPS, le=MAX_SAMPLE_FPS, description="frames analysed per second"
    )
    max_frame_pixels: int = Field(
        default=DEFAULT_MAX_FRAME_PIXELS, gt=0,
        description="largest frame (width × height) accepted at upload; the worker shrinks any larger decoded frame",
    )
    quality: QualityThresholds = Field(
        default_factory=QualityThresholds,
        description="quality gate thresholds, e.g. QUALITY__MIN_FACE_PX=24 (defaults measured in bench/README.md): "
        "the worker marks faces outside them not assessable; the gateway publishes them for the web app's face check",
    )

    def clamp_sample_fps(self, value: float | None) -> float:
        """The sampling rate to use for an analysis (its own, or the default, kept within the accepted range)."""
        return clamp_sample_fps(value, self.default_sample_fps)


class QueueSettings(CommonSettings):
    """The job queue between the gateway (producer) and the inference worker (consumer); both inherit these fields,
    so they agree on where the queue is and how long a job may hold a message
    (``services.common.celery_app.create_celery_app``)."""

    celery_broker_url: str = Field(default="", description="the Celery broker; empty: REDIS_URL")
    celery_result_backend: str = Field(default="", description="the Celery result backend; empty: the broker")
    inference_queue: str = Field(
        default="inference", min_length=1, description="the broker queue of analysis jobs (the worker consumes it)"
    )
    task_soft_time_limit_s: int = Field(
        default=300, ge=1, description="a job is stopped after this long (also checked between frame batches)"
    )
    task_time_limit_s: int = Field(default=360, ge=1, description="hard limit (prefork pool: the child is killed)")
    broker_visibility_margin_s: int = Field(
        default=60, ge=0, description="a message a worker took comes back this long after the hard limit"
    )

    @model_validator(mode="after")
    def _soft_limit_first(self) -> QueueSettings:
        if self.task_soft_time_limit_s > self.task_time_limit_s:
            raise ValueError(
                f"TASK_SOFT_TIME_LIMIT_S ({self.task_soft_time_limit_s}) must not exceed TASK_TIME_LIMIT_S "
                f"({self.task_time_limit_s})"
            )
        return self

    @property
    def broker_url(self) -> str:
        """``CELERY_BROKER_URL``, else ``REDIS_URL``."""
        return self.celery_broker_url or self.redis_url

    @property
    def result_backend(self) -> str:
        """``CELERY_RESULT_BACKEND``, else the broker."""
        return self.celery_result_backend or self.broker_url

    @property
    def visibility_timeout_s(self) -> int:
        """How long a message a worker took may stay unacknowledged before the broker hands it out again.

        Just above the hard time limit (by ``BROKER_VISIBILITY_MARGIN_S``): no live job runs that long, so only
        messages of dead workers (``kill -9``, out-of-memory kill, lost node) come back, and they come back within
        this bound instead of kombu's default hour.
        """
        return self.task_time_limit_s + self.broker_visibility_margin_s

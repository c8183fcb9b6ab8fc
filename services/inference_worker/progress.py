"""A running job's progress: a ``ProgressEvent`` on Redis for the browser at each new stage and then every
``PROGRESS_EVENT_INTERVAL_S`` at most, the analyses row's ``progress``/``stage`` columns now and then, the time spent
per stage, and the job's own deadline.

The analysis engine reports through :class:`ProgressReporter` (its ``on_progress`` callback); nothing here ends a job.
"""

from __future__ import annotations

import logging
import time
import uuid

import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.analysis import ErrorCode, Stage
from services.common.events import ProgressEvent, publish_progress
from services.common.models import Analysis, AnalysisStatus
from services.inference_worker import metrics
from services.inference_worker.runtime import Runtime

log = logging.getLogger(__name__)


class AnalysisGone(Exception):
    """The analysis row was deleted while the job ran."""


def publish(rt: Runtime, analysis_id: uuid.UUID, status: AnalysisStatus, progress: float, stage: Stage | None,
            error: str | None = None, error_code: ErrorCode | None = None, expected_s: float | None = None) -> None:
    """Publish a progress event; a Redis hiccup never fails the job (events are a convenience)."""
    try:
        publish_progress(
            rt.redis,
            ProgressEvent(analysis_id=analysis_id, status=status, progress=round(min(1.0, max(0.0, progress)), 4),
                          stage=stage, error=error, error_code=error_code, expected_s=expected_s),
        )
    except redis.exceptions.RedisError as exc:
        log.warning("could not publish progress of %s: %s", analysis_id, exc)


async def write_progress(
    factory: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID, progress: float, stage: Stage
) -> bool:
    """Store progress and stage of a processing job; False if the analysis was deleted meanwhile."""
    async with factory() as session, session.begin():
        analysis = await session.get(Analysis, analysis_id, populate_existing=True)
        if analysis is None:
            return False
        if analysis.status == AnalysisStatus.processing:
            analysis.progress = round(min(1.0, max(0.0, progress)), 4)
            analysis.stage = stage.value
        return True


class StageTimer:
    """Times the stages of one job (``bloomwell_worker_stage_duration_seconds``): :meth:`enter` closes the previous
    stage's interval; :meth:`close` the last."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.since = time.monotonic()

    def enter(self, stage: str) -> None:
        if stage == self.stage:
            return
        self.close()
        self.stage, self.since = stage, time.monotonic()

    def close(self) -> None:
        if self.stage is not None:
            metrics.STAGE_SECONDS.labels(stage=self.stage).observe(time.monotonic() - self.since)
            self.stage = None


class ProgressReporter:
    """Maps pipeline progress to 0..1, publishes events at each new stage and otherwise every
    ``PROGRESS_EVENT_INTERVAL_S`` at most (at every frame a batch lasts a few dozen milliseconds: an event each would
    cost the job a Redis round trip and the gateway a stream write per batch, for a change nobody sees), and writes
    the DB columns sparingly (``PROGRESS_DB_INTERVAL_S``); raises :class:`AnalysisGone` when that write finds the row
    deleted.

    It is also the job's cooperative deadline: past ``time_limit_s`` the pipeline's next per-batch report raises
    ``SoftTimeLimitExceeded``, so pools without Celery time limits (solo, threads) stop long jobs too.
    """

    START, END = 0.05, 0.9

    def __init__(self, rt: Runtime, analysis_id: uuid.UUID, time_limit_s: float | None = None,
                 expected_s: float | None = None) -> None:
        self.rt = rt
        self.analysis_id = analysis_id
        self.expected_s = expected_s  # from the measured speed, sent with every event (services.common.speed)
        self.last_db = time.monotonic()
        self.last_event = float("-inf")
        self.deadline = self.last_db + time_limit_s if time_limit_s else None
        self.timer = StageTimer()

    def stage(self, stage: Stage, progress: float, *, write_db: bool = False) -> None:
        """Enter ``stage`` at ``progress`` (0..1)."""
        new_stage = stage != self.timer.stage
        self.timer.enter(stage)
        now = time.monotonic()
        if new_stage or now - self.last_event >= self.rt.settings.progress_event_interval_s:
            self.last_event = now
            publish(self.rt, self.analysis_id, AnalysisStatus.processing, progress, stage, expected_s=self.expected_s)
        if write_db or time.monotonic() - self.last_db >= self.rt.settings.progress_db_interval_s:
            self.last_db = time.monotonic()
            if not self.rt.run(write_progress(self.rt.sessions, self.analysis_id, progress, stage)):
                raise AnalysisGone

    def __call__(self, stage: Stage, done: int, expected: int) -> None:
        """The pipeline's per-batch report (``pipeline.ProgressCallback``)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SoftTimeLimitExceeded
        share = min(1.0, done / max(1, expected))
        self.stage(stage, self.END if stage == Stage.summarizing else self.START + (self.END - self.START) * share)

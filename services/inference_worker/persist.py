"""The worker's two writes of a job's state (async SQLAlchemy, PostgreSQL or SQLite), each one short transaction:
:func:`claim` at the start, :func:`store` at the end. (Progress while it runs: ``services.inference_worker.progress``.)

A job's end is written in one transaction: the result row first, the analysis status last, and the webhook delivery
of an analysis with a ``webhook_url`` (an outbox row; ``services.inference_worker.outbox`` delivers it) beside them,
so a reader never sees ``succeeded`` without its result, a crash leaves the job re-runnable, and an ended job always
has its callback queued.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.analysis import ErrorCode, Stage
from services.common.models import Analysis, AnalysisResult, AnalysisStatus, DeliveryStatus, WebhookDelivery, utcnow
from services.common.result_store import result_row
from services.common.schemas import ResultDocument
from services.inference_worker.webhook import analysis_payload


@dataclass(frozen=True, slots=True)
class Job:
    """What the worker needs to know about an analysis it is about to process."""

    id: uuid.UUID
    status: AnalysisStatus
    video_path: str | None
    sample_fps: float
    duration_s: float | None
    keep_video: bool
    attempts: int
    webhook_url: str | None


@dataclass(frozen=True, slots=True)
class Succeeded:
    """A run's outcome: the result document to store."""

    document: ResultDocument
    duration_s: float


@dataclass(frozen=True, slots=True)
class Failed:
    """A run's outcome: the job fails with ``code`` and ``message`` (the sentence the user reads)."""

    code: ErrorCode
    message: str


Outcome = Succeeded | Failed


@dataclass(frozen=True, slots=True)
class Ended:
    """What is left to do after the final write: files to delete, the terminal event, a webhook to deliver."""

    status: AnalysisStatus
    video_to_delete: str | None
    finished_at: datetime | None
    dominant_emotion: str | None
    error: str | None = None
    error_code: ErrorCode | None = None
    delivery_id: uuid.UUID | None = None
    """The webhook delivery queued by this end (None without a ``webhook_url``, or when an earlier end queued it)."""


async def _locked(session: AsyncSession, analysis_id: uuid.UUID) -> Analysis | None:
    return await session.get(Analysis, analysis_id, with_for_update=True, populate_existing=True)


async def claim(factory: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID) -> Job | None:
    """Mark the analysis ``processing`` (counting the attempt) and return it; None if it no longer exists.

    A job already in a terminal state is returned unchanged (a duplicate delivery: nothing to do).
    """
    async with factory() as session, session.begin():
        analysis = await _locked(session, analysis_id)
        if analysis is None:
            return None
        if not analysis.status.is_terminal:
            analysis.status = AnalysisStatus.processing
            analysis.attempts = (analysis.attempts or 0) + 1
            analysis.started_at = analysis.started_at or utcnow()
            analysis.progress = 0.0
            analysis.stage = Stage.probing.value
            analysis.error = None
            analysis.error_code = None
        return Job(
            id=analysis.id,
            status=analysis.status,
            video_path=analysis.video_path,
            sample_fps=analysis.sample_fps,
            duration_s=analysis.duration_s,
            keep_video=analysis.keep_video,
            attempts=analysis.attempts,
            webhook_url=analysis.webhook_url,
        )


async def store(factory: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID, outcome: Outcome) -> Ended | None:
    """End the analysis with ``outcome`` (:func:`save_success` or :func:`save_failure`)."""
    if isinstance(outcome, Succeeded):
        return await save_success(factory, analysis_id, document=outcome.document, duration_s=outcome.duration_s)
    return await save_failure(factory, analysis_id, error=outcome.message, error_code=outcome.code)


async def save_success(
    factory: async_sessionmaker[AsyncSession],
    analysis_id: uuid.UUID,
    *,
    document: ResultDocument,
    duration_s: float,
) -> Ended | None:
    """Write the result document (version 2), mark the analysis ``succeeded`` (status last) and queue its webhook, in
    one transaction.

    Returns None if the analysis was deleted meanwhile. A result from an earlier attempt is replaced.
    """
    async with factory() as session, session.begin():
        analysis = await _locked(session, analysis_id)
        if analysis is None:
            return None
        await session.execute(delete(AnalysisResult).where(AnalysisResult.analysis_id == analysis_id))
        session.add(result_row(analysis_id, document))
        await session.flush()
        video = _release_video(analysis)
        analysis.dominant_emotion = document.summary.dominant_emotion
        analysis.duration_s = duration_s
        analysis.progress = 1.0
        analysis.stage = Stage.done.value
        analysis.error = None
        analysis.error_code = None
        analysis.finished_at = utcnow()
        await session.flush()
        analysis.status = AnalysisStatus.succeeded
        return await _ended(session, analysis, video)


async def save_failure(
    factory: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID, *, error: str, error_code: ErrorCode
) -> Ended | None:
    """Mark the analysis ``failed`` with a sentence for the user and a code, and queue its webhook, in one
    transaction; None if it was deleted."""
    async with factory() as session, session.begin():
        analysis = await _locked(session, analysis_id)
        if analysis is None:
            return None
        await session.execute(delete(AnalysisResult).where(AnalysisResult.analysis_id == analysis_id))
        video = _release_video(analysis)
        analysis.error = error
        analysis.error_code = error_code.value
        analysis.stage = Stage.failed.value
        analysis.finished_at = utcnow()
        await session.flush()
        analysis.status = AnalysisStatus.failed
        return await _ended(session, analysis, video)


def _release_video(analysis: Analysis) -> str | None:
    """Clear the video reference unless the user asked to keep it; returns the path to delete after commit."""
    if analysis.keep_video or not analysis.video_path:
        return None
    path, analysis.video_path = analysis.video_path, None
    return path


async def _ended(session: AsyncSession, analysis: Analysis, video: str | None) -> Ended:
    """Queue the webhook of the analysis's end (in the caller's transaction) and say what is left to do."""
    return Ended(
        status=analysis.status,
        video_to_delete=video,
        finished_at=analysis.finished_at,
        dominant_emotion=analysis.dominant_emotion,
        error=analysis.error,
        error_code=ErrorCode(analysis.error_code) if analysis.error_code else None,
        delivery_id=await _queue_webhook(session, analysis),
    )


async def _queue_webhook(session: AsyncSession, analysis: Analysis) -> uuid.UUID | None:
    """The outbox row of ``analysis``'s webhook, added in the caller's transaction (``outbox`` delivers it); its id,
    or None without a ``webhook_url`` or when an earlier end queued it already (a job's end is announced once)."""
    if not analysis.webhook_url:
        return None
    if await session.scalar(select(WebhookDelivery.id).where(WebhookDelivery.analysis_id == analysis.id)):
        return None
    delivery_id = uuid.uuid4()
    session.add(WebhookDelivery(id=delivery_id, analysis_id=analysis.id, event=f"analysis.{analysis.status.value}",
                                url=analysis.webhook_url, payload=analysis_payload(analysis, delivery_id),
                                status=DeliveryStatus.pending, attempts=0, next_attempt_at=utcnow()))
    return delivery_id

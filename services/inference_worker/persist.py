"""The worker's database writes (async SQLAlchemy, PostgreSQL or SQLite), each one short transaction.

A job's end is written in one transaction: the result row first, the analysis status last, so a reader
never sees ``succeeded`` without its result, and a crash leaves the job re-runnable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.analysis import ErrorCode, Stage
from services.common.models import Analysis, AnalysisResult, AnalysisStatus, utcnow
from services.common.result_store import result_row
from services.common.schemas import ResultDocument


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
class Ended:
    """What is left to do after the final write: files to delete, a webhook to call."""

    status: AnalysisStatus
    video_to_delete: str | None
    webhook_url: str | None
    finished_at: datetime | None
    dominant_emotion: str | None


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


async def set_progress(
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


async def save_success(
    factory: async_sessionmaker[AsyncSession],
    analysis_id: uuid.UUID,
    *,
    document: ResultDocument,
    duration_s: float,
) -> Ended | None:
    """Write the result document (version 2) and mark the analysis ``succeeded`` in one transaction (status last).

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
        return _ended(analysis, video)


async def save_failure(
    factory: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID, *, error: str, error_code: ErrorCode
) -> Ended | None:
    """Mark the analysis ``failed`` with a sentence for the user and a code; None if it was deleted."""
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
        return _ended(analysis, video)


def _release_video(analysis: Analysis) -> str | None:
    """Clear the video reference unless the user asked to keep it; returns the path to delete after commit."""
    if analysis.keep_video or not analysis.video_path:
        return None
    path, analysis.video_path = analysis.video_path, None
    return path


def _ended(analysis: Analysis, video: str | None) -> Ended:
    return Ended(
        status=analysis.status,
        video_to_delete=video,
        webhook_url=analysis.webhook_url,
        finished_at=analysis.finished_at,
        dominant_emotion=analysis.dominant_emotion,
    )

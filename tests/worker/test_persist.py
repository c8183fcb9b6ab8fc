"""The worker's DB writes on PostgreSQL (migrated test database) and on SQLite (local runs)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.models import AnalysisStatus
from services.inference_worker import persist
from tests.worker.db import create_analysis, delete_analysis, fetch, sqlite_engine

pytestmark = pytest.mark.integration

SUMMARY = {"dominant_emotion": "happy", "model": {"name": "tiny", "version": "1"}, "frames_with_face": 1}
FRAMES = [{"t": 0.0, "faces": []}]
PEOPLE = [{"track_id": 1, "label": "Person 1"}]


def document(summary: dict = SUMMARY, frames: list = FRAMES) -> dict:
    """A version-2 document as far as the writes care (the pipeline tests check its full shape)."""
    return {"schema_version": 2, "summary": summary, "people": PEOPLE, "frames": frames}


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(
    request: pytest.FixtureRequest, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the migrated PostgreSQL test database, or on a fresh SQLite file."""
    if request.param == "postgresql":
        yield async_sessionmaker(engine, expire_on_commit=False)
    else:
        sqlite = await sqlite_engine(tmp_path / "worker.db")
        yield async_sessionmaker(sqlite, expire_on_commit=False)
        await sqlite.dispose()


async def test_claim_marks_processing_and_counts_attempts(sessions: async_sessionmaker[AsyncSession]) -> None:
    aid = await create_analysis(sessions, video_path="uploads/x.mp4")
    job = await persist.claim(sessions, aid)
    assert job is not None and job.status == AnalysisStatus.processing and job.attempts == 1
    job = await persist.claim(sessions, aid)
    assert job is not None and job.attempts == 2
    analysis, _ = await fetch(sessions, aid)
    assert analysis is not None and analysis.started_at is not None and analysis.stage == "probing"


async def test_claim_of_a_missing_analysis_returns_none(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await persist.claim(sessions, uuid.uuid4()) is None


async def test_success_writes_result_then_status_and_releases_the_video(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    aid = await create_analysis(sessions, video_path="uploads/x.mp4")
    await persist.claim(sessions, aid)
    assert await persist.set_progress(sessions, aid, 0.5, "analyzing")
    ended = await persist.save_success(sessions, aid, document=document(), duration_s=4.6)
    assert ended is not None and ended.status == AnalysisStatus.succeeded
    assert ended.video_to_delete == "uploads/x.mp4"
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and result is not None
    assert analysis.status == AnalysisStatus.succeeded and analysis.progress == 1.0
    assert analysis.dominant_emotion == "happy" and analysis.video_path is None and analysis.finished_at
    assert result.summary == SUMMARY and result.frames == FRAMES and result.model_name == "tiny"
    assert result.schema_version == 2 and result.people == PEOPLE


async def test_success_again_replaces_the_result_and_keep_video_keeps_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    aid = await create_analysis(sessions, video_path="uploads/y.mp4", keep_video=True)
    await persist.save_success(sessions, aid, document=document(), duration_s=1.0)
    ended = await persist.save_success(sessions, aid, document=document({**SUMMARY, "dominant_emotion": "sad"}, []),
                                       duration_s=1.0)
    assert ended is not None and ended.video_to_delete is None
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and analysis.video_path == "uploads/y.mp4" and analysis.dominant_emotion == "sad"
    assert result is not None and result.frames == []


async def test_failure_records_reason_and_code(sessions: async_sessionmaker[AsyncSession]) -> None:
    aid = await create_analysis(sessions, video_path="uploads/z.mp4")
    await persist.claim(sessions, aid)
    ended = await persist.save_failure(sessions, aid, error="We could not read this video.",
                                       error_code="unreadable_video")
    assert ended is not None and ended.status == AnalysisStatus.failed
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and result is None
    assert analysis.status == AnalysisStatus.failed and analysis.error_code == "unreadable_video"
    assert analysis.error == "We could not read this video." and analysis.video_path is None
    job = await persist.claim(sessions, aid)  # a duplicate delivery leaves a finished job alone
    assert job is not None and job.status == AnalysisStatus.failed


async def test_writes_after_deletion_report_it(sessions: async_sessionmaker[AsyncSession]) -> None:
    aid = await create_analysis(sessions)
    await persist.claim(sessions, aid)
    await delete_analysis(sessions, aid)
    assert await persist.set_progress(sessions, aid, 0.3, "analyzing") is False
    assert await persist.save_success(sessions, aid, document=document(), duration_s=1.0) is None
    assert await persist.save_failure(sessions, aid, error="x", error_code="internal") is None
    assert await fetch(sessions, aid) == (None, None)

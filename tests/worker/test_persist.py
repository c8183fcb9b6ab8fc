"""The worker's DB writes on PostgreSQL (migrated test database) and on SQLite (local runs)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.analysis import Emotion, ErrorCode, Stage
from services.common.models import AnalysisStatus
from services.common.schemas import ModelInfo, ResultDocument
from services.inference_worker import persist
from tests.fixtures.result_scenarios import load_golden
from tests.worker.db import create_analysis, delete_analysis, fetch, sqlite_engine

pytestmark = pytest.mark.integration

DOCUMENT = ResultDocument.model_validate(load_golden()["build_document"]["two_people"])
"""A full version-2 document (the worker-side tests check how one is built)."""


def document(dominant: Emotion = Emotion.happy, with_frames: bool = True) -> ResultDocument:
    """:data:`DOCUMENT` by model "tiny" 1, its summary's dominant expression ``dominant``, with or without frames."""
    summary = DOCUMENT.summary.model_copy(
        update={"dominant_emotion": dominant, "model": ModelInfo(name="tiny", version="1")}
    )
    return DOCUMENT.model_copy(update={"summary": summary, "frames": DOCUMENT.frames if with_frames else []})


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
    assert await persist.set_progress(sessions, aid, 0.5, Stage.analyzing)
    stored = document()
    ended = await persist.save_success(sessions, aid, document=stored, duration_s=4.6)
    assert ended is not None and ended.status == AnalysisStatus.succeeded
    assert ended.video_to_delete == "uploads/x.mp4"
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and result is not None
    assert analysis.status == AnalysisStatus.succeeded and analysis.progress == 1.0
    assert analysis.dominant_emotion == "happy" and analysis.video_path is None and analysis.finished_at
    dumped = stored.model_dump(mode="json")
    assert result.summary == dumped["summary"] and result.frames == dumped["frames"] and result.model_name == "tiny"
    assert result.schema_version == 2 and result.people == dumped["people"] and result.model_version == "1"


async def test_success_again_replaces_the_result_and_keep_video_keeps_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    aid = await create_analysis(sessions, video_path="uploads/y.mp4", keep_video=True)
    await persist.save_success(sessions, aid, document=document(), duration_s=1.0)
    ended = await persist.save_success(sessions, aid, document=document(Emotion.sad, with_frames=False),
                                       duration_s=1.0)
    assert ended is not None and ended.video_to_delete is None
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and analysis.video_path == "uploads/y.mp4" and analysis.dominant_emotion == "sad"
    assert result is not None and result.frames == []


async def test_failure_records_reason_and_code(sessions: async_sessionmaker[AsyncSession]) -> None:
    aid = await create_analysis(sessions, video_path="uploads/z.mp4")
    await persist.claim(sessions, aid)
    ended = await persist.save_failure(sessions, aid, error="We could not read this video.",
                                       error_code=ErrorCode.unreadable_video)
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
    assert await persist.set_progress(sessions, aid, 0.3, Stage.analyzing) is False
    assert await persist.save_success(sessions, aid, document=document(), duration_s=1.0) is None
    assert await persist.save_failure(sessions, aid, error="x", error_code=ErrorCode.internal) is None
    assert await fetch(sessions, aid) == (None, None)

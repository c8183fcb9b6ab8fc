"""Rows for worker tests: a user and an analysis, committed so another process sees them."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.db import Base, create_engine
from services.common.models import Analysis, AnalysisResult, User
from services.common.storage import Storage


async def create_analysis(
    sessions: async_sessionmaker[AsyncSession],
    storage: Storage | None = None,
    video: Path | None = None,
    **fields: Any,
) -> uuid.UUID:
    """Insert a user and a queued analysis; with ``video``, copy it into storage as the upload."""
    user = User(email=f"worker-{uuid.uuid4().hex[:12]}@bloomwell.dev", password_hash="x", first_name="W",
                last_name="T")
    analysis_id = uuid.uuid4()
    video_path = None
    if video is not None and storage is not None:
        destination = storage.upload_path(analysis_id, video.suffix)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, destination)  # the worker deletes its upload: work on a copy in storage
        video_path = storage.relative(destination)
    values: dict[str, Any] = {
        "id": analysis_id, "filename": video.name if video else "clip.mp4", "container": "mp4",
        "size_bytes": video.stat().st_size if video else 1, "video_path": video_path, "sample_fps": 5.0,
    }
    values.update(fields)
    async with sessions() as session, session.begin():
        session.add(user)
        await session.flush()
        session.add(Analysis(user_id=user.id, **values))
    return analysis_id


async def fetch(sessions: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID) -> tuple[Analysis | None,
                                                                                              AnalysisResult | None]:
    """The analysis row and its result row (either may be None)."""
    async with sessions() as session:
        analysis = await session.get(Analysis, analysis_id, populate_existing=True)
        result = await session.get(AnalysisResult, analysis_id, populate_existing=True)
        return analysis, result


async def delete_analysis(sessions: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID) -> None:
    """Delete an analysis row as the gateway does when the user deletes it."""
    async with sessions() as session, session.begin():
        analysis = await session.get(Analysis, analysis_id)
        if analysis is not None:
            await session.delete(analysis)


async def sqlite_engine(path: Path) -> AsyncEngine:
    """A SQLite database file with every table created (the local ``make run`` database)."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine

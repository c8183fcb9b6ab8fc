"""The lost-job sweep against the real PostgreSQL and Redis: only jobs without a broker message are re-queued."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.celery_app import AnalysisQueue, create_celery_app
from services.common.db import create_sessionmaker
from services.common.models import Analysis, AnalysisStatus, utcnow
from services.common.settings import QueueSettings
from services.common.storage import Storage
from services.inference_worker.recovery import (
    UNACKED_HASH,
    acquire_sweep_lock,
    requeue_lost_jobs,
    sweep_orphan_files,
    task_ids_in_broker,
)
from tests.worker.db import create_analysis

pytestmark = pytest.mark.integration

OLD = utcnow() - timedelta(hours=1)
QUEUE = "inference-recovery-test"
"""A queue of its own: the session's real worker (if started) consumes the inference queue."""


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    """The session's Redis database, emptied around each test (the sweep reads the whole queue)."""
    client = redis.from_url(redis_url)
    client.delete(QUEUE, "bloomwell:recovery:lock")
    yield client
    client.delete(QUEUE, "bloomwell:recovery:lock")
    client.hdel(UNACKED_HASH, "tag-recovery-test")
    client.close()


def _queued_ids(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange(QUEUE, 0, -1)]


async def test_only_stale_jobs_without_a_message_are_requeued(
    engine: AsyncEngine, broker: redis.Redis, redis_url: str
) -> None:
    sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    queue = AnalysisQueue(create_celery_app(QueueSettings(redis_url=redis_url, celery_broker_url=redis_url)), QUEUE)
    lost_queued = await create_analysis(sessions, created_at=OLD)
    lost_processing = await create_analysis(sessions, created_at=OLD, started_at=OLD,
                                            status=AnalysisStatus.processing)
    fresh = await create_analysis(sessions)
    finished = await create_analysis(sessions, created_at=OLD, status=AnalysisStatus.succeeded)
    waiting = await create_analysis(sessions, created_at=OLD)
    reserved = await create_analysis(sessions, created_at=OLD, started_at=OLD, status=AnalysisStatus.processing)

    queue.enqueue(waiting)
    # a message a worker holds (acks_late) sits in kombu's unacked hash, not in the queue
    held = {"headers": {"id": str(reserved)}, "body": ""}
    broker.hset(UNACKED_HASH, "tag-recovery-test", json.dumps([held, "", QUEUE]))
    assert {str(waiting), str(reserved)} <= task_ids_in_broker(broker, QUEUE)

    requeued = await requeue_lost_jobs(sessions, broker, queue, 60, 60)

    assert set(requeued) >= {lost_queued, lost_processing}
    assert not {fresh, finished, waiting, reserved} & set(requeued)
    queued = _queued_ids(broker)
    assert queued.count(str(waiting)) == 1  # never enqueued twice
    assert {str(lost_queued), str(lost_processing)} <= set(queued)

    # a second sweep finds their messages and adds nothing for them
    again = await requeue_lost_jobs(sessions, broker, queue, 60, 60)
    assert not {lost_queued, lost_processing} & set(again)


def test_one_sweeper_per_interval(broker: redis.Redis) -> None:
    assert acquire_sweep_lock(broker, ttl_s=30)
    assert not acquire_sweep_lock(broker, ttl_s=30)


def test_unknown_ids_are_not_required(broker: redis.Redis) -> None:
    assert str(uuid.uuid4()) not in task_ids_in_broker(broker, QUEUE)


async def test_orphan_sweep_removes_unowned_files_and_publishes_committed_uploads(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    storage = Storage(tmp_path / "storage")
    now = time.time()

    def make(path: Path, age_s: float, directory: bool = False) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if directory:
            path.mkdir()
            (path / "0_0.jpg").write_bytes(b"jpg")
        else:
            path.write_bytes(b"video")
        os.utime(path, (now - age_s, now - age_s))
        return path

    # a committed row whose upload was never published (the gateway died between commit and rename)
    committed = await create_analysis(sessions, video_path=None)
    final = storage.upload_path(committed, "mp4")
    async with sessions() as session, session.begin():
        row = await session.get(Analysis, committed)
        assert row is not None
        row.video_path = storage.relative(final)
    unpublished = make(storage.incoming_path(committed), 120)
    # a finished job that released its video but died before deleting it
    released = await create_analysis(sessions, video_path=None, status=AnalysisStatus.succeeded)
    released_video = make(storage.upload_path(released, "mp4"), 120)
    # a live job: its video and crops stay
    live = await create_analysis(sessions, video_path=None)
    live_video = make(storage.upload_path(live, "webm"), 3600)
    async with sessions() as session, session.begin():
        row = await session.get(Analysis, live)
        assert row is not None
        row.video_path = storage.relative(live_video)
    live_crops = make(storage.crops_dir(live), 3600, directory=True)
    # nobody's: a stale .part, a fresh .part (an upload being checked right now), a video and crops
    stale_part = make(storage.incoming_path(uuid.uuid4()), 1000)
    fresh_part = make(storage.incoming_path(uuid.uuid4()), 5)
    orphan_video = make(storage.upload_path(uuid.uuid4(), "mp4"), 120)
    orphan_crops = make(storage.crops_dir(uuid.uuid4()), 120, directory=True)
    not_ours = make(storage.root / "uploads" / "README.txt", 5000)

    report = await sweep_orphan_files(sessions, storage, part_grace_s=900, file_grace_s=60)

    assert final.is_file() and not unpublished.exists() and report.published == [final]
    assert not released_video.exists() and not stale_part.exists()
    assert not orphan_video.exists() and not orphan_crops.exists()
    assert live_video.exists() and live_crops.exists() and fresh_part.exists() and not_ours.exists()
    assert set(report.removed) == {released_video, stale_part, orphan_video, orphan_crops}
    # nothing left to do the second time
    again = await sweep_orphan_files(sessions, storage, part_grace_s=900, file_grace_s=60)
    assert again.removed == [] and again.published == []

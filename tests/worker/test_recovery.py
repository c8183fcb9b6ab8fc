"""The lost-job sweep against the real PostgreSQL and Redis: only jobs without a broker message are re-queued."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.celery_app import create_celery_app
from services.common.db import create_sessionmaker
from services.common.models import AnalysisStatus, utcnow
from services.inference_worker.recovery import (
    UNACKED_HASH,
    acquire_sweep_lock,
    requeue_lost_jobs,
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
    celery = create_celery_app(redis_url)
    lost_queued = await create_analysis(sessions, created_at=OLD)
    lost_processing = await create_analysis(sessions, created_at=OLD, started_at=OLD,
                                            status=AnalysisStatus.processing)
    fresh = await create_analysis(sessions)
    finished = await create_analysis(sessions, created_at=OLD, status=AnalysisStatus.succeeded)
    waiting = await create_analysis(sessions, created_at=OLD)
    reserved = await create_analysis(sessions, created_at=OLD, started_at=OLD, status=AnalysisStatus.processing)

    celery.send_task("bloomwell.analyze_video", args=[str(waiting)], queue=QUEUE, task_id=str(waiting))
    # a message a worker holds (acks_late) sits in kombu's unacked hash, not in the queue
    held = {"headers": {"id": str(reserved)}, "body": ""}
    broker.hset(UNACKED_HASH, "tag-recovery-test", json.dumps([held, "", QUEUE]))
    assert {str(waiting), str(reserved)} <= task_ids_in_broker(broker, QUEUE)

    requeued = await requeue_lost_jobs(sessions, broker, celery, 60, 60, queue=QUEUE)

    assert set(requeued) >= {lost_queued, lost_processing}
    assert not {fresh, finished, waiting, reserved} & set(requeued)
    queued = _queued_ids(broker)
    assert queued.count(str(waiting)) == 1  # never enqueued twice
    assert {str(lost_queued), str(lost_processing)} <= set(queued)

    # a second sweep finds their messages and adds nothing for them
    again = await requeue_lost_jobs(sessions, broker, celery, 60, 60, queue=QUEUE)
    assert not {lost_queued, lost_processing} & set(again)


def test_one_sweeper_per_interval(broker: redis.Redis) -> None:
    assert acquire_sweep_lock(broker, ttl_s=30)
    assert not acquire_sweep_lock(broker, ttl_s=30)


def test_unknown_ids_are_not_required(broker: redis.Redis) -> None:
    assert str(uuid.uuid4()) not in task_ids_in_broker(broker, QUEUE)

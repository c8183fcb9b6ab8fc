"""Through the real queue: a Celery worker subprocess on Redis, this session's PostgreSQL and storage."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bloomwell_ml.labels import EMOTIONS
from services.common import speed
from services.common.celery_app import ANALYZE_TASK
from services.common.events import channel_for
from services.common.result_store import stored_document
from services.common.storage import Storage
from tests.fixtures.worker import WorkerHandle
from tests.worker.conftest import shared_video
from tests.worker.db import create_analysis, delete_analysis, fetch

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def storage(storage_dir: Path) -> Storage:
    return Storage(storage_dir)


async def enqueue_and_follow(worker: WorkerHandle, redis_url: str, analysis_id: uuid.UUID,
                             timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Subscribe to the analysis's channel, enqueue the task as the gateway does, collect events to the end."""
    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel_for(analysis_id))
    events: list[dict[str, Any]] = []
    try:
        worker.queue.enqueue(analysis_id)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            events.append(json.loads(message["data"]))
            if events[-1]["status"] in ("succeeded", "failed"):
                return events
        raise AssertionError(f"no terminal event; got {events}\n{worker.log_tail()}")
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_queue_to_result_with_progress_events(
    inference_worker: WorkerHandle, redis_url: str, sessions: async_sessionmaker[AsyncSession], storage: Storage
) -> None:
    aid = await create_analysis(sessions, storage, shared_video("1zlab_face.mp4"), duration_s=12.8, sample_fps=2.0)
    events = await enqueue_and_follow(inference_worker, redis_url, aid)
    assert events[-1]["status"] == "succeeded", inference_worker.log_tail()
    assert events[0]["status"] == "processing" and events[0]["stage"] == "probing"
    assert {"analyzing", "summarizing", "saving"} <= {e["stage"] for e in events}
    assert all(0.0 <= e["progress"] <= 1.0 for e in events)
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and result is not None and analysis.status == "succeeded"
    doc = stored_document(result)
    assert doc.summary.frames_analyzed == 26  # 12.8 s at 2 frames/s
    assert doc.summary.frames_with_face >= 20
    assert doc.summary.sample_fps == 2.0
    for frame in doc.frames:
        for face in frame.faces:
            assert list(face.probabilities) == list(EMOTIONS)
            assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert not storage.upload_path(aid, "mp4").exists()
    # every event carries the estimate from the measured speed, and the job's own speed joined the moving figure
    assert all(e["expected_s"] is not None and e["expected_s"] > 0 for e in events[:-1]), events
    client = aioredis.from_url(redis_url)
    try:
        figure = speed.Speed.from_hash(await client.hgetall(speed.SPEED_KEY))
    finally:
        await client.aclose()
    assert figure.jobs >= 1 and figure.seconds_per_video_s > 0
    assert any(storage.crops_dir(aid).glob("*.jpg"))


async def test_unreadable_upload_fails_through_the_queue(
    inference_worker: WorkerHandle, redis_url: str, sessions: async_sessionmaker[AsyncSession], storage: Storage,
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(shared_video("fer_test.mp4").read_bytes()[:64] + bytes(range(256)) * 100)
    aid = await create_analysis(sessions, storage, broken)
    events = await enqueue_and_follow(inference_worker, redis_url, aid)
    assert events[-1]["status"] == "failed" and events[-1]["error_code"] == "unreadable_video"
    analysis, result = await fetch(sessions, aid)
    assert analysis is not None and result is None
    assert analysis.status == "failed" and analysis.error and analysis.finished_at
    assert not storage.upload_path(aid, "mp4").exists()


async def test_analysis_deleted_before_processing_is_dropped_and_cleaned(
    inference_worker: WorkerHandle, sessions: async_sessionmaker[AsyncSession], storage: Storage,
) -> None:
    aid = await create_analysis(sessions, storage, shared_video("faceapijs_test_video.mp4"))
    await delete_analysis(sessions, aid)  # the gateway deleted the row but the file is still there
    upload = storage.upload_path(aid, "mp4")
    assert upload.exists()
    inference_worker.queue.enqueue(aid)
    deadline = time.monotonic() + 60
    for _ in range(300):  # the worker drops the job and removes the file; poll the file system
        if not upload.exists() or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert not upload.exists(), inference_worker.log_tail()
    assert await fetch(sessions, aid) == (None, None)


async def test_invalid_task_argument_does_not_stop_the_worker(
    inference_worker: WorkerHandle, redis_url: str, sessions: async_sessionmaker[AsyncSession], storage: Storage,
) -> None:
    # a message no gateway would send: the raw wire, past the typed AnalysisQueue
    inference_worker.queue.app.send_task(ANALYZE_TASK, args=["not-a-uuid"], queue=inference_worker.queue.queue)
    aid = await create_analysis(sessions, storage, shared_video("huimiang_1543684773_neutral_to_angry.avi"))
    events = await enqueue_and_follow(inference_worker, redis_url, aid)
    assert events[-1]["status"] == "succeeded"
    assert inference_worker.process.poll() is None

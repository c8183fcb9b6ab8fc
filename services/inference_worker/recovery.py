"""Periodic sweep of the worker: re-queue jobs whose broker message was lost, and remove files no row owns.

**Lost messages.** A job can lose its message when the gateway stopped between committing the row and enqueueing, when a
non-persistent Redis restarted, or when a task gave up on a database outage after its retries. Such a job
sits in ``queued``/``processing`` while no message for it exists: not in the queue and not reserved by
any worker (kombu's ``unacked`` hash, where ``acks_late`` keeps a message until its task ends). The sweep
re-enqueues exactly those, once they are older than a grace period; the task's attempt counter still
bounds how often one job can run. A message reserved by a worker that then died (``kill -9``, an
out-of-memory kill) stays in ``unacked`` until the broker's visibility timeout, which
``QueueSettings.visibility_timeout_s`` sets just above the hard time limit; every live worker then puts it
back on the queue, so such a job is recovered within that bound.

**Orphan files.** The gateway writes an upload to ``uploads/.incoming/<id>.part`` and publishes it only
after its row is committed (``Storage``). A process killed in between, or a delete racing a crash, can
leave a ``.part``, a video or a crops folder that no row owns; the sweep deletes those once they are older
than a grace period. A ``.part`` whose row *was* committed (the gateway died just before publishing) is
published instead, before the job is re-queued, so the upload is not lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.celery_app import AnalysisQueue
from services.common.db import create_engine, create_sessionmaker
from services.common.models import Analysis, AnalysisStatus, utcnow
from services.common.storage import Storage
from services.inference_worker.config import get_settings

log = logging.getLogger(__name__)

UNACKED_HASH = "unacked"
"""Where kombu's Redis transport keeps messages reserved by workers (``acks_late``)."""

LOCK_KEY = "bloomwell:recovery:lock"


def task_ids_in_broker(client: redis.Redis, queue: str) -> set[str]:
    """Ids of tasks waiting in ``queue`` or reserved by a worker."""
    ids: set[str] = set()
    for raw in client.lrange(queue, 0, -1):
        ids.add(str(json.loads(raw)["headers"]["id"]))
    for raw in client.hvals(UNACKED_HASH):
        ids.add(str(json.loads(raw)[0]["headers"]["id"]))
    return ids


async def stale_unfinished(
    factory: async_sessionmaker[AsyncSession], queued_before: datetime, processing_before: datetime
) -> list[uuid.UUID]:
    """Analyses queued before ``queued_before`` or started before ``processing_before`` that never ended."""
    async with factory() as session:
        rows = await session.scalars(
            select(Analysis.id).where(
                or_(
                    (Analysis.status == AnalysisStatus.queued) & (Analysis.created_at < queued_before),
                    (Analysis.status == AnalysisStatus.processing)
                    & (func.coalesce(Analysis.started_at, Analysis.created_at) < processing_before),
                )
            )
        )
        return list(rows)


async def requeue_lost_jobs(
    factory: async_sessionmaker[AsyncSession],
    client: redis.Redis,
    queue: AnalysisQueue,
    queued_grace_s: float,
    processing_grace_s: float,
) -> list[uuid.UUID]:
    """Re-enqueue unfinished analyses that have no message in the broker (``client``: the broker's Redis); returns
    their ids."""
    now = utcnow()
    candidates = await stale_unfinished(
        factory, now - timedelta(seconds=queued_grace_s), now - timedelta(seconds=processing_grace_s)
    )
    if not candidates:
        return []
    in_broker = task_ids_in_broker(client, queue.queue)
    lost = [analysis_id for analysis_id in candidates if str(analysis_id) not in in_broker]
    for analysis_id in lost:
        log.warning("analysis %s has no message in the broker; re-queueing it", analysis_id)
        queue.enqueue(analysis_id)
    return lost


@dataclass
class FileSweep:
    """What one orphan-file sweep did."""

    removed: list[Path] = field(default_factory=list)
    published: list[Path] = field(default_factory=list)


async def video_paths_of(
    factory: async_sessionmaker[AsyncSession], ids: set[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """``video_path`` of each of ``ids`` that still has a row."""
    found: dict[uuid.UUID, str | None] = {}
    ordered = sorted(ids)
    async with factory() as session:
        for start in range(0, len(ordered), 500):
            rows = await session.execute(
                select(Analysis.id, Analysis.video_path).where(Analysis.id.in_(ordered[start : start + 500]))
            )
            found.update({row[0]: row[1] for row in rows})
    return found


async def sweep_orphan_files(
    factory: async_sessionmaker[AsyncSession],
    storage: Storage,
    part_grace_s: float,
    file_grace_s: float,
    now: float | None = None,
) -> FileSweep:
    """Delete storage entries no row owns (older than their grace); publish committed-but-unpublished uploads."""
    report = FileSweep()
    entries = list(storage.entries())
    if not entries:
        return report
    rows = await video_paths_of(factory, {entry.analysis_id for entry in entries})
    now = time.time() if now is None else now
    for entry in entries:
        age = now - entry.modified_at
        owned = entry.analysis_id in rows
        video_path = rows.get(entry.analysis_id)
        if not owned:
            if age > (part_grace_s if entry.kind == "part" else file_grace_s):
                storage.remove(entry)
                report.removed.append(entry.path)
        elif entry.kind == "part" and age > file_grace_s:
            final = storage.resolve(video_path) if video_path else None
            if final is not None and not final.exists():
                storage.publish(entry.path, final)
                report.published.append(final)
            else:
                storage.remove(entry)
                report.removed.append(entry.path)
        elif entry.kind == "video" and age > file_grace_s and video_path != storage.relative(entry.path):
            storage.remove(entry)  # released by a finished job that died before deleting it
            report.removed.append(entry.path)
    for path in report.removed:
        log.warning("removed %s: no analysis owns it", path)
    for path in report.published:
        log.warning("published %s: its row was committed but the upload never was", path)
    return report


def acquire_sweep_lock(client: redis.Redis, ttl_s: int) -> bool:
    """Only one worker sweeps per interval, however many are running."""
    return bool(client.set(LOCK_KEY, "1", nx=True, ex=ttl_s))


def start_recovery_thread(queue: AnalysisQueue) -> threading.Thread | None:
    """Run the sweep in a daemon thread of the worker's main process (own loop, engine and Redis clients)."""
    settings = get_settings()
    if settings.recovery_interval_s <= 0:
        return None

    def loop_forever() -> None:
        loop = asyncio.new_event_loop()
        sessions = create_sessionmaker(create_engine(settings.database_url))
        client = redis.from_url(settings.redis_url)  # the sweep lock
        broker = redis.from_url(settings.broker_url)  # the queue and the reserved messages
        storage = Storage(settings.storage_root)
        while True:
            try:
                if acquire_sweep_lock(client, max(1, int(settings.recovery_interval_s * 0.8))):
                    # files first: a published upload must be in place before its job is re-queued
                    loop.run_until_complete(
                        sweep_orphan_files(
                            sessions, storage, settings.orphan_part_grace_s, settings.orphan_file_grace_s
                        )
                    )
                    loop.run_until_complete(
                        requeue_lost_jobs(
                            sessions,
                            broker,
                            queue,
                            settings.recovery_queued_grace_s,
                            settings.recovery_processing_grace_s,
                        )
                    )
            except Exception:  # the sweep must never take the worker down
                log.exception("lost-job sweep failed; will try again")
            time.sleep(settings.recovery_interval_s)

    thread = threading.Thread(target=loop_forever, name="bloomwell-recovery", daemon=True)
    thread.start()
    return thread

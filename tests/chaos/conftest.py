"""Fault-injection rig: a real prefork Celery worker in its own process group, a private Redis that can
be restarted empty, this session's PostgreSQL database, a webhook receiver, and job bookkeeping.

Time limits are short here (hard 40 s, visibility timeout 50 s, sweeps every 5 s) so recovery bounds
can be observed within a test; the production defaults are the same mechanism with larger numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scripts.devinfra import port_open, redis_server_binary, stop_process_groups
from services.common.celery_app import AnalysisQueue
from services.common.db import create_engine, create_sessionmaker
from services.common.models import Analysis, AnalysisResult
from services.common.settings import REPO_ROOT, QueueSettings
from services.common.storage import Storage
from services.inference_worker.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify, verify_delivery
from tests.fixtures.worker import WEBHOOK_TEST_SECRET
from tests.worker.conftest import shared_video
from tests.worker.db import create_analysis

INFERENCE_QUEUE: str = QueueSettings.model_fields["inference_queue"].default
HARD_LIMIT_S = 40
VISIBILITY_MARGIN_S = 10
RECOVERY_BOUND_S = HARD_LIMIT_S + VISIBILITY_MARGIN_S + 30
"""A job whose worker died must end within the visibility timeout plus a restore scan and its own run."""


class Webhooks:
    """A real HTTP receiver on loopback counting requests per analysis id, and the idempotency key of each (only
    deliveries whose signatures verify are kept)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.unsigned = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw)
                receiver.counts[body["analysis_id"]] += 1
                if verify(raw, WEBHOOK_TEST_SECRET, self.headers.get(SIGNATURE_HEADER, "")) and verify_delivery(
                    raw, WEBHOOK_TEST_SECRET, self.headers
                ):
                    receiver.keys[body["analysis_id"]].append(self.headers[DELIVERY_HEADER])
                else:
                    receiver.unsigned += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Rig:
    """Everything a chaos test drives."""

    env: dict[str, str]
    redis_port: int
    redis_dir: Path
    storage: Storage
    sessions: async_sessionmaker[AsyncSession]
    webhooks: Webhooks
    log_path: Path
    loop: asyncio.AbstractEventLoop
    redis_process: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    jobs: list[uuid.UUID] = field(default_factory=list)

    # --- Redis -----------------------------------------------------------------------------------
    def start_redis(self) -> None:
        """A non-persistent Redis on the rig's fixed port (restarting it loses every key)."""
        self.redis_process = subprocess.Popen(
            [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no", "--dir", str(self.redis_dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", self.redis_port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def restart_redis(self) -> tuple[int, int]:
        """kill -9 the rig's Redis and start an empty one on the same port; (old pid, new pid), after checking that the
        old server died of the signal and the new one is a different, empty process."""
        assert self.redis_process is not None and self.redis_process.poll() is None, "Redis was not running"
        old = self.redis_process
        old.kill()
        assert old.wait(10) == -signal.SIGKILL
        self.start_redis()
        assert self.redis_process is not None and self.redis_process.pid != old.pid
        return old.pid, self.redis_process.pid

    # --- worker ----------------------------------------------------------------------------------
    def start_worker(self, crash_mark: Path | None = None) -> None:
        """A prefork worker with one child in its own process group; with ``crash_mark``, one that kill -9s itself at
        its first webhook delivery (``tests/chaos/crashing_worker.py``)."""
        entry = ["tests.chaos.crashing_worker"] if crash_mark else ["celery"]
        command = [sys.executable, "-m", *entry, "-A", "services.inference_worker.worker", "worker",
                   "-Q", INFERENCE_QUEUE, "--concurrency", "1", "-n", f"chaos-{uuid.uuid4().hex[:6]}@localhost",
                   "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        env = {**self.env, "CHAOS_CRASH_MARK": str(crash_mark)} if crash_mark else self.env
        with self.log_path.open("ab") as log:
            self.worker = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)

    def pool_children(self) -> list[psutil.Process]:
        assert self.worker is not None
        try:
            return psutil.Process(self.worker.pid).children()
        except psutil.NoSuchProcess:
            return []

    def worker_processes(self) -> list[psutil.Process]:
        """The worker's main process and its pool children (empty when it is not running)."""
        assert self.worker is not None
        try:
            main = psutil.Process(self.worker.pid)
            return [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_pool_child(self) -> int:
        """kill -9 the prefork child running jobs; returns its pid once it is gone."""
        children = self.pool_children()
        assert children, self.log_tail()
        children[0].send_signal(signal.SIGKILL)
        assert_gone(children[0])
        return children[0].pid

    def kill_worker(self) -> list[int]:
        """kill -9 the worker's whole process group (as an out-of-memory kill or a lost node would); returns the pids
        of the processes that were running, once every one of them is gone."""
        assert self.worker is not None and self.worker.poll() is None, "the worker was not running"
        processes = self.worker_processes()
        assert len(processes) >= 2, ("no pool child to kill", self.log_tail())
        os.killpg(self.worker.pid, signal.SIGKILL)
        assert self.worker.wait(10) == -signal.SIGKILL
        for process in processes:
            assert_gone(process)
        self.worker = None
        return [process.pid for process in processes]

    def wait_until_worker_ready(self, timeout_s: float = 180) -> None:
        """Until the worker logs that it takes jobs."""
        deadline = time.monotonic() + timeout_s
        while "ready." not in self.log_tail(100_000):
            assert self.worker is not None and self.worker.poll() is None, self.log_tail()
            assert time.monotonic() < deadline, "the worker did not become ready:\n" + self.log_tail()
            time.sleep(0.2)

    def stop_worker(self) -> None:
        if self.worker is not None:
            stop_process_groups([self.worker], timeout_s=30)
        self.worker = None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    # --- jobs ------------------------------------------------------------------------------------
    def submit(self, count: int = 1, video_name: str = "fer_test.mp4") -> list[uuid.UUID]:
        """Insert ``count`` analyses with a real face video and enqueue them as the gateway does."""
        video = shared_video(video_name)
        queue = AnalysisQueue.for_settings(QueueSettings(redis_url=self.env["REDIS_URL"],
                                                         celery_broker_url=self.env["CELERY_BROKER_URL"]))
        ids = []
        for _ in range(count):
            aid = self.run(create_analysis(self.sessions, self.storage, video, webhook_url=self.webhooks.url))
            queue.enqueue(aid)
            ids.append(aid)
        self.jobs.extend(ids)
        return ids

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def statuses(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        async def read() -> dict[uuid.UUID, str]:
            async with self.sessions() as session:
                rows = await session.execute(select(Analysis.id, Analysis.status).where(Analysis.id.in_(ids)))
                return {row[0]: row[1].value for row in rows}

        return self.run(read())

    def attempts(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many times each job was claimed by a worker (a job interrupted by a kill is claimed again)."""
        async def read() -> dict[uuid.UUID, int]:
            async with self.sessions() as session:
                rows = await session.execute(select(Analysis.id, Analysis.attempts).where(Analysis.id.in_(ids)))
                return {row[0]: row[1] for row in rows}

        return self.run(read())

    def wait_for_status(self, aid: uuid.UUID, wanted: set[str], timeout_s: float) -> float:
        """Seconds until the analysis reached one of ``wanted``."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.statuses([aid]).get(aid) in wanted:
                return time.monotonic() - start
            time.sleep(0.2)
        raise AssertionError(f"{aid} not {wanted} after {timeout_s:.0f} s:\n{self.log_tail()}")

    def wait_all_terminal(self, ids: list[uuid.UUID], timeout_s: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if all(s in ("succeeded", "failed") for s in self.statuses(ids).values()):
                return time.monotonic() - start
            time.sleep(0.5)
        raise AssertionError(f"not all terminal: {self.statuses(ids)}\n{self.log_tail()}")

    def assert_each_ended_exactly_once(self, ids: list[uuid.UUID]) -> None:
        """Terminal, a result row exactly for the succeeded ones, one webhook each, no video left."""

        async def results() -> dict[uuid.UUID, int]:
            async with self.sessions() as session:
                rows = await session.execute(
                    select(AnalysisResult.analysis_id, func.count()).where(AnalysisResult.analysis_id.in_(ids))
                    .group_by(AnalysisResult.analysis_id)
                )
                return {row[0]: row[1] for row in rows}

        statuses = self.statuses(ids)
        counts = self.run(results())
        deadline = time.monotonic() + 20  # sent right after the final commit, or by the outbox sweeper (every 5 s)
        while time.monotonic() < deadline and any(self.webhooks.counts[str(aid)] < 1 for aid in ids):
            time.sleep(0.2)
        time.sleep(2)  # room for a second, wrong one
        for aid in ids:
            assert statuses[aid] in ("succeeded", "failed"), (aid, statuses[aid])
            assert counts.get(aid, 0) == (1 if statuses[aid] == "succeeded" else 0), (aid, statuses[aid])
            assert self.webhooks.counts[str(aid)] == 1, (aid, self.webhooks.counts[str(aid)], self.log_tail())
            assert len(self.webhooks.keys[str(aid)]) == 1, ("signed delivery", aid, self.webhooks.keys[str(aid)])
            assert not list((self.storage.root / "uploads").glob(f"{aid}.*")), aid

    def assert_no_orphan_files(self) -> None:
        """Every file or crops folder in storage belongs to an existing row."""
        entries = list(self.storage.entries())

        async def existing() -> set[uuid.UUID]:
            async with self.sessions() as session:
                ids = [e.analysis_id for e in entries]
                return set(await session.scalars(select(Analysis.id).where(Analysis.id.in_(ids)))) if ids else set()

        owned = self.run(existing())
        orphans = [e.path for e in entries if e.analysis_id not in owned]
        assert orphans == [], orphans


def assert_gone(process: psutil.Process, timeout_s: float = 10) -> None:
    """The process no longer runs (reaped, or a zombie waiting for its parent)."""
    try:
        process.wait(timeout_s)
    except psutil.TimeoutExpired:
        assert process.status() == psutil.STATUS_ZOMBIE, (process.pid, process.status())
    except psutil.NoSuchProcess:
        pass


@pytest.fixture
def rig(database_url: str, tiny_model_path: Path, tmp_path: Path) -> Iterator[Rig]:
    from scripts.devinfra import free_port

    port = free_port()
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir()
    webhooks = Webhooks()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{port}/0",
        "BLOOMWELL_DATA_DIR": str(tmp_path / "data"),
        "STORAGE_DIR": str(storage_dir),
        "MODEL_PATH": str(tiny_model_path),
        "FACE_DETECTOR": "haar",
        "TORCH_NUM_THREADS": "1",
        "INFERENCE_TTA": "none",
        "WEBHOOK_SECRET": WEBHOOK_TEST_SECRET,
        "TASK_SOFT_TIME_LIMIT_S": str(HARD_LIMIT_S - 10),
        "TASK_TIME_LIMIT_S": str(HARD_LIMIT_S),
        "BROKER_VISIBILITY_MARGIN_S": str(VISIBILITY_MARGIN_S),
        "RECOVERY_INTERVAL_S": "5",
        "WEBHOOK_SWEEP_INTERVAL_S": "1",
        "RECOVERY_QUEUED_GRACE_S": "15",
        "RECOVERY_PROCESSING_GRACE_S": str(HARD_LIMIT_S + VISIBILITY_MARGIN_S + 5),
        "ORPHAN_FILE_GRACE_S": "5",
        "ORPHAN_PART_GRACE_S": "5",
        "PYTHONUNBUFFERED": "1",
    }
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)
    rig = Rig(env=env, redis_port=port, redis_dir=redis_dir, storage=Storage(storage_dir),
              sessions=create_sessionmaker(engine), webhooks=webhooks, log_path=tmp_path / "worker.log", loop=loop)
    rig.start_redis()
    try:
        yield rig
    finally:
        rig.stop_worker()
        if rig.redis_process is not None:
            rig.redis_process.kill()
            rig.redis_process.wait(10)
        webhooks.close()
        loop.run_until_complete(engine.dispose())
        loop.close()

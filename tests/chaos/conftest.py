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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scripts.devinfra import port_open, redis_server_binary
from services.common.celery_app import AnalysisQueue
from services.common.db import create_engine, create_sessionmaker
from services.common.models import Analysis, AnalysisResult
from services.common.settings import REPO_ROOT, QueueSettings
from services.common.storage import Storage
from tests.fixtures.worker import WEBHOOK_TEST_SECRET
from tests.worker.conftest import shared_video
from tests.worker.db import create_analysis

INFERENCE_QUEUE: str = QueueSettings.model_fields["inference_queue"].default
HARD_LIMIT_S = 40
VISIBILITY_MARGIN_S = 10
RECOVERY_BOUND_S = HARD_LIMIT_S + VISIBILITY_MARGIN_S + 30
"""A job whose worker died must end within the visibility timeout plus a restore scan and its own run."""


class Webhooks:
    """A real HTTP receiver on loopback counting deliveries per analysis id."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.counts[body["analysis_id"]] += 1
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

    def restart_redis(self) -> None:
        """kill -9 the rig's Redis and start an empty one on the same port."""
        assert self.redis_process is not None
        self.redis_process.kill()
        self.redis_process.wait(10)
        self.start_redis()

    # --- worker ----------------------------------------------------------------------------------
    def start_worker(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "services.inference_worker.worker", "worker",
                   "-Q", INFERENCE_QUEUE, "--concurrency", "1", "-n", f"chaos-{uuid.uuid4().hex[:6]}@localhost",
                   "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with self.log_path.open("ab") as log:
            self.worker = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)

    def pool_children(self) -> list[psutil.Process]:
        assert self.worker is not None
        try:
            return psutil.Process(self.worker.pid).children()
        except psutil.NoSuchProcess:
            return []

    def kill_pool_child(self) -> int:
        """kill -9 the prefork child running jobs; returns its pid."""
        children = self.pool_children()
        assert children, self.log_tail()
        children[0].send_signal(signal.SIGKILL)
        return children[0].pid

    def kill_worker(self) -> None:
        """kill -9 the worker's whole process group (as an out-of-memory kill or a lost node would)."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        self.worker = None

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker = None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    # --- jobs ------------------------------------------------------------------------------------
    def submit(self, count: int = 1) -> list[uuid.UUID]:
        """Insert ``count`` analyses with a real face video and enqueue them as the gateway does."""
        video = shared_video("fer_test.mp4")
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
        time.sleep(2)  # a webhook is sent right after the final commit
        for aid in ids:
            assert statuses[aid] in ("succeeded", "failed"), (aid, statuses[aid])
            assert counts.get(aid, 0) == (1 if statuses[aid] == "succeeded" else 0), (aid, statuses[aid])
            assert self.webhooks.counts[str(aid)] == 1, (aid, self.webhooks.counts[str(aid)], self.log_tail())
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

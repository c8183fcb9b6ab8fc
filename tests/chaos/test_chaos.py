"""Chaos: real processes killed with SIGKILL, Redis restarted empty, PostgreSQL backends terminated,
the gateway killed mid-upload, the worker killed between a job's end and its webhook. Each test first checks that its
fault really happened (the process died of the signal mid-job, the job was run again, Redis is a new empty process,
the worker's own backends were terminated, the upload got no answer), then that each job ended exactly once (one
terminal status, a result row only when it succeeded, one signed webhook), none stayed stuck beyond its bound, and no
file is left that no row owns. ``make test-chaos`` runs these (slow: several minutes)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from scripts.devinfra import free_port
from services.common.db import create_engine
from services.common.models import DeliveryStatus, WebhookDelivery
from services.common.settings import REPO_ROOT
from services.inference_worker.recovery import sweep_orphan_files
from tests.chaos.conftest import RECOVERY_BOUND_S, Rig, assert_gone
from tests.worker.conftest import shared_video

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(900)]


def _report(name: str, value: str) -> None:
    print(f"\nCHAOS {name}: {value}", flush=True)


LONG_VIDEO = "fer_woman2.mp4"
"""15.6 s, 78 sampled frames: a job long enough that a kill lands while it runs."""


def test_pool_child_killed_repeatedly(rig: Rig) -> None:
    rig.start_worker()
    jobs = rig.submit(4, video_name=LONG_VIDEO)
    interrupted: dict[uuid.UUID, int] = {}
    for aid in jobs[:3]:  # kill the child while each of three jobs is being processed
        rig.wait_for_status(aid, {"processing", "succeeded", "failed"}, timeout_s=180)
        if rig.statuses([aid])[aid] == "processing":
            interrupted[aid] = rig.kill_pool_child()  # returns once that process is gone
            assert rig.statuses([aid])[aid] == "processing"  # killed mid-job: nothing could end it
            time.sleep(1)
    assert interrupted, "no pool child was killed while it ran a job"
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    attempts = rig.attempts(jobs)
    assert all(attempts[aid] >= 2 for aid in interrupted), attempts  # each interrupted job was run again
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("pool child kill -9", f"{len(interrupted)} kills over {len(jobs)} jobs (each re-run: attempts "
            f"{[attempts[a] for a in interrupted]}); all ended once, {took:.0f} s after")


def test_whole_worker_killed_mid_job_recovers_within_the_bound(rig: Rig) -> None:
    rig.start_worker()
    recoveries = []
    for _ in range(2):
        [aid] = rig.submit(1, video_name=LONG_VIDEO)
        rig.wait_for_status(aid, {"processing"}, timeout_s=180)
        killed_at = time.monotonic()
        rig.kill_worker()  # its message stays in the broker's unacked set; returns once every process is gone
        assert rig.statuses([aid])[aid] == "processing" and rig.attempts([aid])[aid] == 1  # killed mid-job
        rig.start_worker()
        rig.wait_for_status(aid, {"succeeded", "failed"}, timeout_s=RECOVERY_BOUND_S + 60)
        recovery = time.monotonic() - killed_at
        recoveries.append(recovery)
        assert recovery <= RECOVERY_BOUND_S + 60, recovery
        assert rig.attempts([aid])[aid] == 2  # ended by a second run, after the kill
        rig.assert_each_ended_exactly_once([aid])
    rig.assert_no_orphan_files()
    _report("whole-worker kill -9", "recovered in " + ", ".join(f"{r:.0f} s" for r in recoveries)
            + f" (visibility timeout {rig.env['TASK_TIME_LIMIT_S']}+{rig.env['BROKER_VISIBILITY_MARGIN_S']} s)")


def test_redis_restarted_without_persistence(rig: Rig) -> None:
    rig.start_worker()
    jobs = rig.submit(3)
    rig.wait_for_status(jobs[0], {"processing", "succeeded", "failed"}, timeout_s=180)
    restarted_at = time.monotonic()
    old_pid, new_pid = rig.restart_redis()  # queue, unacked set and locks are gone (checked: killed, new process)
    waiting = [aid for aid, status in rig.statuses(jobs).items() if status == "queued"]
    assert waiting, "every job had left the queue before the restart: nothing was lost"
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("redis restart (empty)", f"Redis {old_pid} killed, {new_pid} started empty with {len(waiting)} jobs "
            f"still queued; {len(jobs)} jobs ended once, last {time.monotonic() - restarted_at:.0f} s after the "
            f"restart ({took:.0f} s wait)")


def test_postgres_backends_terminated_mid_job(rig: Rig, database_url: str) -> None:
    rig.start_worker()
    jobs = rig.submit(3, video_name=LONG_VIDEO)

    pg_port = make_url(database_url).port or 5432

    def worker_ports() -> list[int]:
        """Local ports of the worker's connections to PostgreSQL (main process and pool child)."""
        ports = []
        for process in rig.worker_processes():
            with contextlib.suppress(psutil.Error):
                ports += [c.laddr.port for c in process.net_connections("tcp") if c.raddr and c.raddr.port == pg_port]
        return ports

    async def terminate(ports: list[int]) -> int:
        """pg_terminate_backend on the worker's own backends; how many were terminated."""
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = ANY(:ports)"),
                    {"ports": ports},
                )
                return sum(1 for (done,) in rows if done)
        finally:
            await engine.dispose()

    terminated = 0
    for aid in jobs:
        rig.wait_for_status(aid, {"processing", "succeeded", "failed"}, timeout_s=180)
        ports = worker_ports()
        if ports:
            terminated += rig.run(terminate(ports))
        time.sleep(1.5)
    assert terminated >= 1, "no backend of the worker was terminated"
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("pg_terminate_backend", f"{terminated} backends of the worker terminated; {len(jobs)} jobs ended once "
            f"({took:.0f} s)")


def test_worker_killed_between_the_result_commit_and_the_webhook_delivers_it_once(rig: Rig, tmp_path: Path) -> None:
    """The worker dies (kill -9 of its whole process group) right after the job's end and its outbox row were
    committed, before the webhook was sent; the next worker's outbox sweeper delivers it, once, and the job's message,
    handed out again after the visibility timeout, does not run it (or announce it) a second time."""
    mark = tmp_path / "crashed-at-delivery"
    rig.start_worker(crash_mark=mark)
    rig.wait_until_worker_ready()
    processes = rig.worker_processes()
    assert len(processes) >= 2, rig.log_tail()
    [aid] = rig.submit(1)
    assert rig.worker is not None
    deadline = time.monotonic() + 180
    while rig.worker.poll() is None:  # it kills itself at its first delivery attempt
        assert time.monotonic() < deadline, "the worker never reached a webhook delivery:\n" + rig.log_tail()
        time.sleep(0.2)
    killed_at = time.monotonic()
    assert rig.worker.returncode == -signal.SIGKILL and mark.is_file()
    for process in processes:
        assert_gone(process)
    rig.worker = None

    async def delivery() -> WebhookDelivery | None:
        async with rig.sessions() as session:
            return await session.scalar(select(WebhookDelivery).where(WebhookDelivery.analysis_id == aid))

    row = rig.run(delivery())
    assert rig.statuses([aid])[aid] == "succeeded"  # the end was committed before the kill…
    assert row is not None and row.status == DeliveryStatus.pending and row.attempts == 0  # …with its outbox row
    assert mark.read_text().split()[1] == str(row.id)
    assert rig.webhooks.counts[str(aid)] == 0  # and nothing was sent

    rig.start_worker()
    deadline = time.monotonic() + 120
    while rig.webhooks.counts[str(aid)] == 0:
        assert time.monotonic() < deadline, "the webhook was never delivered:\n" + rig.log_tail()
        time.sleep(0.2)
    delivered_after = time.monotonic() - killed_at
    deadline = time.monotonic() + RECOVERY_BOUND_S + 60
    while f"analysis {aid} is already succeeded; duplicate delivery ignored" not in rig.log_tail(1_000_000):
        assert time.monotonic() < deadline, "the killed worker's message never came back:\n" + rig.log_tail()
        time.sleep(0.5)
    rig.assert_each_ended_exactly_once([aid])
    assert rig.webhooks.keys[str(aid)] == [str(row.id)]  # signed, with the outbox row's idempotency key
    row = rig.run(delivery())
    assert row is not None and row.status == DeliveryStatus.delivered and row.attempts == 1
    rig.assert_no_orphan_files()
    _report("kill -9 between result commit and webhook", f"delivered once by the next worker's sweeper "
            f"{delivered_after:.0f} s after the kill; the job's message came back and was skipped")


def _start_gateway(rig: Rig) -> tuple[list[subprocess.Popen[bytes]], str]:
    auth_port, api_port = free_port(), free_port()
    env = {**rig.env, "AUTH_URL": f"http://127.0.0.1:{auth_port}"}
    python = sys.executable
    common = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
    processes = [
        subprocess.Popen([python, "-m", "uvicorn", "--factory", "services.auth.main:create_app",
                          "--port", str(auth_port), *common], cwd=REPO_ROOT, env=env, start_new_session=True),
        subprocess.Popen([python, "-m", "uvicorn", "--factory", "services.api.main:create_app",
                          "--port", str(api_port), *common], cwd=REPO_ROOT, env=env, start_new_session=True),
    ]
    for port in (auth_port, api_port):
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.2)
    return processes, f"http://127.0.0.1:{api_port}"


def _stop(processes: list[subprocess.Popen[bytes]], sig: int) -> list[int | None]:
    """Send ``sig`` to each process's group; their exit codes (``-sig`` for those it killed)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(20)
    return [process.returncode for process in processes]


def test_gateway_killed_mid_upload_leaves_no_orphan(rig: Rig, tmp_path: Path) -> None:
    # a ~24 MB upload: the real face video followed by padding inside the same file (still probes)
    video = tmp_path / "big.mp4"
    video.write_bytes(shared_video("fer_test.mp4").read_bytes())
    with video.open("ab") as handle:
        handle.write(os.urandom(24 * 1024 * 1024))
    random.seed(14)
    left_behind = []
    answers: list[int | None] = []
    incoming = rig.storage.root / "uploads" / ".incoming"
    for trial in range(4):
        processes, base = _start_gateway(rig)
        email = f"chaos-{uuid.uuid4().hex[:8]}@bloomwell.dev"
        body = {"email": email, "password": "chaos-password", "first_name": "C", "last_name": "K"}
        assert httpx.post(f"{base}/auth/signup", json=body, timeout=30).status_code == 201
        token = httpx.post(f"{base}/auth/login", json={"email": email, "password": "chaos-password"},
                           timeout=30).json()["access_token"]

        def upload(base: str = base, token: str = token) -> None:
            boundary = "chaosboundary"

            def chunks() -> Iterator[bytes]:  # ~2.5 s on the wire, so the kill lands mid-body, mid-copy or mid-probe
                yield (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n'
                       "Content-Type: video/mp4\r\n\r\n").encode()
                data = video.read_bytes()
                for start in range(0, len(data), 1024 * 1024):
                    yield data[start : start + 1024 * 1024]
                    time.sleep(0.1)
                yield f"\r\n--{boundary}--\r\n".encode()

            try:
                answers.append(httpx.post(f"{base}/v1/analyses", content=chunks(), timeout=60, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}",
                }).status_code)
            except httpx.HTTPError:  # the gateway dies under it: that is the point
                answers.append(None)

        sender = threading.Thread(target=upload)
        sender.start()
        if trial % 2 == 0:
            time.sleep(random.uniform(0.5, 2.5))  # somewhere in the body
        else:  # the moment the checked copy is being written: the .part case
            deadline = time.monotonic() + 30
            while not (incoming.exists() and any(incoming.iterdir())) and time.monotonic() < deadline:
                time.sleep(0.005)
        assert processes[1].poll() is None, "the gateway was not running when it was to be killed"
        assert _stop(processes[1:], signal.SIGKILL) == [-signal.SIGKILL]
        sender.join(60)
        _stop(processes[:1], signal.SIGTERM)
        left_behind.append(sum(1 for _ in rig.storage.entries()))
    assert answers == [None] * 4, answers  # every kill cut an upload short: none was answered
    report = rig.run(sweep_orphan_files(rig.sessions, rig.storage, part_grace_s=0, file_grace_s=0))
    rig.assert_no_orphan_files()
    _report("gateway kill -9 mid-upload", f"4 kills; storage entries left right after each kill {left_behind}; "
            f"the sweep removed {len(report.removed)}, published {len(report.published)}; orphans now 0")

"""Chaos: real processes killed with SIGKILL, Redis restarted empty, PostgreSQL backends terminated,
the gateway killed mid-upload. Each job must end exactly once (one terminal status, a result row only
when it succeeded, one webhook), none may stay stuck beyond its bound, and no file may be left that no
row owns. ``make test-chaos`` runs these (slow: several minutes)."""

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
import pytest
from sqlalchemy import text

from scripts.devinfra import free_port
from services.common.db import create_engine
from services.common.settings import REPO_ROOT
from services.inference_worker.recovery import sweep_orphan_files
from tests.chaos.conftest import RECOVERY_BOUND_S, Rig
from tests.worker.conftest import shared_video

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(900)]


def _report(name: str, value: str) -> None:
    print(f"\nCHAOS {name}: {value}", flush=True)


def test_pool_child_killed_repeatedly(rig: Rig) -> None:
    rig.start_worker()
    jobs = rig.submit(4)
    kills = 0
    for aid in jobs[:3]:  # kill the child while each of three jobs is being processed
        rig.wait_for_status(aid, {"processing", "succeeded", "failed"}, timeout_s=180)
        if rig.statuses([aid])[aid] == "processing":
            rig.kill_pool_child()
            kills += 1
            time.sleep(1)
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("pool child kill -9", f"{kills} kills over {len(jobs)} jobs; all ended once, {took:.0f} s after")


def test_whole_worker_killed_mid_job_recovers_within_the_bound(rig: Rig) -> None:
    rig.start_worker()
    recoveries = []
    for _ in range(2):
        [aid] = rig.submit(1)
        rig.wait_for_status(aid, {"processing"}, timeout_s=180)
        killed_at = time.monotonic()
        rig.kill_worker()  # its message stays in the broker's unacked set
        rig.start_worker()
        rig.wait_for_status(aid, {"succeeded", "failed"}, timeout_s=RECOVERY_BOUND_S + 60)
        recovery = time.monotonic() - killed_at
        recoveries.append(recovery)
        assert recovery <= RECOVERY_BOUND_S + 60, recovery
        rig.assert_each_ended_exactly_once([aid])
    rig.assert_no_orphan_files()
    _report("whole-worker kill -9", "recovered in " + ", ".join(f"{r:.0f} s" for r in recoveries)
            + f" (visibility timeout {rig.env['TASK_TIME_LIMIT_S']}+{rig.env['BROKER_VISIBILITY_MARGIN_S']} s)")


def test_redis_restarted_without_persistence(rig: Rig) -> None:
    rig.start_worker()
    jobs = rig.submit(3)
    rig.wait_for_status(jobs[0], {"processing", "succeeded", "failed"}, timeout_s=180)
    restarted_at = time.monotonic()
    rig.restart_redis()  # queue, unacked set and locks are gone
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("redis restart (empty)", f"{len(jobs)} jobs ended once, last {time.monotonic() - restarted_at:.0f} s "
            f"after the restart ({took:.0f} s wait)")


def test_postgres_backends_terminated_mid_job(rig: Rig, database_url: str) -> None:
    rig.start_worker()
    jobs = rig.submit(3)
    database = database_url.rsplit("/", 1)[1]

    async def terminate() -> int:
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = :db AND pid <> pg_backend_pid()"),
                    {"db": database},
                )
                return len(rows.fetchall())
        finally:
            await engine.dispose()

    terminated = 0
    for aid in jobs:
        rig.wait_for_status(aid, {"processing", "succeeded", "failed"}, timeout_s=180)
        terminated += rig.run(terminate())
        time.sleep(1.5)
    took = rig.wait_all_terminal(jobs, timeout_s=RECOVERY_BOUND_S * 3)
    rig.assert_each_ended_exactly_once(jobs)
    rig.assert_no_orphan_files()
    _report("pg_terminate_backend", f"{terminated} backends terminated; {len(jobs)} jobs ended once ({took:.0f} s)")


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


def _stop(processes: list[subprocess.Popen[bytes]], sig: int) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(20)


def test_gateway_killed_mid_upload_leaves_no_orphan(rig: Rig, tmp_path: Path) -> None:
    # a ~24 MB upload: the real face video followed by padding inside the same file (still probes)
    video = tmp_path / "big.mp4"
    video.write_bytes(shared_video("fer_test.mp4").read_bytes())
    with video.open("ab") as handle:
        handle.write(os.urandom(24 * 1024 * 1024))
    random.seed(14)
    left_behind = []
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

            with contextlib.suppress(httpx.HTTPError):  # the gateway dies under it: that is the point
                httpx.post(f"{base}/v1/analyses", content=chunks(), timeout=60, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})

        sender = threading.Thread(target=upload)
        sender.start()
        if trial % 2 == 0:
            time.sleep(random.uniform(0.5, 2.5))  # somewhere in the body
        else:  # the moment the checked copy is being written: the .part case
            deadline = time.monotonic() + 30
            while not (incoming.exists() and any(incoming.iterdir())) and time.monotonic() < deadline:
                time.sleep(0.005)
        _stop(processes[1:], signal.SIGKILL)
        sender.join(60)
        _stop(processes[:1], signal.SIGTERM)
        left_behind.append(sum(1 for _ in rig.storage.entries()))
    report = rig.run(sweep_orphan_files(rig.sessions, rig.storage, part_grace_s=0, file_grace_s=0))
    rig.assert_no_orphan_files()
    _report("gateway kill -9 mid-upload", f"4 kills; storage entries left right after each kill {left_behind}; "
            f"the sweep removed {len(report.removed)}, published {len(report.published)}; orphans now 0")

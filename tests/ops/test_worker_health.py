"""Worker health costs milliseconds and ``/readyz`` counts every worker.

In compose the health check (``celery inspect ping``) imported torch: 17 s per check, over its 15 s timeout,
so busy workers were reported unhealthy and timed-out checks piled up; and ``/readyz`` said ``workers: 1`` with
three up. Now the worker's main process beats (a file, and a sorted set in Redis) and the check reads the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.common.heartbeat import check_heartbeat_file as check
from services.common.settings import REPO_ROOT
from tests.fixtures.worker import WorkerHandle, start_worker, stop_worker

pytestmark = pytest.mark.integration

CHECKER = "services.inference_worker.healthcheck"


def _heartbeat_file(worker: WorkerHandle) -> Path:
    return Path(worker.env["WORKER_HEARTBEAT_FILE"])


def _wait_for(predicate, timeout_s: float = 60.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached within {timeout_s:.0f} s")


def test_health_check_of_a_running_worker_imports_no_ml_stack(inference_worker: WorkerHandle) -> None:
    path = _wait_for(lambda: _heartbeat_file(inference_worker).is_file() and _heartbeat_file(inference_worker),
                     what="heartbeat file")
    beat = json.loads(path.read_text())
    assert beat["name"] == inference_worker.name and beat["pid"] == inference_worker.process.pid
    code = (f"import sys, runpy; sys.argv = ['healthcheck', '--file', {str(path)!r}]\n"
            f"try:\n    runpy.run_module({CHECKER!r}, run_name='__main__')\n"
            "except SystemExit as exit:\n    print('heavy:', sorted(m for m in ('torch', 'celery', 'cv2', 'numpy', "
            "'redis', 'sqlalchemy') if m in sys.modules)); sys.exit(exit.code)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"ok: {inference_worker.name} beat")
    assert "heavy: []" in result.stdout


def test_health_check_refuses_stale_missing_and_dead(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    assert check(path, 45)[0] is False and "no heartbeat file" in check(path, 45)[1]
    path.write_text(json.dumps({"name": "w", "pid": os.getpid(), "time": time.time() - 120}))
    healthy, reason = check(path, 45)
    assert not healthy and "last heartbeat 120 s ago" in reason
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(json.dumps({"name": "w", "pid": dead.pid, "time": time.time()}))
    assert check(path, 45) == (False, f"the worker process {dead.pid} is gone")
    path.write_text("{not json")
    assert check(path, 45)[0] is False
    result = subprocess.run([sys.executable, "-m", CHECKER, "--file", str(path)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout.startswith("unhealthy: unreadable heartbeat file")


async def test_readyz_counts_every_worker(
    committing_client: httpx.AsyncClient, inference_worker: WorkerHandle, test_env: dict[str, str],
    tiny_model_path: Path, tmp_path: Path,
) -> None:
    async def workers() -> int:
        response = await committing_client.get("/readyz")
        return int(response.json()["workers"])

    async def wait_workers(expected: int) -> None:
        deadline = time.monotonic() + 60
        while (seen := await workers()) != expected:
            assert time.monotonic() < deadline, f"/readyz says {seen} workers, expected {expected}"
            await asyncio.sleep(0.5)

    await wait_workers(1)
    second = start_worker(test_env, tiny_model_path, tmp_path)
    try:
        await wait_workers(2)
        response = await committing_client.get("/readyz")
        assert response.status_code == 200 and response.json()["status"] == "ok"
    finally:
        stop_worker(second)
    await wait_workers(1)  # a cleanly stopped worker is forgotten at once
    assert not _heartbeat_file(second).exists()

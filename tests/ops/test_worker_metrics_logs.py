"""The worker's Prometheus metrics and JSON logs, from a real prefork Celery worker running a real job: every
series named in ``services.inference_worker.metrics`` is served on WORKER_METRICS_PORT, every log line of the job
carries its analysis id, and no password, token or secret appears in the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from scripts.devinfra import free_port
from services.api.config import ApiSettings
from services.auth.config import AuthSettings
from services.common.settings import REPO_ROOT
from tests.conftest import (
    VIDEOS,
    Servers,
    _client_for,
    auth_header,
    claim_redis_db,
    release_redis_db,
    signup_and_login,
)
from tests.e2e.test_upload_to_result import upload, wait_until_finished
from tests.fixtures.worker import WEBHOOK_TEST_SECRET, start_worker, stop_worker
from tests.worker.conftest import write_video

pytestmark = pytest.mark.integration


@pytest.fixture
def own_redis_url(servers: Servers) -> Iterator[str]:
    """A Redis database of this test's own, so no other worker of the session takes its jobs (exact counts)."""
    owner = f"metrics-{uuid.uuid4().hex[:8]}"
    db = claim_redis_db(servers.redis_base_url, owner)
    url = f"{servers.redis_base_url}/{db}"
    redis_sync.from_url(url).flushdb()
    yield url
    redis_sync.from_url(url).flushdb()
    release_redis_db(servers.redis_base_url, db, owner)


@pytest.fixture
async def own_client(
    auth_settings: AuthSettings, api_settings: ApiSettings, own_redis_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway (and auth) enqueueing on :func:`own_redis_url`; writes are committed."""
    auth = auth_settings.model_copy(update={"redis_url": own_redis_url})
    api = api_settings.model_copy(update={"redis_url": own_redis_url})
    async for client in _client_for(auth, api, None):
        yield client


async def test_worker_metrics_and_json_logs(
    own_client: httpx.AsyncClient, own_redis_url: str, test_env: dict[str, str], tiny_model_path: Path,
    tmp_path: Path,
) -> None:
    committing_client = own_client
    port = free_port("127.0.0.1")
    env = {**test_env, "REDIS_URL": own_redis_url}
    worker = start_worker(env, tiny_model_path, tmp_path, extra_env={
        "WORKER_METRICS_PORT": str(port), "WORKER_METRICS_HOST": "127.0.0.1", "LOG_FORMAT": "json"}, pool="prefork")
    try:
        user = await signup_and_login(committing_client)
        headers = auth_header(user)
        analysis_id = await upload(committing_client, headers, VIDEOS / "fer_test.mp4", sample_fps="3")
        state = await wait_until_finished(committing_client, headers, analysis_id)
        assert state["status"] == "succeeded", state
        no_face = await upload(committing_client, headers, write_video(tmp_path / "no-face.mp4"))
        state = await wait_until_finished(committing_client, headers, no_face)
        assert state["status"] == "failed" and state["error_code"] == "no_face", state
        async with httpx.AsyncClient(timeout=30) as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        stop_worker(worker)

    assert 'bloomwell_worker_jobs_total{outcome="succeeded"} 1.0' in text  # counted in the child, served by the parent
    assert 'bloomwell_worker_jobs_total{outcome="failed"} 1.0' in text
    assert 'bloomwell_worker_job_failures_total{error_code="no_face"} 1.0' in text
    assert 'bloomwell_worker_stage_duration_seconds_count{stage="saving"} 1.0' in text
    for stage in ("probing", "analyzing", "summarizing"):  # the failed job got this far
        assert f'bloomwell_worker_stage_duration_seconds_count{{stage="{stage}"}} 2.0' in text
    assert "bloomwell_worker_job_duration_seconds_count 2.0" in text
    faces = next(line for line in text.splitlines() if line.startswith("bloomwell_worker_faces_processed_total"))
    assert float(faces.split()[-1]) > 0
    assert "bloomwell_worker_jobs_in_flight 0.0" in text
    assert 'bloomwell_worker_queue_depth{queue="inference"} 0.0' in text

    log_text = worker.log_path.read_text()
    records = []
    for line in log_text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # Celery's start-up banner is printed, not logged
    assert len(records) > 5
    of_job = [r for r in records if r.get("analysis_id") == analysis_id]
    assert len(of_job) >= 3, log_text[-3000:]
    for job in (analysis_id, no_face):
        mentioning = [r for r in records if job in json.dumps(r.get("message", ""))]
        assert mentioning and all(r.get("analysis_id") == job for r in mentioning), mentioning
    access_token = user["Authorization"].removeprefix("Bearer ")
    for secret in (user["password"], access_token, user["refresh_token"], WEBHOOK_TEST_SECRET):
        assert secret not in log_text


def test_a_killed_pool_process_stops_counting_as_in_flight(tmp_path: Path) -> None:
    """A child that dies by SIGKILL mid-job never runs its shutdown hook; the scrape drops its live gauge."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from services.inference_worker.metrics import DeadProcessSweeper

    code = "import os, time\nfrom services.inference_worker import metrics\nmetrics.IN_FLIGHT.inc()\n" \
           "print(os.getpid(), flush=True)\ntime.sleep(120)\n"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip()
        registry = CollectorRegistry()
        registry.register(DeadProcessSweeper(tmp_path))
        MultiProcessCollector(registry, path=str(tmp_path))

        def in_flight() -> str:
            text = generate_latest(registry).decode()
            return next((line for line in text.splitlines() if line.startswith("bloomwell_worker_jobs_in_flight")), "")

        assert in_flight() == "bloomwell_worker_jobs_in_flight 1.0"
    finally:
        child.kill()
        child.wait(timeout=30)
    assert in_flight() in ("", "bloomwell_worker_jobs_in_flight 0.0")  # (the live main process keeps a 0 series)

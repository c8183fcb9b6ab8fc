"""The gateway queues where the worker listens: with ``CELERY_BROKER_URL`` apart from ``REDIS_URL``, an upload
through the gateway is run by a real worker taking jobs from that broker (the gateway used to ignore the variable
and enqueue on ``REDIS_URL``, where no worker listened)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from services.api.config import ApiSettings
from services.auth.config import AuthSettings
from tests.conftest import Servers, _client_for, auth_header, claim_redis_db, release_redis_db, signup_and_login
from tests.fixtures.worker import start_worker, stop_worker
from tests.worker.conftest import shared_video

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


@pytest.fixture
def apart(servers: Servers) -> Iterator[tuple[str, str]]:
    """Two Redis databases of their own, no other worker on either: (events and the rest, the broker)."""
    owner = f"apart-{uuid.uuid4().hex[:8]}"
    numbers = [claim_redis_db(servers.redis_base_url, owner) for _ in range(2)]
    urls = [f"{servers.redis_base_url}/{number}" for number in numbers]
    assert urls[0] != urls[1]
    for url in urls:
        redis.from_url(url).flushdb()
    yield urls[0], urls[1]
    for url, number in zip(urls, numbers, strict=True):
        redis.from_url(url).flushdb()
        release_redis_db(servers.redis_base_url, number, owner)


async def test_an_upload_runs_on_a_worker_of_a_broker_apart_from_redis(
    apart: tuple[str, str], test_env: dict[str, str], tiny_model_path: Path, tmp_path: Path,
    auth_settings: AuthSettings, api_settings: ApiSettings,
) -> None:
    events_url, broker_url = apart
    env = {**test_env, "REDIS_URL": events_url}
    broker = {"CELERY_BROKER_URL": broker_url, "CELERY_RESULT_BACKEND": broker_url}
    worker = await asyncio.to_thread(start_worker, env, tiny_model_path, tmp_path, extra_env=broker)
    gateway = api_settings.model_copy(update={"redis_url": events_url, "celery_broker_url": broker_url,
                                              "celery_result_backend": broker_url})
    try:
        async for client in _client_for(auth_settings, gateway, None):
            user = await signup_and_login(client)
            with shared_video("fer_test.mp4").open("rb") as video:
                response = await client.post("/v1/analyses", headers=auth_header(user),
                                             files={"video": ("fer_test.mp4", video, "video/mp4")})
            assert response.status_code == 202, response.text
            analysis_id = response.json()["id"]
            state = await _finished(client, user, analysis_id, worker.log_tail)
            assert state["status"] == "succeeded", (state, worker.log_tail())
    finally:
        await asyncio.to_thread(stop_worker, worker)
    assert analysis_id in worker.log_path.read_text()  # our worker ran it
    assert redis.from_url(events_url).llen(gateway.inference_queue) == 0  # nothing was queued beside the broker


async def _finished(client: httpx.AsyncClient, user: dict[str, str], analysis_id: str,
                    log_tail: Callable[[], str], timeout_s: float = 300.0) -> dict[str, object]:
    """The analysis's state once it ended (polled like a client would)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state: dict[str, object] = (await client.get(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).json()
        if state["status"] in ("succeeded", "failed"):
            return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"analysis {analysis_id} did not finish; the worker said:\n{log_tail()}")

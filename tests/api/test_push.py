"""Pushed progress over real sockets: SSE and WebSocket relay the worker's Redis events; no DB polling."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
import websockets

from services.api.config import ApiSettings
from services.api.main import create_app as create_api_app
from services.auth.config import AuthSettings
from services.auth.main import create_app as create_auth_app
from services.common.analysis import Stage
from services.common.events import ProgressEvent, publish_progress_async
from services.common.models import AnalysisStatus
from tests.conftest import auth_header, signup_and_login
from tests.live import serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live_gateway(auth_settings: AuthSettings, api_settings: ApiSettings) -> Iterator[str]:
    """Auth and gateway on real ports, committing to this session's database."""
    with serve(create_auth_app(auth_settings)) as auth_url:
        settings = api_settings.model_copy(update={"auth_url": auth_url, "sse_keepalive_s": 0.5})
        with serve(create_api_app(settings)) as api_url:
            yield api_url


@pytest.fixture
async def http(live_gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_gateway, timeout=20) as client:
        yield client


async def _queued_analysis(http: httpx.AsyncClient, face_video: Path) -> tuple[dict[str, str], str]:
    user = await signup_and_login(http)
    with face_video.open("rb") as handle:
        response = await http.post(
            "/v1/analyses", headers=auth_header(user), files={"video": ("clip.mp4", handle, "video/mp4")}
        )
    assert response.status_code == 202, response.text
    return user, response.json()["id"]


def _event(analysis_id: str, status: AnalysisStatus, progress: float, **extra: str) -> ProgressEvent:
    return ProgressEvent(analysis_id=uuid.UUID(analysis_id), status=status, progress=progress, **extra)


async def _sse_events(response: httpx.Response) -> AsyncIterator[dict]:
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


async def _ticket(http: httpx.AsyncClient, user: dict[str, str], analysis_id: str) -> str:
    response = await http.post(f"/v1/analyses/{analysis_id}/events/ticket", headers=auth_header(user))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] > 0
    return str(body["ticket"])


async def test_sse_streams_current_state_then_published_events(
    http: httpx.AsyncClient, face_video: Path, redis_url: str
) -> None:
    user, analysis_id = await _queued_analysis(http, face_video)
    ticket = await _ticket(http, user, analysis_id)
    publisher = aioredis.from_url(redis_url)
    received: list[dict] = []
    sse_url = f"/v1/analyses/{analysis_id}/events?ticket={ticket}"
    async with http.stream("GET", sse_url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers  # the gateway's gzip never buffers the stream
        events = _sse_events(response)
        received.append(await anext(events))  # the state read from the DB once, after subscribing
        processing = _event(analysis_id, AnalysisStatus.processing, 0.4, stage=Stage.analyzing)
        await publish_progress_async(publisher, processing)
        received.append(await anext(events))
        await publish_progress_async(publisher, _event(analysis_id, AnalysisStatus.succeeded, 1.0))
        received.append(await anext(events))
        with pytest.raises(StopAsyncIteration):  # the stream ends after a terminal status
            await asyncio.wait_for(anext(events), 5)
    await publisher.aclose()
    assert [(e["status"], e["progress"]) for e in received] == [
        ("queued", 0.0), ("processing", 0.4), ("succeeded", 1.0)
    ]
    assert received[1]["stage"] == "analyzing"


async def test_sse_refuses_missing_token_and_foreign_analysis(http: httpx.AsyncClient, face_video: Path) -> None:
    _, analysis_id = await _queued_analysis(http, face_video)
    assert (await http.get(f"/v1/analyses/{analysis_id}/events")).status_code == 401
    stranger = await signup_and_login(http)
    response = await http.get(f"/v1/analyses/{analysis_id}/events", headers=auth_header(stranger))
    assert response.status_code == 404
    # nor can a stranger obtain a ticket for it
    response = await http.post(f"/v1/analyses/{analysis_id}/events/ticket", headers=auth_header(stranger))
    assert response.status_code == 404


async def test_access_token_in_the_query_is_no_longer_accepted(http: httpx.AsyncClient, face_video: Path) -> None:
    user, analysis_id = await _queued_analysis(http, face_video)
    token = user["Authorization"].split()[1]
    response = await http.get(f"/v1/analyses/{analysis_id}/events?access_token={token}")
    assert response.status_code == 401


async def test_a_ticket_is_single_use_and_scoped_to_its_analysis(http: httpx.AsyncClient, face_video: Path) -> None:
    user, analysis_id = await _queued_analysis(http, face_video)
    ticket = await _ticket(http, user, analysis_id)
    with face_video.open("rb") as handle:
        other = await http.post(
            "/v1/analyses", headers=auth_header(user), files={"video": ("b.mp4", handle, "video/mp4")}
        )
    other_id = other.json()["id"]
    wrong = await http.get(f"/v1/analyses/{other_id}/events?ticket={ticket}")
    assert wrong.status_code == 403
    assert (await http.get(f"/v1/analyses/{analysis_id}/events?ticket={ticket}")).status_code == 401  # spent

    ticket = await _ticket(http, user, analysis_id)
    async with http.stream("GET", f"/v1/analyses/{analysis_id}/events?ticket={ticket}") as response:
        assert response.status_code == 200
    again = await http.get(f"/v1/analyses/{analysis_id}/events?ticket={ticket}")
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


async def test_websocket_relays_events_and_closes_on_terminal(
    live_gateway: str, http: httpx.AsyncClient, face_video: Path, redis_url: str
) -> None:
    user, analysis_id = await _queued_analysis(http, face_video)
    ticket = await _ticket(http, user, analysis_id)
    ws_url = live_gateway.replace("http://", "ws://") + f"/v1/analyses/{analysis_id}/ws?ticket={ticket}"
    publisher = aioredis.from_url(redis_url)
    async with websockets.connect(ws_url) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), 10))
        await publish_progress_async(
            publisher, _event(analysis_id, AnalysisStatus.failed, 0.3, error="No face found.", error_code="no_face")
        )
        last = json.loads(await asyncio.wait_for(socket.recv(), 10))
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(socket.recv(), 10)
    await publisher.aclose()
    assert first["status"] == "queued"
    assert (last["status"], last["error_code"]) == ("failed", "no_face")


async def _close_code(url: str, headers: dict[str, str] | None = None) -> int:
    async with websockets.connect(url, additional_headers=headers) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_websocket_refusals_use_application_close_codes(
    live_gateway: str, http: httpx.AsyncClient, face_video: Path
) -> None:
    user, analysis_id = await _queued_analysis(http, face_video)
    base = live_gateway.replace("http://", "ws://") + "/v1/analyses/{id}/ws"
    assert await _close_code(base.format(id=analysis_id) + "?ticket=forged") == 4401
    assert await _close_code(base.format(id=analysis_id)) == 4401
    assert await _close_code(base.format(id=analysis_id), {"Authorization": "Bearer forged"}) == 4401
    ticket = await _ticket(http, user, analysis_id)
    assert await _close_code(base.format(id=uuid.uuid4()) + f"?ticket={ticket}") == 4403
    stranger = await signup_and_login(http)
    assert await _close_code(base.format(id=analysis_id), auth_header(stranger)) == 4404

"""Load shedding at the gateway's edge (``services.api.limits.LoadShedding``): over the bound a request is answered
503 with ``Retry-After`` at once; under it, none is; probes, uploads, WebSockets and started streams are never
refused. Behaviour only: no timing is asserted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from services.api.config import ApiSettings
from services.api.limits import ConcurrencyLimits, LoadShedding
from services.api.main import create_app
from services.common.security.tokens import TokenError

EXEMPT = ("/healthz", "/readyz", "/metrics")


class Backend:
    """A toy ASGI app: ``/hold`` answers once :attr:`release` is set, ``/stream`` starts its response at once and
    finishes it once :attr:`release` is set, anything else answers at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started += 1
        if scope["type"] == "lifespan":
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first ", "more_body": True})
            await self.release.wait()
            await send({"type": "http.response.body", "body": b"last"})
            return
        if scope["path"] == "/hold":
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def shedding(backend: Backend, max_in_flight: int = 2, max_waiting: int = 0, max_wait_s: float = 0.0,
             shed: list[int] | None = None) -> LoadShedding:
    return LoadShedding(backend, ConcurrencyLimits(max_in_flight=max_in_flight, max_waiting=max_waiting,
                                                   max_wait_s=max_wait_s, retry_after_s=1),
                        exempt_paths=EXEMPT, exempt_prefixes=("/auth/",), upload_path="/v1/analyses",
                        on_shed=(lambda: shed.append(1)) if shed is not None else (lambda: None))


async def call(app: LoadShedding, path: str, method: str = "GET", kind: str = "http") -> list[Message]:
    """Everything ``app`` sends for one request."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": kind, "method": method, "path": path, "headers": []}, receive, send)
    return sent


async def no_receive() -> Message:
    raise AssertionError("not read")


async def no_send(message: Message) -> None:
    raise AssertionError("nothing to send")


def status(sent: list[Message]) -> int:
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


def headers(sent: list[Message]) -> dict[str, str]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return {name.decode(): value.decode() for name, value in start["headers"]}


async def until(condition: Any) -> None:
    """Let the other tasks run until ``condition()`` holds (bounded by the test's timeout, never asserted on)."""
    while not condition():  # noqa: ASYNC110 - the states waited for (slots, queues) have no event of their own
        await asyncio.sleep(0.001)


async def test_over_the_bound_a_request_gets_503_with_retry_after_and_under_it_none() -> None:
    backend, refused = Backend(), []
    app = shedding(backend, max_in_flight=2, shed=refused)
    held = [asyncio.create_task(call(app, "/hold")) for _ in range(2)]
    await until(lambda: backend.started == 2)

    sent = await call(app, "/v1/analyses/abc")
    assert status(sent) == 503 and backend.started == 2  # refused before the app saw it
    head = headers(sent)
    assert head["retry-after"] == "1" and head["content-type"] == "application/json"
    assert head["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in head["content-security-policy"]
    assert "busy" in json.loads(sent[-1]["body"])["detail"] and refused == [1]

    backend.release.set()
    assert [status(s) for s in await asyncio.gather(*held)] == [200, 200]
    answers = [await call(app, "/v1/analyses/abc") for _ in range(5)]  # one after the other: under the bound
    assert [status(s) for s in answers] == [200] * 5 and refused == [1] and app.slots.in_flight == 0


async def test_probes_auth_uploads_and_websockets_pass_while_saturated() -> None:
    backend = Backend()
    app = shedding(backend, max_in_flight=1)
    held = asyncio.create_task(call(app, "/hold"))
    await until(lambda: backend.started == 1)
    for path in (*EXEMPT, "/auth/login"):
        assert status(await call(app, path)) == 200
    assert status(await call(app, "/v1/analyses", method="POST")) == 200
    assert await call(app, "/v1/analyses/x/ws", kind="websocket") == [{"type": "websocket.accept"}]
    await app({"type": "lifespan"}, no_receive, no_send)  # no path: passed through untouched
    assert backend.started == 8  # every one of them reached the app
    assert status(await call(app, "/v1/analyses", method="GET")) == 503  # listing is counted like any request
    backend.release.set()
    await held


async def test_a_started_stream_holds_no_slot_and_is_never_cut_off() -> None:
    backend = Backend()
    app = shedding(backend, max_in_flight=1)
    stream = asyncio.create_task(call(app, "/stream"))
    await until(lambda: app.slots.in_flight == 0 and backend.started == 1)  # released at the response's start
    assert status(await call(app, "/fast")) == 200  # the stream does not count
    backend.release.set()
    sent = await stream
    assert status(sent) == 200 and b"".join(m.get("body", b"") for m in sent[1:]) == b"first last"


async def test_waiting_requests_get_the_next_free_slot_and_the_rest_are_refused() -> None:
    backend = Backend()
    app = shedding(backend, max_in_flight=1, max_waiting=1, max_wait_s=60)
    held = asyncio.create_task(call(app, "/hold"))
    await until(lambda: backend.started == 1)
    waiting = asyncio.create_task(call(app, "/fast"))
    await until(lambda: len(app.slots.waiting) == 1)
    assert status(await call(app, "/fast")) == 503  # the wait is full
    backend.release.set()
    assert status(await held) == 200 and status(await waiting) == 200
    assert app.slots.in_flight == 0 and not app.slots.waiting


async def test_a_wait_that_runs_out_is_refused_and_a_caller_gone_while_waiting_frees_nothing() -> None:
    backend = Backend()
    app = shedding(backend, max_in_flight=1, max_waiting=2, max_wait_s=0.05)
    held = asyncio.create_task(call(app, "/hold"))
    await until(lambda: backend.started == 1)
    assert status(await call(app, "/fast")) == 503  # no slot came free within its wait
    app.slots.max_wait_s = 60
    gone = asyncio.create_task(call(app, "/fast"))
    await until(lambda: len(app.slots.waiting) == 1)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    backend.release.set()
    await held
    assert app.slots.in_flight == 0 and not app.slots.waiting
    assert [status(await call(app, "/fast")) for _ in range(2)] == [200, 200]


class HeldVerifier:
    """Stands in for the gateway's token verifier: holds each request until ``finish`` is set, then refuses it."""

    def __init__(self) -> None:
        self.finish = asyncio.Event()
        self.entered = 0

    async def verify(self, token: str) -> None:
        self.entered += 1
        await self.finish.wait()
        raise TokenError("held")


@pytest.fixture
async def saturable_gateway(api_settings: ApiSettings) -> AsyncIterator[tuple[httpx.AsyncClient, HeldVerifier]]:
    """The real gateway with one slot and no wait; its token checks wait for the verifier's ``finish``."""
    settings = api_settings.model_copy(update={"load_shed_max_in_flight": 1, "load_shed_max_waiting": 0})
    app = create_app(settings, auth_transport=httpx.MockTransport(lambda request: httpx.Response(401)))
    verifier = HeldVerifier()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://testserver"
    ) as client:
        app.state.verifier = verifier
        yield client, verifier
        verifier.finish.set()


async def test_the_gateway_sheds_beyond_its_bound(saturable_gateway: tuple[httpx.AsyncClient, HeldVerifier]) -> None:
    client, verifier = saturable_gateway
    held = asyncio.create_task(client.get("/v1/analyses", headers={"Authorization": "Bearer held"}))
    await until(lambda: verifier.entered == 1)  # the one slot is taken
    refused = await client.get("/v1/config")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.headers["x-frame-options"] == "DENY" and "busy" in refused.json()["detail"]
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.post("/auth/login", json={"email": "a@b.c", "password": "x"})).status_code == 401
    verifier.finish.set()
    assert (await held).status_code == 401
    assert [(await client.get("/v1/config")).status_code for _ in range(3)] == [200, 200, 200]
    assert "bloomwell_api_requests_shed_total 1.0" in (await client.get("/metrics")).text


def test_no_bound_no_middleware(api_settings: ApiSettings) -> None:
    app = create_app(api_settings.model_copy(update={"load_shed_max_in_flight": 0}))
    assert all(m.cls is not LoadShedding for m in app.user_middleware)
    app = create_app(api_settings)
    assert app.user_middleware[0].cls is LoadShedding  # the outermost: a refusal costs least

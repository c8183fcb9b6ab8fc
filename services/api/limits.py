"""What the gateway takes on, bounded at the HTTP edge before any route sees a request (pure ASGI middlewares):

* :class:`LoadShedding`: how many requests one gateway process handles at once; beyond, 503 + ``Retry-After`` at
  once instead of an unbounded queue;
* :class:`UploadSizeLimit`: how big, and how slow, an upload's body may be.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api import messages
from services.api.analyses.errors import UploadTooLarge, UploadTooSlow
from services.api.errors import http_exception
from services.api.security_headers import COMMON, policy_for


@dataclass(frozen=True)
class ConcurrencyLimits:
    """How many requests a gateway process handles at once (``max_in_flight``; 0: no bound), how many more may wait
    for a slot and for how long, and the ``Retry-After`` of a refusal."""

    max_in_flight: int
    max_waiting: int
    max_wait_s: float
    retry_after_s: int


class Slots:
    """``limit`` slots handed out in arrival order; up to ``max_waiting`` callers wait at most ``max_wait_s`` for one
    (one event loop, no locks needed). A freed slot goes straight to the first caller still waiting."""

    def __init__(self, limit: int, max_waiting: int, max_wait_s: float) -> None:
        self.limit = limit
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self.in_flight = 0
        self.waiting: deque[asyncio.Future[bool]] = deque()

    async def acquire(self) -> bool:
        """Take a slot (True), or give up (False): every slot taken and the wait full, or no slot within the wait."""
        if self.in_flight < self.limit and not self.waiting:
            self.in_flight += 1
            return True
        if len(self.waiting) >= self.max_waiting or self.max_wait_s <= 0:
            return False
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[bool] = loop.create_future()
        self.waiting.append(granted)
        timer = loop.call_later(self.max_wait_s, _settle, granted, False)
        try:
            return await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled() and granted.result():
                self.release()  # handed a slot just as the caller went away: pass it on
            raise
        finally:
            timer.cancel()
            if granted in self.waiting:
                self.waiting.remove(granted)

    def release(self) -> None:
        """Give a slot back: to the first caller still waiting, else to the pool."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self.in_flight -= 1


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class LoadShedding:
    """At most ``max_in_flight`` requests of one gateway process are handled at once; up to ``max_waiting`` more wait
    ``max_wait_s`` at most for a slot, and every other request is answered ``503`` with ``Retry-After`` at once, before
    any routing, authentication or database work, so the requests that are taken keep a short latency instead of all
    of them queueing without bound.

    A request holds its slot until its response *starts*: a running stream (SSE, a file) holds none, and nothing that
    has started is ever cut off. Not counted and never refused: WebSockets, ``exempt_paths`` (health and readiness
    probes, metrics), paths under ``exempt_prefixes`` (``/auth/``: the gateway only forwards it, and the auth service
    bounds its own work — throttling, a bounded password-hash queue answering 503 itself) and ``POST upload_path``
    (an upload's body may take minutes to arrive; ``UploadSizeLimit`` bounds it). Slots are meant for the gateway's
    own work, which keeps its event loop busy; requests that mostly wait elsewhere would hold them for nothing.
    ``on_shed`` is called for each refusal (a metric).
    """

    def __init__(self, app: ASGIApp, limits: ConcurrencyLimits, exempt_paths: Collection[str] = (),
                 exempt_prefixes: Collection[str] = (), upload_path: str | None = None,
                 on_shed: Callable[[], None] = lambda: None) -> None:
        self.app = app
        self.slots = Slots(limits.max_in_flight, limits.max_waiting, limits.max_wait_s)
        self.exempt_paths = frozenset(exempt_paths)
        self.exempt_prefixes = tuple(exempt_prefixes)
        self.upload_path = upload_path
        self.on_shed = on_shed
        self.retry_after = str(limits.retry_after_s)
        self.body = json.dumps({"detail": messages.BUSY.format(retry_after=limits.retry_after_s)}).encode()

    def exempt(self, scope: Scope) -> bool:
        """True for requests that are never counted nor refused."""
        if scope["type"] != "http":
            return True  # lifespan, WebSockets
        path: str = scope["path"]
        if path in self.exempt_paths or path.startswith(self.exempt_prefixes):
            return True
        return bool(scope["method"] == "POST" and scope["path"].rstrip("/") == self.upload_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.exempt(scope):
            await self.app(scope, receive, send)
            return
        if not await self.slots.acquire():
            self.on_shed()
            await self.refuse(scope, send)
            return
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.slots.release()

        async def send_releasing(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            release()

    async def refuse(self, scope: Scope, send: Send) -> None:
        """``503 {"detail": ...}`` with ``Retry-After`` and the gateway's security headers."""
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode()),
                   (b"retry-after", self.retry_after.encode()), (b"cache-control", b"no-store"),
                   (b"content-security-policy", policy_for(scope["path"]).encode())]
        headers += [(name.encode(), value.encode()) for name, value in COMMON.items()]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})

MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """How much, and how slowly, an upload body may arrive."""

    max_bytes: int
    idle_timeout_s: float
    min_bytes_per_s: int
    rate_grace_s: float


class UploadSizeLimit:
    """ASGI middleware that bounds a ``POST /v1/analyses`` body in size and in time.

    A declared ``Content-Length`` over the limit is refused before any byte is read; otherwise the
    body is counted as it streams in, so a huge upload never lands on disk whole. A body that sends
    nothing for ``idle_timeout_s``, or that after ``rate_grace_s`` has averaged less than
    ``min_bytes_per_s``, is cut off with 408, so slow clients cannot hold connections open forever.
    The refusals are raised as HTTP errors (FastAPI would turn any other error raised while it reads the body
    into a 400).
    """

    def __init__(self, app: ASGIApp, path: str, limits: BodyLimits) -> None:
        self.app = app
        self.path = path
        self.limits = limits
        self.limit = limits.max_bytes + MULTIPART_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            exc = http_exception(UploadTooLarge(self.limits.max_bytes))
            await JSONResponse({"detail": exc.detail}, status_code=exc.status_code)(scope, receive, send)
            return
        received = 0
        started = time.monotonic()
        limits = self.limits

        async def limited_receive() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), timeout=limits.idle_timeout_s)
            except TimeoutError:
                raise http_exception(UploadTooSlow()) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise http_exception(UploadTooLarge(limits.max_bytes))
                elapsed = time.monotonic() - started
                if (
                    message.get("more_body", False)
                    and elapsed > limits.rate_grace_s
                    and received < limits.min_bytes_per_s * elapsed
                ):
                    raise http_exception(UploadTooSlow())
            return message

        await self.app(scope, limited_receive, send)

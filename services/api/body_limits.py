"""Bounding an upload's body at the HTTP edge, before any route sees it: size and speed (ASGI middleware)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.analyses.errors import UploadTooLarge, UploadTooSlow
from services.api.errors import http_exception

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

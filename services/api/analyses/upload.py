"""Receiving an uploaded video: bounded body size and speed, chunked copy to a temporary file, container,
decode, duration and frame-size checks. Publishing the file after its row is committed is the route's job
(``Storage.publish``)."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api import messages
from services.common.video import (
    FramesTooLarge,
    UndecodableVideo,
    UnsupportedContainer,
    VideoInfo,
    probe_video,
    sniff_container,
)

CHUNK_BYTES = 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024

ACCEPTED_EXTENSIONS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "webm": "webm", "mkv": "mkv", "avi": "avi"}
ACCEPTED_MIME_TYPES = [
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-matroska",
    "video/x-msvideo",
    "video/avi",
]


def too_large(limit_bytes: int) -> HTTPException:
    """The 413 answer for an upload over the limit."""
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, detail=messages.TOO_LARGE.format(limit_mb=limit_bytes // (1024 * 1024))
    )


def too_slow() -> HTTPException:
    """The 408 answer for an upload body that stalls or trickles."""
    return HTTPException(status.HTTP_408_REQUEST_TIMEOUT, detail=messages.UPLOAD_TOO_SLOW)


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
            exc = too_large(self.limits.max_bytes)
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
                raise too_slow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(limits.max_bytes)
                elapsed = time.monotonic() - started
                if (
                    message.get("more_body", False)
                    and elapsed > limits.rate_grace_s
                    and received < limits.min_bytes_per_s * elapsed
                ):
                    raise too_slow()
            return message

        await self.app(scope, limited_receive, send)


@dataclass(frozen=True)
class FrameLimits:
    """Which frame sizes an upload may have."""

    max_pixels: int
    min_side_px: int


@dataclass(frozen=True)
class StoredUpload:
    """An upload copied to its temporary file and checked."""

    path: Path
    container: str
    size_bytes: int
    info: VideoInfo


def copy_to(source: BinaryIO, destination: Path, limit_bytes: int) -> tuple[str, int]:
    """Copy ``source`` in chunks to ``destination``; returns (container, size). Refuses unknown containers,
    empty and oversize files (the partial file is removed on any failure)."""
    source.seek(0)
    container = sniff_container(source.read(64))
    if container is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=messages.NOT_A_VIDEO)
    source.seek(0)
    destination.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with destination.open("wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit_bytes:
                    raise too_large(limit_bytes)
                out.write(chunk)
        if size == 0:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=messages.EMPTY_FILE)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return container, size


def check_frames(info: VideoInfo, frames: FrameLimits) -> None:
    """422 unless the frame size lies within ``frames``."""
    if info.width * info.height > frames.max_pixels:
        raise _frames_too_large(info.width, info.height, frames)
    if min(info.width, info.height) < frames.min_side_px:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=messages.FRAMES_TOO_SMALL.format(width=info.width, height=info.height, min_side=frames.min_side_px),
        )


def _frames_too_large(width: int, height: int, frames: FrameLimits) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=messages.FRAMES_TOO_LARGE.format(width=width, height=height, limit_mp=frames.max_pixels / 1e6),
    )


def store_and_check(
    source: BinaryIO, destination: Path, limit_bytes: int, max_duration_s: float, frames: FrameLimits
) -> StoredUpload:
    """Copy the upload to ``destination`` and check it decodes, is not too long and has sensible frames
    (blocking: run in a thread). On any refusal the file is removed."""
    container, size = copy_to(source, destination, limit_bytes)
    try:
        try:
            info = probe_video(destination, max_duration_s=max_duration_s, max_pixels=frames.max_pixels)
        except UnsupportedContainer as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from exc
        except FramesTooLarge as exc:
            raise _frames_too_large(exc.width, exc.height, frames) from exc
        except UndecodableVideo as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=messages.UNREADABLE) from exc
        if info.duration_s > max_duration_s:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=messages.TOO_LONG.format(limit_s=max_duration_s)
            )
        check_frames(info, frames)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return StoredUpload(path=destination, container=container, size_bytes=size, info=info)


def remove_quietly(path: Path) -> None:
    """Delete a file or folder if present."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

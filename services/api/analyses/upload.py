"""Receiving an uploaded video: bounded body size, chunked copy to storage, container and decode checks."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.video import (
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
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"The video is larger than the {limit_bytes // (1024 * 1024)} MB limit.",
    )


class UploadSizeLimit:
    """ASGI middleware that stops reading a ``POST /v1/analyses`` body once it exceeds the limit.

    A declared ``Content-Length`` over the limit is refused before any byte is read; otherwise the
    body is counted as it streams in, so a huge upload never lands on disk whole.
    """

    def __init__(self, app: ASGIApp, path: str, limit_bytes: int) -> None:
        self.app = app
        self.path = path
        self.limit = limit_bytes + MULTIPART_OVERHEAD_BYTES
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            exc = too_large(self.limit_bytes)
            await JSONResponse({"detail": exc.detail}, status_code=exc.status_code)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit_bytes)
            return message

        await self.app(scope, limited_receive, send)


class StoredFile(NamedTuple):
    """A file copied into storage, before decoding checks."""

    path: Path
    container: str
    size_bytes: int


@dataclass(frozen=True)
class StoredUpload:
    """An upload copied to storage and checked."""

    path: Path
    container: str
    size_bytes: int
    info: VideoInfo


def copy_to_storage(source: BinaryIO, destination_for: Callable[[str], Path], limit_bytes: int) -> StoredFile:
    """Copy ``source`` in chunks to ``destination_for(container)``. Refuses unknown containers and oversize files."""
    source.seek(0)
    head = source.read(64)
    container = sniff_container(head)
    if container is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="This file is not a video format we accept. Please upload MP4, WebM, MOV, AVI or MKV.",
        )
    destination = destination_for(container)
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
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    if size == 0:
        destination.unlink(missing_ok=True)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="The uploaded file is empty.")
    return StoredFile(destination, container, size)


def store_and_check(
    source: BinaryIO, destination_for: Callable[[str], Path], limit_bytes: int, max_duration_s: float
) -> StoredUpload:
    """Copy the upload to storage and check it decodes and is not too long (blocking: run in a thread).

    On any refusal the partial file is removed.
    """
    destination, container, size = copy_to_storage(source, destination_for, limit_bytes)
    try:
        info = probe_video(destination, max_duration_s=max_duration_s)
    except UnsupportedContainer as exc:
        destination.unlink(missing_ok=True)
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from exc
    except UndecodableVideo as exc:
        destination.unlink(missing_ok=True)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="We could not read this video. The file may be damaged or use an unsupported codec.",
        ) from exc
    if info.duration_s > max_duration_s:
        destination.unlink(missing_ok=True)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"The video is {info.duration_s:.0f} s long; the limit is {max_duration_s:.0f} s.",
        )
    return StoredUpload(path=destination, container=container, size_bytes=size, info=info)


def remove_quietly(path: Path) -> None:
    """Delete a file or folder if present."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

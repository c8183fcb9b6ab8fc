"""Receiving an uploaded video: chunked copy to a temporary file, container, decode, duration and frame-size
checks, refusing with the domain errors of :mod:`services.api.analyses.errors`. (The body's size and speed are
bounded before, at the HTTP edge: ``services.api.body_limits``; publishing the file after its row is committed is
``service.accept_upload``'s job.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services.api.analyses import errors
from services.common import video

CHUNK_BYTES = 1024 * 1024

ACCEPTED_EXTENSIONS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "webm": "webm", "mkv": "mkv", "avi": "avi"}
ACCEPTED_MIME_TYPES = [
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-matroska",
    "video/x-msvideo",
    "video/avi",
]


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
    info: video.VideoInfo


def copy_to(source: BinaryIO, destination: Path, limit_bytes: int) -> tuple[str, int]:
    """Copy ``source`` in chunks to ``destination``; returns (container, size). Refuses unknown containers,
    empty and oversize files (the partial file is removed on any failure)."""
    source.seek(0)
    container = video.sniff_container(source.read(64))
    if container is None:
        raise errors.NotAVideo
    source.seek(0)
    destination.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with destination.open("wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit_bytes:
                    raise errors.UploadTooLarge(limit_bytes)
                out.write(chunk)
        if size == 0:
            raise errors.EmptyUpload
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return container, size


def check_frames(info: video.VideoInfo, frames: FrameLimits) -> None:
    """Refuse frames whose size lies outside ``frames``."""
    if info.width * info.height > frames.max_pixels:
        raise errors.FramesTooLarge(info.width, info.height, frames.max_pixels)
    if min(info.width, info.height) < frames.min_side_px:
        raise errors.FramesTooSmall(info.width, info.height, frames.min_side_px)


def store_and_check(
    source: BinaryIO, destination: Path, limit_bytes: int, max_duration_s: float, frames: FrameLimits
) -> StoredUpload:
    """Copy the upload to ``destination`` and check it decodes, is not too long and has sensible frames
    (blocking: run in a thread). On any refusal (an :class:`~services.api.analyses.errors.UploadRefused`) the file
    is removed."""
    container, size = copy_to(source, destination, limit_bytes)
    try:
        try:
            info = video.probe_video(destination, max_duration_s=max_duration_s, max_pixels=frames.max_pixels)
        except video.UnsupportedContainer as exc:
            raise errors.UnsupportedVideo(str(exc)) from exc
        except video.FramesTooLarge as exc:
            raise errors.FramesTooLarge(exc.width, exc.height, frames.max_pixels) from exc
        except video.UndecodableVideo as exc:
            raise errors.UnreadableVideo from exc
        if info.duration_s > max_duration_s:
            raise errors.VideoTooLong(max_duration_s)
        check_frames(info, frames)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return StoredUpload(path=destination, container=container, size_bytes=size, info=info)


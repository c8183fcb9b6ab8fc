"""Video probing and decoding shared by the gateway (upload checks) and the inference worker (sampling).

Everything here reads a file *straight through* with OpenCV: ``grab()`` to step over a frame,
``retrieve()`` only for frames that are kept (probing decodes only the first frame and reads the other frames'
packets undecoded). Timestamps come from ``CAP_PROP_POS_MSEC``, never from
frame counts or seeking, because WebM written by browsers' MediaRecorder reports a garbage frame count,
carries no duration, and silently returns frame 0 on a seek.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from services.common.analysis import DEFAULT_MAX_FRAME_PIXELS

CONTAINER_EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "mp4": (".mp4", ".m4v"),
    "mov": (".mov", ".qt"),
    "webm": (".webm",),
    "mkv": (".mkv",),
    "avi": (".avi",),
}
"""Accepted containers and the file extensions that usually carry them."""

CONTAINER_MIME_TYPES: Final[dict[str, str]] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
}
"""The MIME type of each accepted container (what browsers send and what the web app accepts)."""

SNIFF_BYTES: Final[int] = 64
"""How many leading bytes :func:`sniff_container` needs."""

_QUICKTIME_BRANDS: Final[frozenset[bytes]] = frozenset({b"qt  "})
_MOV_TOP_LEVEL_ATOMS: Final[frozenset[bytes]] = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_FALLBACK_FPS: Final[float] = 30.0



class VideoError(Exception):
    """A video that cannot be used; ``str(error)`` is a sentence a person understands."""


class UnsupportedContainer(VideoError):
    """The bytes are not one of the accepted containers (mp4, mov, webm, mkv, avi)."""


class UndecodableVideo(VideoError):
    """The container is accepted but no video frame could be decoded from it."""


class FramesTooLarge(VideoError):
    """The stream declares (or its first frame has) more pixels per frame than allowed."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"The video's frames are too large ({width}×{height}).")
        self.width = width
        self.height = height


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What probing a video found.

    ``duration_s`` is measured from the frames' timestamps (``frame_count_read`` frames: packets read, or frames
    decoded where the packets carry no timestamps). When probing stopped early because of
    ``max_duration_s``, ``complete`` is False and ``duration_s`` is a lower bound already over the limit.
    """

    container: str
    duration_s: float
    fps: float
    width: int
    height: int
    frame_count_read: int
    complete: bool = True


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """One kept frame: its index among all decoded frames, its time in seconds from the first frame,
    and the BGR ``uint8`` image.

    ``scale`` is 1.0 unless the decoded frame was larger than the decoder's pixel limit and was shrunk
    (``image`` pixels = source pixels × ``scale``)."""

    index: int
    t: float
    image: np.ndarray
    scale: float = 1.0


def shrink_to_pixels(image: np.ndarray, max_pixels: int) -> tuple[np.ndarray, float]:
    """``image`` scaled down (area interpolation) to at most ``max_pixels`` pixels, and the scale used."""
    height, width = image.shape[:2]
    if height * width <= max_pixels:
        return image, 1.0
    scale = (max_pixels / float(height * width)) ** 0.5
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def sniff_container(first_bytes: bytes) -> str | None:
    """Name the container from a file's first bytes (magic numbers), or None if it is not accepted.

    Returns one of ``"mp4"``, ``"mov"``, ``"webm"``, ``"mkv"``, ``"avi"``. Needs about
    :data:`SNIFF_BYTES` bytes; fewer may still work for short signatures.
    """
    head = bytes(first_bytes[:SNIFF_BYTES])
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML header: Matroska family
        doctype = _ebml_doctype(head)
        if doctype == b"webm":
            return "webm"
        if doctype in (b"matroska", None):
            return "mkv"
        return None
    if len(head) >= 8:
        atom = head[4:8]
        if atom == b"ftyp":
            brand = head[8:12]
            return "mov" if brand in _QUICKTIME_BRANDS else "mp4"
        if atom in _MOV_TOP_LEVEL_ATOMS:
            return "mov"
    return None


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType string inside an EBML header (element id 0x4282), if it lies within ``head``."""
    pos = head.find(b"\x42\x82")
    if pos < 0 or pos + 3 > len(head):
        return None
    size_byte = head[pos + 2]
    if size_byte & 0x80 == 0:  # only single-byte sizes are used for DocType in practice
        return None
    size = size_byte & 0x7F
    value = head[pos + 3 : pos + 3 + size]
    return value.rstrip(b"\x00") if len(value) == size else None


def sniff_file(path: str | os.PathLike[str]) -> str | None:
    """:func:`sniff_container` applied to the first bytes of a file."""
    with open(path, "rb") as fh:
        return sniff_container(fh.read(SNIFF_BYTES))


def _open(path: str | os.PathLike[str]) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise UndecodableVideo("The file could not be opened as a video; it may be corrupt or truncated.")
    return cap


def _nominal_fps(cap: cv2.VideoCapture) -> float:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if 0.5 <= fps <= 240.0 else 0.0


class _Clock:
    """Turns OpenCV's per-frame ``POS_MSEC`` into monotonic seconds from the first frame.

    Falls back to counting frames at the nominal rate where a timestamp is missing or goes backwards.
    """

    def __init__(self, fps: float) -> None:
        self._step = 1.0 / (fps or _FALLBACK_FPS)
        self._origin: float | None = None
        self._last: float | None = None

    def tick(self, pos_msec: float) -> float:
        raw = pos_msec / 1000.0 if pos_msec == pos_msec and pos_msec >= 0 else None  # NaN-safe
        if self._origin is None:
            self._origin = raw if raw is not None else 0.0
            self._last = 0.0
            return 0.0
        assert self._last is not None
        t = raw - self._origin if raw is not None else None
        if t is None or t <= self._last:
            t = self._last + self._step
        self._last = t
        return t

    @property
    def step(self) -> float:
        return self._step


def decode_frames(
    path: str | os.PathLike[str],
    keep: Callable[[float], bool],
    *,
    max_duration_s: float | None = None,
    max_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS,
) -> Generator[DecodedFrame, None, None]:
    """Decode a video straight through and yield the frames for which ``keep(t)`` is true.

    Frames not kept are only grabbed (no colour conversion, no copy). A kept frame larger than
    ``max_pixels`` is shrunk right after decoding, so a caller that holds a batch of frames never holds
    huge ones (a stream may change resolution after the first frame, which upload checks cannot see).
    Stops at the end of the stream or once a frame's time exceeds ``max_duration_s``. Raises
    :class:`UndecodableVideo` if the file cannot be opened; yields nothing for a stream without frames
    (the caller decides what that means).
    """
    cap = _open(path)
    try:
        clock = _Clock(_nominal_fps(cap))
        index = 0
        while cap.grab():
            t = clock.tick(cap.get(cv2.CAP_PROP_POS_MSEC))
            if max_duration_s is not None and t > max_duration_s:
                break
            if keep(t):
                ok, image = cap.retrieve()
                if ok and image is not None and image.size:
                    scale = 1.0
                    if max_pixels is not None:
                        image, scale = shrink_to_pixels(image, max_pixels)
                    yield DecodedFrame(index=index, t=round(t, 4), image=image, scale=scale)
            index += 1
    finally:
        cap.release()


@dataclass(frozen=True, slots=True)
class _Span:
    """What walking a stream's frames found: how many, the last one's time from the first, and whether the walk
    reached the end (False: it stopped at the first frame past the duration limit)."""

    count: int
    last_t: float
    complete: bool


def _packet_span(path: str | os.PathLike[str], max_duration_s: float | None) -> _Span | None:
    """The stream measured from its packets' timestamps, without decoding them (OpenCV's raw mode: demuxing only,
    about a hundredth of the cost of decoding every frame). Packets of a stream with B-frames come in decoding order,
    so the span is the largest time minus the smallest. None when the packets carry no usable timestamps (the caller
    then decodes instead)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    if not cap.isOpened():
        cap.release()
        return None
    try:
        count, first, low, high, complete = 0, 0.0, 0.0, 0.0, True
        while cap.grab():
            msec = cap.get(cv2.CAP_PROP_POS_MSEC)
            if not (msec == msec and msec >= 0):  # NaN or negative: no timestamp
                return None
            t = msec / 1000.0
            if count == 0:
                first = low = high = t
            low, high = min(low, t), max(high, t)
            count += 1
            if max_duration_s is not None and t - first > max_duration_s:
                complete = False
                break
    finally:
        cap.release()
    if count == 0 or (count > 1 and high <= low):  # nothing read, or every packet stamped alike
        return None
    return _Span(count=count, last_t=high - low, complete=complete)


def _decoded_span(path: str | os.PathLike[str], fps: float, max_duration_s: float | None) -> _Span:
    """The stream measured by decoding it straight through (``grab()``: no colour conversion), timestamps from
    :class:`_Clock`: what :func:`probe_video` does when the packets carry no usable timestamps."""
    cap = _open(path)
    try:
        clock = _Clock(fps)
        count, last_t, complete = 0, 0.0, True
        while cap.grab():
            t = clock.tick(cap.get(cv2.CAP_PROP_POS_MSEC))
            count += 1
            last_t = t
            if max_duration_s is not None and t > max_duration_s:
                complete = False
                break
    finally:
        cap.release()
    return _Span(count=count, last_t=last_t, complete=complete)


def probe_video(
    path: str | os.PathLike[str], *, max_duration_s: float | None = None, max_pixels: int | None = None
) -> VideoInfo:
    """Check that ``path`` is an accepted, decodable video and measure it.

    The first frame is decoded (the video decodes; its frame size), then the stream's packets are read through
    without decoding them to measure the duration from their timestamps (where a container carries none, the
    frames are decoded instead). With ``max_duration_s`` set, reading stops at the first frame past that time (so a
    too-long upload costs little); the result then has ``complete=False`` and a ``duration_s`` over the limit.
    With ``max_pixels`` set, a stream whose declared or first-frame size is larger raises :class:`FramesTooLarge`
    (checked before the first frame is decoded where the container declares it).
    Raises :class:`UnsupportedContainer` or :class:`UndecodableVideo` with a sentence for the user.
    """
    path = Path(path)
    container = sniff_file(path)
    if container is None:
        raise UnsupportedContainer(
            "This file is not a video format we accept; please upload an MP4, WebM, MOV, MKV or AVI video."
        )
    cap = _open(path)
    try:
        fps_nominal = _nominal_fps(cap)
        declared_w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        declared_h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if max_pixels is not None and declared_w * declared_h > max_pixels:
            raise FramesTooLarge(declared_w, declared_h)
        ok, first = cap.read()
        if not ok or first is None or first.size == 0:
            raise UndecodableVideo("No video frame could be decoded from this file; it may be corrupt or empty.")
        height, width = first.shape[:2]
        if max_pixels is not None and width * height > max_pixels:
            raise FramesTooLarge(width, height)
    finally:
        cap.release()
    span = _packet_span(path, max_duration_s) or _decoded_span(path, fps_nominal, max_duration_s)
    count, last_t, complete = max(1, span.count), span.last_t, span.complete
    if fps_nominal:
        fps = fps_nominal
    elif last_t > 0:
        fps = (count - 1) / last_t
    else:
        fps = _FALLBACK_FPS
    # A frame lasts one frame interval: a 1-frame video at 30 fps lasts 1/30 s, not 0 s.
    duration = last_t + 1.0 / fps if complete else last_t
    return VideoInfo(
        container=container,
        duration_s=round(duration, 3),
        fps=round(float(fps), 3),
        width=int(width),
        height=int(height),
        frame_count_read=count,
        complete=complete,
    )

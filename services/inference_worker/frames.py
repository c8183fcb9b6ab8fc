"""Frame sampling: which decoded frames the worker keeps, by timestamp, at a target rate, decoded ahead on a thread."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Generator, Iterator
from typing import Generic, TypeVar

from services.common.analysis import DEFAULT_MAX_FRAME_PIXELS
from services.common.video import DecodedFrame, decode_frames

T = TypeVar("T")


class SampleClock:
    """Keeps one frame per ``1 / sample_fps`` seconds of video time.

    The first frame is always kept; later frames are kept once their time reaches the next slot.
    Slots advance from the kept frame's slot (not from its exact time), so jittery timestamps do not
    drift the rate, and a gap in the stream (dropped frames) yields one frame, not a burst.
    """

    def __init__(self, sample_fps: float, max_frames: int | None = None) -> None:
        if not sample_fps > 0:
            raise ValueError("sample_fps must be positive")
        self.interval = 1.0 / sample_fps
        self.max_frames = max_frames
        self.kept = 0
        self._next: float | None = None
        # Tolerate timestamps rounded to the millisecond just before a slot boundary.
        self._eps = min(1e-3, self.interval / 100)

    def __call__(self, t: float) -> bool:
        """Whether the frame at ``t`` seconds is kept (call once per decoded frame, in order)."""
        if self.max_frames is not None and self.kept >= self.max_frames:
            return False
        if self._next is None:
            self._next = t + self.interval
        elif t + self._eps >= self._next:
            slots_passed = int((t + self._eps - self._next) // self.interval) + 1
            self._next += slots_passed * self.interval
        else:
            return False
        self.kept += 1
        return True


def sample_frames(
    path: str | os.PathLike[str],
    sample_fps: float,
    *,
    max_frames: int | None = None,
    max_duration_s: float | None = None,
    max_pixels: int | None = None,
) -> Generator[DecodedFrame, None, None]:
    """Decode ``path`` straight through, yielding about ``sample_fps`` frames per second of video (frames over
    ``max_pixels``, default the upload limit, shrunk right after decoding)."""
    return decode_frames(path, SampleClock(sample_fps, max_frames), max_duration_s=max_duration_s,
                         max_pixels=max_pixels or DEFAULT_MAX_FRAME_PIXELS)


def expected_samples(duration_s: float, sample_fps: float, max_frames: int | None = None) -> int:
    """Roughly how many frames :func:`sample_frames` keeps from a video of ``duration_s`` (for progress)."""
    n = max(1, int(duration_s * sample_fps + 0.999))
    return min(n, max_frames) if max_frames else n


_END = object()


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Prefetcher(Generic[T]):
    """Runs an iterator (the decoder) on a thread of its own, ``depth`` items ahead of the consumer.

    OpenCV's decoding releases the GIL, so frames are decoded while the job's thread detects faces in the previous
    ones. The iterator's exceptions reach the consumer at the point where its items would have; :meth:`close` (or
    leaving a ``with`` block) stops the thread and closes the iterator, releasing the capture, even mid-video.
    """

    def __init__(self, source: Iterator[T], depth: int = 32) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="bloomwell-decode", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            self._put(_Failure(exc))
        else:
            self._put(_END)
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Prefetcher[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._done = True
            raise item.exc
        return item  # type: ignore[return-value]  # the markers _END and _Failure were handled above

    def close(self) -> None:
        """Stop decoding and wait for the thread (which closes the source)."""
        self._done = True
        self._stop.set()
        while True:  # unblock a put() waiting for room
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=30)

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

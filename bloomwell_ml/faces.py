"""Face detection (OpenCV Haar cascade or facenet-pytorch MTCNN); crops are cut by `bloomwell_ml.crop`.

Detectors take a batch of BGR frames and return, per frame, the faces largest first (face 0 is the
frame's main subject). Both work on a copy scaled down to at most ``max_side`` pixels and map boxes
back to source-frame pixels, so cost does not grow with the upload's resolution.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

DETECTORS: tuple[str, ...] = ("haar", "mtcnn")


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in source-frame pixels (``x, y`` top-left, width, height) and detector confidence."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0

    @property
    def area(self) -> int:
        """Pixel area of the box."""
        return self.w * self.h

    def as_list(self) -> list[int]:
        """``[x, y, w, h]`` as the result JSON stores it."""
        return [self.x, self.y, self.w, self.h]


class FaceDetector(Protocol):
    """Finds faces in a batch of BGR frames."""

    name: str

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        """Per frame, its faces, largest first."""
        ...


def _scale_for(image: np.ndarray, max_side: int) -> float:
    h, w = image.shape[:2]
    return min(1.0, max_side / max(h, w))


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def clip_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int, score: float) -> Box | None:
    """A :class:`Box` from corner coordinates clipped to the frame, or None if nothing is left."""
    xa, ya = max(0, int(round(x0))), max(0, int(round(y0)))
    xb, yb = min(width, int(round(x1))), min(height, int(round(y1)))
    if xb - xa < 2 or yb - ya < 2:
        return None
    return Box(xa, ya, xb - xa, yb - ya, float(score))


def largest_first(boxes: list[Box], max_faces: int) -> list[Box]:
    """The ``max_faces`` largest boxes, largest first (ties: left to right)."""
    return sorted(boxes, key=lambda b: (-b.area, b.x, b.y))[:max_faces]


class HaarDetector:
    """OpenCV's bundled frontal-face Haar cascade (the floor: fast, no extra package, misses turned faces)."""

    name = "haar"

    def __init__(
        self,
        *,
        scale_factor: float = 1.2,
        min_neighbors: int = 5,
        min_size_frac: float = 0.1,
        max_side: int = 640,
        max_faces: int = 5,
    ) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"could not load the Haar cascade from {path}")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_frac = min_size_frac
        self.max_side = max_side
        self.max_faces = max_faces

    def _detect_one(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        scale = _scale_for(frame, self.max_side)
        small = _resize(frame, scale)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        gray = cv2.equalizeHist(gray)
        min_side = max(24, int(min(gray.shape[:2]) * self.min_size_frac))
        rects, neighbours = self._cascade.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(min_side, min_side)
        )
        boxes = []
        for (x, y, w, h), n in zip(rects, np.ravel(neighbours), strict=False):
            box = clip_box(x / scale, y / scale, (x + w) / scale, (y + h) / scale, width, height, float(n))
            if box is not None:
                boxes.append(box)
        return largest_first(boxes, self.max_faces)

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        """Per frame, its faces, largest first."""
        return [self._detect_one(f) for f in frames]


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` torch intra-op threads (0: leave as is). MTCNN's many small ops run faster on
    one thread than on two on a busy 2-core machine (measured in bench/bench_worker.py)."""
    import torch

    previous = torch.get_num_threads()
    if n <= 0 or n == previous:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class MTCNNDetector:
    """facenet-pytorch's MTCNN (a CNN cascade; weights ship in its wheel). Finds turned and small faces.

    Install it without its dependencies, it pins an old torch: ``pip install --no-deps facenet-pytorch``.
    Frames of one batch must share a size (true for frames of one video) to run as one batch.
    """

    name = "mtcnn"

    def __init__(
        self,
        *,
        min_confidence: float = 0.9,
        min_size_frac: float = 0.1,
        max_side: int = 640,
        max_faces: int = 5,
        device: str = "cpu",
        num_threads: int = 1,
    ) -> None:
        from facenet_pytorch import MTCNN  # optional dependency, imported only when chosen

        self.min_confidence = min_confidence
        self.min_size_frac = min_size_frac
        self.max_side = max_side
        self.max_faces = max_faces
        self._device = device
        self.num_threads = num_threads
        self._mtcnn_cls = MTCNN
        self._models: dict[int, object] = {}

    def _model(self, min_face: int) -> object:
        model = self._models.get(min_face)
        if model is None:
            model = self._mtcnn_cls(keep_all=True, min_face_size=min_face, device=self._device, post_process=False)
            self._models[min_face] = model
        return model

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        """Per frame, its faces, largest first (one MTCNN pass per group of equally sized frames)."""
        import torch

        results: list[list[Box]] = [[] for _ in frames]
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, frame in enumerate(frames):
            groups.setdefault(frame.shape, []).append(i)
        for shape, indices in groups.items():
            height, width = shape[:2]
            scale = _scale_for(frames[indices[0]], self.max_side)
            small = [cv2.cvtColor(_resize(frames[i], scale), cv2.COLOR_BGR2RGB) for i in indices]
            min_face = max(20, int(min(small[0].shape[:2]) * self.min_size_frac))
            with torch.inference_mode(), _torch_threads(self.num_threads if self._device == "cpu" else 0):
                batch_boxes, batch_probs = self._model(min_face).detect(np.stack(small))  # type: ignore[attr-defined]
            for i, boxes, probs in zip(indices, batch_boxes, batch_probs, strict=True):
                found = []
                if boxes is not None:
                    for (x0, y0, x1, y1), p in zip(boxes, probs, strict=True):
                        if p is None or p < self.min_confidence:
                            continue
                        box = clip_box(x0 / scale, y0 / scale, x1 / scale, y1 / scale, width, height, float(p))
                        if box is not None:
                            found.append(box)
                results[i] = largest_first(found, self.max_faces)
        return results


def create_detector(
    name: str, *, max_faces: int = 5, min_face_frac: float = 0.1, device: str = "cpu", num_threads: int = 1
) -> FaceDetector:
    """The detector named ``haar`` or ``mtcnn``; ``mtcnn`` falls back to Haar if facenet-pytorch is absent.

    ``min_face_frac`` is the smallest face looked for, as a share of the frame's short side (smaller faces
    would be upscaled several times for the 48 px classifier anyway; 0.1 halves MTCNN's cost against 0.06).
    """
    if name == "haar":
        return HaarDetector(max_faces=max_faces, min_size_frac=min_face_frac)
    if name == "mtcnn":
        try:
            return MTCNNDetector(max_faces=max_faces, min_size_frac=min_face_frac, device=device,
                                 num_threads=num_threads)
        except ImportError:
            log.warning("facenet-pytorch is not installed; falling back to the Haar cascade face detector")
            return HaarDetector(max_faces=max_faces, min_size_frac=min_face_frac)
    raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")

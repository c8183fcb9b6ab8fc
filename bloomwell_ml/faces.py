"""Face detectors: YuNet (OpenCV's ``FaceDetectorYN``, the default), facenet-pytorch MTCNN and the Haar cascade.

Detectors take a batch of BGR frames and return, per frame, the faces largest first, each with five landmarks
where the detector gives them (YuNet, MTCNN). Every detector works on a copy scaled down to at most
``max_side`` pixels, optionally padded by ``pad_frac`` of its size on each side (a face that fills the picture,
as in a tight portrait, is otherwise missed: nothing around it looks like a face's surroundings), and maps
boxes back to source-frame pixels, so cost does not grow with the upload's resolution. Crops are cut by
:mod:`bloomwell_ml.crop`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import cv2.data
import numpy as np

from bloomwell_ml.paths import REPO_ROOT

log = logging.getLogger(__name__)

DETECTORS: tuple[str, ...] = ("yunet", "mtcnn", "haar")

YUNET_PATH = REPO_ROOT / "models" / "face_detector" / "face_detection_yunet_2023mar.onnx"
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
"""The shipped YuNet file and its checksum (``models/face_detector/README.md``); checked at every load."""

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Five facial landmarks in source-frame pixels (the subject's right eye is on the image's left)."""

    right_eye: Point
    left_eye: Point
    nose: Point
    mouth_right: Point
    mouth_left: Point

    def moved(self, dx: float, dy: float, scale: float) -> Landmarks:
        """The landmarks mapped by ``(p - (dx, dy)) / scale``."""
        def f(p: Point) -> Point:
            return ((p[0] - dx) / scale, (p[1] - dy) / scale)

        return Landmarks(f(self.right_eye), f(self.left_eye), f(self.nose), f(self.mouth_right), f(self.mouth_left))


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in source-frame pixels (``x, y`` top-left, width, height), detector confidence, landmarks."""

    x: int
    y: int
    w: int
    h: int
    score: float = 1.0
    landmarks: Landmarks | None = None

    @property
    def area(self) -> int:
        """Pixel area of the box."""
        return self.w * self.h

    @property
    def short_side(self) -> int:
        """The box's shorter side in pixels."""
        return min(self.w, self.h)

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
    return min(1.0, max_side / float(max(h, w)))


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A frame as a detector sees it: scaled by ``scale``, then padded by ``pad`` pixels on every side."""

    image: np.ndarray
    scale: float
    pad: int
    width: int
    height: int

    def to_source(self, x0: float, y0: float, x1: float, y1: float, score: float,
                  landmarks: Landmarks | None = None) -> Box | None:
        """A box in the detector's image mapped back to (and clipped to) the source frame."""
        s, p = self.scale, self.pad
        box = clip_box((x0 - p) / s, (y0 - p) / s, (x1 - p) / s, (y1 - p) / s, self.width, self.height, score)
        if box is None or landmarks is None:
            return box
        return replace(box, landmarks=landmarks.moved(p, p, s))


def prepare(frame: np.ndarray, max_side: int, pad_frac: float) -> _Prepared:
    """Scale ``frame`` to at most ``max_side`` pixels and pad it by ``pad_frac`` of its longer side (edge
    pixels repeated), as every detector here does before it looks for faces."""
    height, width = frame.shape[:2]
    scale = _scale_for(frame, max_side)
    small = _resize(frame, scale)
    pad = int(round(pad_frac * max(small.shape[:2])))
    if pad:
        small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return _Prepared(small, scale, pad, width, height)


def clip_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int, score: float) -> Box | None:
    """A :class:`Box` from corner coordinates clipped to the frame, or None if nothing is left (or the detector
    returned non-finite coordinates, as YuNet can on frames of a few pixels)."""
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    xa, ya = max(0, int(round(x0))), max(0, int(round(y0)))
    xb, yb = min(width, int(round(x1))), min(height, int(round(y1)))
    if xb - xa < 2 or yb - ya < 2:
        return None
    return Box(xa, ya, xb - xa, yb - ya, float(score))


def largest_first(boxes: list[Box], max_faces: int) -> list[Box]:
    """The ``max_faces`` largest boxes, largest first (ties: left to right)."""
    return sorted(boxes, key=lambda b: (-b.area, b.x, b.y))[:max_faces]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class YuNetDetector:
    """YuNet (a 75 k-parameter CNN with five landmarks per face) through OpenCV's ``cv2.FaceDetectorYN``.

    The ONNX file ships in ``models/face_detector/`` with its Apache-2.0 licence; its SHA-256 is checked when
    the detector is made, so a damaged or swapped file is refused rather than silently used.
    """

    name = "yunet"

    def __init__(
        self,
        *,
        model_path: Path = YUNET_PATH,
        expected_sha256: str | None = YUNET_SHA256,
        score_threshold: float = 0.7,
        nms_threshold: float = 0.3,
        min_face_px: int = 12,
        max_side: int = 320,
        pad_frac: float = 0.0,
        max_faces: int = 5,
    ) -> None:
        if not model_path.is_file():
            raise FileNotFoundError(f"face detector model {model_path} is missing")
        if expected_sha256 is not None and file_sha256(model_path) != expected_sha256:
            raise ValueError(f"face detector model {model_path} does not match its SHA-256 {expected_sha256}")
        self._detector = cv2.FaceDetectorYN.create(str(model_path), "", (max_side, max_side), score_threshold,
                                                   nms_threshold, 5000)
        self._input_size: tuple[int, int] | None = None
        self.score_threshold = score_threshold
        self.min_face_px = min_face_px
        self.max_side = max_side
        self.pad_frac = pad_frac
        self.max_faces = max_faces

    def _detect_one(self, frame: np.ndarray) -> list[Box]:
        if min(frame.shape[:2]) < max(8, self.min_face_px):  # no face we keep fits, and the network misbehaves
            return []
        prep = prepare(frame, self.max_side, self.pad_frac)
        size = (prep.image.shape[1], prep.image.shape[0])
        if size != self._input_size:
            self._detector.setInputSize(size)
            self._input_size = size
        _, rows = self._detector.detect(prep.image)
        boxes = []
        for row in rows if rows is not None else ():
            x, y, w, h = (float(v) for v in row[:4])
            points = [(float(row[4 + 2 * i]), float(row[5 + 2 * i])) for i in range(5)]
            marks = Landmarks(*points) if all(math.isfinite(v) for pt in points for v in pt) else None
            box = prep.to_source(x, y, x + w, y + h, float(row[14]), marks)
            if box is not None and box.short_side >= self.min_face_px:
                boxes.append(box)
        return largest_first(boxes, self.max_faces)

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        """Per frame, its faces, largest first."""
        return [self._detect_one(f) for f in frames]


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
        pad_frac: float = 0.25,
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
        self.pad_frac = pad_frac
        self.max_faces = max_faces

    def _detect_one(self, frame: np.ndarray) -> list[Box]:
        if min(frame.shape[:2]) < 8:
            return []
        prep = prepare(frame, self.max_side, self.pad_frac)
        gray = cv2.cvtColor(prep.image, cv2.COLOR_BGR2GRAY) if prep.image.ndim == 3 else prep.image
        gray = cv2.equalizeHist(gray)
        short = min(frame.shape[:2]) * prep.scale  # the frame's short side, not the padded image's
        min_side = max(24, int(short * self.min_size_frac))
        rects, neighbours = self._cascade.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(min_side, min_side)
        )
        boxes = []
        for (x, y, w, h), n in zip(rects, np.ravel(neighbours), strict=False):
            box = prep.to_source(x, y, x + w, y + h, float(n))
            if box is not None:
                boxes.append(box)
        return largest_first(boxes, self.max_faces)

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Box]]:
        """Per frame, its faces, largest first."""
        return [self._detect_one(f) for f in frames]


class DetectorUnavailable(RuntimeError):
    """The chosen face detector cannot run in this installation (the message says what to do)."""


MTCNN_UNAVAILABLE = (
    "FACE_DETECTOR=mtcnn needs PyTorch and facenet-pytorch, and this installation lacks {missing} (the CPU runtime "
    "of `make run` and the CPU worker image carry neither): use FACE_DETECTOR=yunet (the default) or haar, or "
    "install requirements-torch.txt (the CUDA worker image has it)"
)


def mtcnn_missing_packages() -> list[str]:
    """The packages MTCNN needs that are not installed (found without importing them)."""
    import importlib.util

    def found(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # an import hook that refuses it counts as "not installed"
            return False

    return [name for name, module in (("torch", "torch"), ("facenet-pytorch", "facenet_pytorch")) if not found(module)]


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
    """facenet-pytorch's MTCNN (a CNN cascade; weights ship in its wheel), with five landmarks per face.

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
        pad_frac: float = 0.0,
        max_faces: int = 5,
        device: str = "cpu",
        num_threads: int = 1,
    ) -> None:
        from facenet_pytorch import MTCNN  # optional dependency, imported only when chosen

        self.min_confidence = min_confidence
        self.min_size_frac = min_size_frac
        self.max_side = max_side
        self.pad_frac = pad_frac
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
            if min(frame.shape[:2]) >= 12:  # MTCNN's first stage needs a 12 px window
                groups.setdefault(frame.shape, []).append(i)
        for indices in groups.values():
            preps = [prepare(frames[i], self.max_side, self.pad_frac) for i in indices]
            small = [cv2.cvtColor(p.image, cv2.COLOR_BGR2RGB) for p in preps]
            short = min(frames[indices[0]].shape[:2]) * preps[0].scale
            min_face = max(20, int(short * self.min_size_frac))
            with torch.inference_mode(), _torch_threads(self.num_threads if self._device == "cpu" else 0):
                batch_boxes, batch_probs, batch_points = self._model(min_face).detect(  # type: ignore[attr-defined]
                    np.stack(small), landmarks=True
                )
            for i, prep, boxes, probs, points in zip(indices, preps, batch_boxes, batch_probs, batch_points,
                                                     strict=True):
                found = []
                if boxes is not None:
                    for (x0, y0, x1, y1), p, pts in zip(boxes, probs, points, strict=True):
                        if p is None or p < self.min_confidence:
                            continue
                        marks = Landmarks(*[(float(px), float(py)) for px, py in pts])
                        box = prep.to_source(x0, y0, x1, y1, float(p), marks)
                        if box is not None:
                            found.append(box)
                results[i] = largest_first(found, self.max_faces)
        return results


def create_detector(
    name: str,
    *,
    max_faces: int = 5,
    min_face_frac: float = 0.1,
    min_face_px: int = 12,
    max_side: int | None = None,
    score_threshold: float | None = None,
    device: str = "cpu",
    num_threads: int = 1,
) -> FaceDetector:
    """The detector named ``yunet`` (default), ``mtcnn`` or ``haar``; ``mtcnn`` raises
    :class:`DetectorUnavailable` where PyTorch or facenet-pytorch is not installed (the CPU runtime).

    ``min_face_frac`` is the smallest face MTCNN and Haar look for, as a share of the frame's short side (their
    cost grows steeply below it); YuNet finds faces down to ``min_face_px`` at no extra cost, and the worker's
    quality gate marks the ones too small to read.
    """
    if name == "yunet":
        return YuNetDetector(max_faces=max_faces, min_face_px=min_face_px, max_side=max_side or 320,
                             score_threshold=score_threshold if score_threshold is not None else 0.7)
    if name == "haar":
        return HaarDetector(max_faces=max_faces, min_size_frac=min_face_frac, max_side=max_side or 640)
    if name == "mtcnn":
        if missing := mtcnn_missing_packages():
            raise DetectorUnavailable(MTCNN_UNAVAILABLE.format(missing=", ".join(missing)))
        return MTCNNDetector(max_faces=max_faces, min_size_frac=min_face_frac, device=device,
                             num_threads=num_threads, max_side=max_side or 640,
                             min_confidence=score_threshold if score_threshold is not None else 0.9)
    raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")

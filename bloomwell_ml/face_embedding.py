"""Face embeddings for re-identifying a person across shot cuts and track gaps (ONNX Runtime, no torch).

The network is face-api's ``FaceRecognitionNet`` (``@vladmandic/face-api`` 1.7.15, MIT): a ResNet-34-like net on
150×150 RGB faces giving a 128-d descriptor (the port of dlib's face-recognition ResNet), converted to
``models/face_embedder/model.onnx`` by ``scripts/convert_face_embedder.py`` with a parity check against face-api's
own tfjs runtime (model card and figures beside the file). The graph takes RGB pixel values (0–255, NCHW float32)
and does face-api's normalisation itself; its weights are stored as the package's 8-bit codes and dequantized in the
graph, as tfjs does at load.

Two descriptors of the same person are close: :func:`cosine_similarity` of their unit vectors; the threshold the
worker merges at is measured by ``scripts/measure_reid.py`` (``MODEL_CARD.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import Box
from bloomwell_ml.paths import REPO_ROOT
from bloomwell_ml.preprocess import to_model_image

EMBEDDER_DIR = REPO_ROOT / "models" / "face_embedder"
EMBEDDER_PATH = EMBEDDER_DIR / "model.onnx"
INPUT_SIZE = 150
EMBEDDING_DIM = 128
INPUT_NAME, OUTPUT_NAME = "image", "descriptor"
CROP_MARGIN = 0.0
"""Margin of the face crop around the detector's box (:func:`bloomwell_ml.crop.crop_square`): face-api embeds the
tight, square face box."""


class EmbedderUnavailable(RuntimeError):
    """The embedding model file is missing or is not the file its ``SHA256SUMS`` names."""


def expected_sha256(path: Path) -> str | None:
    """The checksum ``SHA256SUMS`` beside ``path`` records for it (None if there is no entry)."""
    sums = path.with_name("SHA256SUMS")
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == path.name:
            return digest.strip()
    return None


def embedding_crop(frame: np.ndarray, box: Box) -> np.ndarray:
    """The embedder's input image for one face: the eye-levelled square face box, RGB uint8 150×150."""
    crop = crop_square(frame, box, CROP_MARGIN, align=True, max_side=INPUT_SIZE)
    return to_model_image(crop, INPUT_SIZE, grayscale=False, in_chans=3)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.maximum(norms, 1e-12), dtype=np.float32)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two descriptors (1: same direction)."""
    return float(np.dot(unit(a), unit(b)))


class FaceEmbedder:
    """The face-embedding network on ONNX Runtime; the file's SHA-256 is checked at load against ``SHA256SUMS``."""

    def __init__(self, path: Path = EMBEDDER_PATH, threads: int = 1) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise EmbedderUnavailable(f"face embedding model {path} is missing")
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        expected = expected_sha256(path)
        if expected is not None and expected != self.sha256:
            raise EmbedderUnavailable(f"{path}: SHA-256 {self.sha256} is not the {expected} its SHA256SUMS records")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, threads)
        options.inter_op_num_threads = 1
        self._session: Any = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def embed(self, images: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Descriptors ``(N, 128)`` float32 for RGB uint8 images ``(N, 150, 150, 3)`` (:func:`embedding_crop`)."""
        batch = np.asarray(images, dtype=np.uint8)
        if batch.ndim != 4 or batch.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"expected (N, {INPUT_SIZE}, {INPUT_SIZE}, 3) images, got {batch.shape}")
        if len(batch) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
        (out,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: x})
        return np.asarray(out, dtype=np.float32)

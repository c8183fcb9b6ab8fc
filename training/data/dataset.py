"""In-memory image datasets (decoded once, resized to the model input) and a weighted multi-source mix."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import FaceDetector, create_detector
from bloomwell_ml.preprocess import to_model_image
from training.data.readers import Sample

_DETECTOR: FaceDetector | None = None


def crop_face(img: np.ndarray) -> np.ndarray:
    """The largest detected face, cut with the worker's crop geometry (:func:`bloomwell_ml.crop.crop_square`,
    no margin); the whole image when no face is found."""
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = create_detector("haar", max_faces=1)
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img[:, :, :3]
    faces = _DETECTOR.detect([bgr])[0]
    return crop_square(img, faces[0]) if faces else img


def load_images(samples: Sequence[Sample], size: int, grayscale: bool, in_chans: int = 3,
                face_crop: bool = False, cache_dir: str | Path | None = None) -> np.ndarray:
    """Decode and resize all images to uint8 (N, size, size, C); optionally cached as .npy in `cache_dir`."""
    cache: Path | None = None
    if cache_dir:
        key = hashlib.sha1(repr((size, grayscale, in_chans, face_crop,
                                 [str(s.path) for s in samples])).encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"images-{key}.npy"
        if cache.exists():
            cached: np.ndarray = np.load(cache)
            return cached
    out = np.empty((len(samples), size, size, in_chans), dtype=np.uint8)
    for i, s in enumerate(samples):
        img = cv2.imread(str(s.path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise OSError(f"cannot read image {s.path}")
        if face_crop:
            img = crop_face(img)
        out[i] = to_model_image(img, size, grayscale, in_chans)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
    return out


class ImageDataset(Dataset[tuple[torch.Tensor, int]]):
    """Images held in memory as uint8; items are (uint8 tensor C×H×W, label)."""

    def __init__(self, samples: Sequence[Sample], size: int, grayscale: bool = True, in_chans: int = 3,
                 face_crop: bool = False, cache_dir: str | Path | None = None) -> None:
        self.samples = list(samples)
        self.images = torch.from_numpy(load_images(self.samples, size, grayscale, in_chans, face_crop, cache_dir))
        self.labels = torch.tensor([s.label for s in self.samples], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i].permute(2, 0, 1), int(self.labels[i])


class CombinedDataset(Dataset[tuple[torch.Tensor, int]]):
    """Several sources concatenated, with per-sample sampling weights `source_weight / len(source)`."""

    def __init__(self, datasets: Sequence[ImageDataset], weights: Sequence[float] | None = None) -> None:
        self.datasets = list(datasets)
        weights = list(weights) if weights is not None else [1.0] * len(self.datasets)
        self.offsets = np.cumsum([0] + [len(d) for d in self.datasets])
        self.labels = torch.cat([d.labels for d in self.datasets])
        self.sample_weights = torch.cat([torch.full((len(d),), w / max(1, len(d)), dtype=torch.double)
                                         for d, w in zip(self.datasets, weights, strict=True)])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        k = int(np.searchsorted(self.offsets, i, side="right") - 1)
        return self.datasets[k][i - int(self.offsets[k])]

    @property
    def uniform(self) -> bool:
        """True when every sample has the same weight (plain shuffling suffices)."""
        return bool(torch.allclose(self.sample_weights, self.sample_weights[0].expand_as(self.sample_weights)))


def stratified_split(samples: Sequence[Sample], val_fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Seeded stratified split into (train, val)."""
    rng = np.random.default_rng(seed)
    by_class: dict[int, list[int]] = {}
    for i, s in enumerate(samples):
        by_class.setdefault(s.label, []).append(i)
    val_idx: set[int] = set()
    for idx in by_class.values():
        idx = list(idx)
        rng.shuffle(idx)
        val_idx.update(idx[: int(round(len(idx) * val_fraction))])
    train = [s for i, s in enumerate(samples) if i not in val_idx]
    val = [s for i, s in enumerate(samples) if i in val_idx]
    return train, val

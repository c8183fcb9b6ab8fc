"""Controlled image corruptions: one definition of each, shared by the FER2013-C robustness suite
(`training.robustness`), the quality benchmark (`bench/bench_quality.py`) and training-time augmentation.

Every corruption is a pure function ``f(image, level, rng) -> image`` on a uint8 image (H×W gray or H×W×C) that
returns a uint8 image of the same shape; ``rng`` (a :class:`numpy.random.Generator`) is used only by the random
ones (noise, rotation sign, crop jitter, occlusion), so a seeded generator makes every result reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Corruption = Callable[[np.ndarray, float, np.random.Generator | None], np.ndarray]


def _u8(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return out


def scale_intensity(img: np.ndarray, k: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Darken (k < 1) or brighten (k > 1): every grey level multiplied by ``k``."""
    return _u8(img.astype(np.float32) * k)


def towards_white(img: np.ndarray, a: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Over-exposure: grey levels mapped linearly from [0, 255] onto [a, 255]."""
    return _u8(img.astype(np.float32) * (1 - a / 255.0) + a)


def contrast(img: np.ndarray, c: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Contrast scaled by ``c`` around the image's mean grey level."""
    f = img.astype(np.float32)
    m = float(f.mean())
    return _u8((f - m) * c + m)


def gamma(img: np.ndarray, g: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gamma curve ``255 · (x / 255) ** g`` (g < 1 lifts shadows, g > 1 darkens mid-tones)."""
    lut = _u8(255.0 * (np.arange(256, dtype=np.float64) / 255.0) ** g)
    out: np.ndarray = lut[img]
    return out


def gaussian_blur(img: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (0 = unchanged)."""
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0 else img.copy()


def jpeg(img: np.ndarray, quality: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """JPEG-encoded at ``quality`` (1–100) and decoded again."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if out is None:
        raise ValueError("JPEG decoding failed")
    return out.reshape(img.shape)


def sensor_noise(img: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Additive Gaussian noise of standard deviation ``sigma`` grey levels (seeded by ``rng``)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    return _u8(img.astype(np.float32) + rng.normal(0.0, sigma, img.shape).astype(np.float32))


def down_up(img: np.ndarray, px: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A small face: downscaled to ``px`` pixels (area) and back to the original size (bilinear)."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (int(px), int(px)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(img.shape)


def _affine(img: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    out = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(img.shape)


def rotate(img: np.ndarray, deg: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Rotated by ``deg`` degrees about the centre (edges replicated); with ``rng`` the sign is random."""
    if rng is not None and rng.random() < 0.5:
        deg = -deg
    h, w = img.shape[:2]
    return _affine(img, cv2.getRotationMatrix2D((w / 2.0, h / 2.0), deg, 1.0))


def crop_jitter(img: np.ndarray, s: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A detector's imprecise box: the crop centre shifted by up to ``s`` of the side on each axis and its side
    scaled by a factor in [1 − s, 1 + s] (uniform; edges replicated), resampled to the original size."""
    rng = rng if rng is not None else np.random.default_rng(0)
    h, w = img.shape[:2]
    dx, dy = rng.uniform(-s, s, 2) * np.array([w, h])
    scale = rng.uniform(1 - s, 1 + s)
    # output pixel p samples the input at centre + (p - centre) * scale + shift
    zoom = 1.0 / scale
    matrix = np.array([[zoom, 0.0, (1 - zoom) * w / 2.0 - dx * zoom],
                       [0.0, zoom, (1 - zoom) * h / 2.0 - dy * zoom]])
    return _affine(img, matrix)


def occlude(img: np.ndarray, frac: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A square patch of side ``frac`` of the image side, at a random position inside the image, filled with one
    random grey level (a hand, a cup, a microphone)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    h, w = img.shape[:2]
    side = max(1, int(round(frac * min(h, w))))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    out = img.copy()
    out[y : y + side, x : x + side] = int(rng.integers(0, 256))
    return out


@dataclass(frozen=True)
class CorruptionSpec:
    """One corruption of the FER2013-C suite and the levels it is applied at (mildest first)."""

    name: str
    fn: Corruption
    levels: tuple[float, ...]
    unit: str


FER2013_C: tuple[CorruptionSpec, ...] = (
    CorruptionSpec("dark", scale_intensity, (0.5, 0.3), "grey levels × k"),
    CorruptionSpec("bright", towards_white, (80, 140), "grey levels mapped onto [a, 255]"),
    CorruptionSpec("contrast", contrast, (0.5, 0.3), "contrast × c"),
    CorruptionSpec("gamma", gamma, (0.5, 2.0), "gamma g"),
    CorruptionSpec("blur", gaussian_blur, (1.0, 2.0), "Gaussian sigma, px"),
    CorruptionSpec("jpeg", jpeg, (30, 20), "JPEG quality"),
    CorruptionSpec("noise", sensor_noise, (8, 16), "Gaussian noise sigma, grey levels"),
    CorruptionSpec("downscale", down_up, (32, 24), "face side, px (then back to 48)"),
    CorruptionSpec("rotation", rotate, (10, 20), "± degrees"),
    CorruptionSpec("crop_jitter", crop_jitter, (0.1, 0.2), "shift ≤ s·side, scale in [1-s, 1+s]"),
    CorruptionSpec("occlusion", occlude, (0.25, 0.4), "patch side / image side"),
)
"""The FER2013-C corruptions, two levels each (22 sets)."""


def corrupt_all(images: np.ndarray, spec: CorruptionSpec, level: float, seed: int) -> np.ndarray:
    """``images`` (N, H, W[, C]) uint8 under one corruption at one level; the random draws come from one generator
    seeded by (``seed``, the corruption's position in :data:`FER2013_C` or its name, the level)."""
    index = next((i for i, c in enumerate(FER2013_C) if c.name == spec.name), sum(map(ord, spec.name)))
    rng = np.random.default_rng([seed, index, int(round(level * 1000))])
    return np.stack([spec.fn(img, level, rng) for img in images])

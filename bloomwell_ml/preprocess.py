"""Turning face crops (BGR uint8, any size) into a normalised model batch.

:func:`normalize` takes a torch tensor (training, the PyTorch backend) or a numpy array (the worker's ONNX Runtime
path, where torch is not installed); torch is imported only for tensors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import cv2
import numpy as np

from bloomwell_ml.spec import ModelSpec

if TYPE_CHECKING:
    import torch


def to_model_image(img: np.ndarray, size: int, grayscale: bool, in_chans: int = 3, rgb: bool = False) -> np.ndarray:
    """Resize one BGR/gray uint8 image to `size`² and return uint8 HxWxC (gray or RGB).

    This is the single resize/colour path shared by training data loading and inference. ``rgb``: the image is
    already RGB (a bundle's shared model image, resized again for each member by :func:`member_images`).
    """
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2RGB if rgb else cv2.COLOR_BGRA2BGR)
    if grayscale and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY)
    elif grayscale:
        img = img[:, :, 0]
    elif img.shape[2] == 1:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif not rgb:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    if (h, w) != (size, size):
        interp = cv2.INTER_AREA if min(h, w) > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] != in_chans:
        img = np.repeat(img[:, :, :1], in_chans, axis=2) if img.shape[2] == 1 else img[:, :, :in_chans]
    return np.ascontiguousarray(img)


@overload
def normalize(batch: np.ndarray, spec: ModelSpec) -> np.ndarray: ...


@overload
def normalize(batch: torch.Tensor, spec: ModelSpec) -> torch.Tensor: ...


def normalize(batch: np.ndarray | torch.Tensor, spec: ModelSpec) -> np.ndarray | torch.Tensor:
    """uint8 or [0,1] float (N,C,H,W) -> mean/std-normalised float32 (a numpy array for a numpy array, else a
    tensor on the input's device)."""
    if isinstance(batch, np.ndarray):
        x = batch.astype(np.float32)
        if batch.dtype == np.uint8:
            x /= np.float32(255.0)
        channels = x.shape[1]
        mean = np.asarray(spec.mean[:channels], dtype=np.float32).reshape(1, -1, 1, 1)
        std = np.asarray(spec.std[:channels], dtype=np.float32).reshape(1, -1, 1, 1)
        return np.ascontiguousarray((x - mean) / std)
    import torch

    t = batch.float()
    if batch.dtype == torch.uint8:
        t = t / 255.0
    mean_t = torch.tensor(spec.mean[: t.shape[1]], dtype=t.dtype, device=t.device).view(1, -1, 1, 1)
    std_t = torch.tensor(spec.std[: t.shape[1]], dtype=t.dtype, device=t.device).view(1, -1, 1, 1)
    return (t - mean_t) / std_t


def member_images(images: np.ndarray, shared: ModelSpec, member: ModelSpec) -> np.ndarray:
    """A bundle's shared model images ``(N, S, S, C)`` uint8 (``shared``'s input: the largest a member needs, cut
    once from the face crop by :func:`to_model_image`) as one member's model images (its size and colour), through
    the same resize path. Images already in the member's format are returned as they are."""
    if (shared.image_size, shared.grayscale, shared.in_chans) == (member.image_size, member.grayscale,
                                                                   member.in_chans):
        return images
    size = member.image_size
    out = np.empty((len(images), size, size, member.in_chans), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = to_model_image(image, size, member.grayscale, member.in_chans, rgb=not shared.grayscale)
    return out


def model_batch(images: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """Model images ``(N, H, W, C)`` uint8 (:func:`to_model_image`) -> the normalised float32 batch
    ``(N, C, H, W)`` (numpy; the ONNX Runtime path)."""
    return normalize(np.ascontiguousarray(images.transpose(0, 3, 1, 2)), spec)


def preprocess_faces(crops: list[np.ndarray], spec: ModelSpec) -> torch.Tensor:
    """Face crops (BGR uint8, any size; gray 2-D also accepted) -> float tensor (N, C, H, W)."""
    import torch

    if not crops:
        return torch.empty(0, spec.in_chans, spec.image_size, spec.image_size)
    arr = np.stack([to_model_image(c, spec.image_size, spec.grayscale, spec.in_chans) for c in crops])
    return torch.from_numpy(model_batch(arr, spec))

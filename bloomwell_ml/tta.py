"""Test-time augmentation views, shared by evaluation (`training.evaluate`) and the inference worker.

Every function here takes either a torch tensor (training, evaluation, the PyTorch backend) or a numpy array (the
worker's ONNX Runtime path, where torch is not installed) and answers in the same kind; torch is imported only for
tensors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

if TYPE_CHECKING:
    import torch

TestTimeAugmentation = Literal["none", "flip", "five"]
TTA_KINDS: tuple[str, ...] = get_args(TestTimeAugmentation)
TtaSetting = Literal["auto", "none", "flip", "five"]
"""What a deployment asks for: a kind, or ``auto`` (:func:`resolve_tta`)."""
TTA_TITLE_SUFFIX: dict[str, str] = {"none": "", "flip": " +flip TTA", "five": " +TTA"}  # for report titles
TTA_VIEW_COUNT: dict[str, int] = {"none": 1, "flip": 2, "five": 5}
"""Views per kind; each kind's views are the first views of ``five`` (identity, then the mirror image), so logits
cached for ``five`` give all three kinds."""

FIVE_VIEW_WARPS: tuple[tuple[float, float, float], ...] = ((0.9, 1.0, 0.0), (0.9, -1.0, 0.0), (1.0, 1.0, 0.05))
"""``(scale, flip, shift)`` of the warped views of ``five`` (after identity and mirror): 90 % centre zoom, zoom +
mirror, 5 % shift; each is the affine map ``x' = scale·flip·x + shift, y' = scale·y`` in normalised coordinates."""


def affine_warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Warp (N,C,H,W) images by per-sample 2×3 affine matrices (normalised coordinates, border padding)."""
    import torch.nn.functional as F

    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _axis_samples(size: int, scale: float, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For output pixels 0..size-1 along one axis, the two source indices and the weight of the second, as
    ``grid_sample(bilinear, border, align_corners=False)`` computes them for the map ``u' = scale·u + shift``."""
    u = (2.0 * np.arange(size, dtype=np.float64) + 1.0) / size - 1.0  # pixel centres in [-1, 1]
    src = ((scale * u + shift + 1.0) * size - 1.0) / 2.0
    src = np.clip(src, 0.0, size - 1)  # border padding
    low = np.floor(src).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    return low, high, (src - low).astype(np.float32)


def affine_warp_numpy(images: np.ndarray, scale: float, flip: float, shift: float) -> np.ndarray:
    """The numpy twin of :func:`affine_warp` for the separable maps of :data:`FIVE_VIEW_WARPS` (x' = scale·flip·x +
    shift, y' = scale·y): bilinear, border padding, same sample positions as ``torch.nn.functional.grid_sample``."""
    n, c, h, w = images.shape
    x0, x1, wx = _axis_samples(w, scale * flip, shift)
    y0, y1, wy = _axis_samples(h, scale, 0.0)
    rows = images[:, :, y0, :] * (1.0 - wy)[:, None] + images[:, :, y1, :] * wy[:, None]
    out = rows[..., x0] * (1.0 - wx) + rows[..., x1] * wx
    warped: np.ndarray = out.astype(images.dtype, copy=False)
    return warped


def tta_views(x: Any, kind: TestTimeAugmentation = "five") -> Any:
    """Deterministic views of a batch (N,C,H,W) as (V,N,C,H,W), a torch tensor or a numpy array like ``x``.

    ``five``: identity, h-flip, 90 % centre zoom, zoom + flip, 5 % shift (the paper's 5-view TTA);
    ``flip``: identity and h-flip; ``none``: identity.
    """
    if kind not in TTA_KINDS:
        raise ValueError(f"unknown test-time augmentation {kind!r}")
    if isinstance(x, np.ndarray):
        if kind == "none":
            return x[None]
        views = [x, x[..., ::-1]]
        if kind == "five":
            views += [affine_warp_numpy(x, s, f, t) for s, f, t in FIVE_VIEW_WARPS]
        return np.ascontiguousarray(np.stack(views))
    import torch

    if kind == "none":
        return x.unsqueeze(0)
    if kind == "flip":
        return torch.stack([x, x.flip(3)])
    n = x.shape[0]

    def warp(s: float, flip: float, tx: float) -> torch.Tensor:
        theta = torch.tensor([[s * flip, 0.0, tx], [0.0, s, 0.0]], dtype=x.dtype, device=x.device).expand(n, 2, 3)
        return affine_warp(x, theta)

    return torch.stack([x, x.flip(3), *[warp(s, f, t) for s, f, t in FIVE_VIEW_WARPS]])


def tta_kind(tta: bool | str) -> TestTimeAugmentation:
    """Normalise a TTA switch: True → "five" (the paper's 5 views), False/None → "none", names pass through."""
    if tta is True:
        return "five"
    if not tta:
        return "none"
    if tta not in TTA_KINDS:
        raise ValueError(f"unknown test-time augmentation {tta!r}; expected one of {list(TTA_KINDS)}")
    return tta  # type: ignore[return-value]


def resolve_tta(setting: TtaSetting | bool, device_type: str) -> TestTimeAugmentation:
    """The kind to run: ``auto`` is ``five`` on an accelerator (the views cost next to nothing there) and ``none``
    on a CPU, where each extra view adds a whole forward pass per face (figures in ``bench/README.md``)."""
    if setting == "auto":
        return "none" if device_type == "cpu" else "five"
    return tta_kind(setting)

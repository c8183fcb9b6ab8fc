"""Test-time augmentation views, shared by evaluation (`training.evaluate`) and the inference worker."""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F

TestTimeAugmentation = Literal["none", "flip", "five"]
TTA_KINDS: tuple[str, ...] = get_args(TestTimeAugmentation)
TtaSetting = Literal["auto", "none", "flip", "five"]
"""What a deployment asks for: a kind, or ``auto`` (:func:`resolve_tta`)."""
TTA_TITLE_SUFFIX: dict[str, str] = {"none": "", "flip": " +flip TTA", "five": " +TTA"}  # for report titles
TTA_VIEW_COUNT: dict[str, int] = {"none": 1, "flip": 2, "five": 5}
"""Views per kind; each kind's views are the first views of ``five`` (identity, then the mirror image), so logits
cached for ``five`` give all three kinds."""


def affine_warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Warp (N,C,H,W) images by per-sample 2×3 affine matrices (normalised coordinates, border padding)."""
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def tta_views(x: torch.Tensor, kind: TestTimeAugmentation = "five") -> torch.Tensor:
    """Deterministic views of a batch (N,C,H,W) as (V,N,C,H,W).

    ``five``: identity, h-flip, 90 % centre zoom, zoom + flip, 5 % shift (the paper's 5-view TTA);
    ``flip``: identity and h-flip; ``none``: identity.
    """
    if kind == "none":
        return x.unsqueeze(0)
    if kind == "flip":
        return torch.stack([x, x.flip(3)])
    if kind != "five":
        raise ValueError(f"unknown test-time augmentation {kind!r}")
    n = x.shape[0]

    def warp(s: float, flip: float, tx: float) -> torch.Tensor:
        theta = torch.tensor([[s * flip, 0.0, tx], [0.0, s, 0.0]], dtype=x.dtype, device=x.device).expand(n, 2, 3)
        return affine_warp(x, theta)

    return torch.stack([x, x.flip(3), warp(0.9, 1, 0), warp(0.9, -1, 0), warp(1.0, 1, 0.05)])


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

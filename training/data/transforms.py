"""Batched augmentation (one affine warp per sample) and Mixup; the TTA views live in `bloomwell_ml.tta`.

Augmentation runs on whole uint8 batches in the training process: cheaper on a 2-core CPU than per-image
PIL transforms in worker processes, and identical on GPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from bloomwell_ml.tta import affine_warp
from training.config import AugmentConfig

__all__ = ["AugmentConfig", "augment_batch", "mixup"]


def augment_batch(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator | None = None) -> torch.Tensor:
    """x: float (N,C,H,W) in [0,1] -> augmented copy (flip, rotation, random resized crop, colour jitter).

    Random parameters come from the CPU generator `gen` (so runs resume exactly on any device); the warp
    and jitter run on `x`'s device.
    """
    n = x.shape[0]

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=gen)

    scale = u(*cfg.rrc_scale)
    log_r = u(math.log(cfg.rrc_ratio[0]), math.log(cfg.rrc_ratio[1]))
    sx, sy = torch.sqrt(scale * torch.exp(log_r)).clamp(max=1), torch.sqrt(scale / torch.exp(log_r)).clamp(max=1)
    ang = u(-cfg.rotation_deg, cfg.rotation_deg) * math.pi / 180
    tx = u(-1, 1) * ((1 - sx) + cfg.translate)
    ty = u(-1, 1) * ((1 - sy) + cfg.translate)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if cfg.hflip else torch.ones(n)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([sx * cos * flip, -sy * sin, tx], 1),
                         torch.stack([sx * sin * flip, sy * cos, ty], 1)], 1).to(x)
    x = affine_warp(x, theta)
    if cfg.brightness > 0:
        x = x * u(1 - cfg.brightness, 1 + cfg.brightness).view(n, 1, 1, 1).to(x)
    if cfg.contrast > 0:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * u(1 - cfg.contrast, 1 + cfg.contrast).view(n, 1, 1, 1).to(x) + mean
    if cfg.saturation > 0 and x.shape[1] == 3:
        gray = (0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        x = (x - gray) * u(1 - cfg.saturation, 1 + cfg.saturation).view(n, 1, 1, 1).to(x) + gray
    if cfg.random_erasing > 0:  # one rectangle per chosen sample, filled with that sample's mean
        h, w = x.shape[2:]
        apply = torch.rand(n, generator=gen) < cfg.random_erasing
        eh = (u(0.2, 0.4) * h).long()
        ew = (u(0.2, 0.4) * w).long()
        y0 = (torch.rand(n, generator=gen) * (h - eh)).long()
        x0 = (torch.rand(n, generator=gen) * (w - ew)).long()
        ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
        box = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1))
               & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)) & apply.view(n, 1, 1))
        x = torch.where(box.to(x.device).unsqueeze(1), x.mean(dim=(1, 2, 3), keepdim=True), x)
    return x.clamp(0, 1)


def mixup(x: torch.Tensor, y: torch.Tensor, num_classes: int, alpha: float,
          gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup: returns mixed inputs and soft targets (rows sum to 1). alpha <= 0 gives one-hot targets."""
    target = F.one_hot(y, num_classes).to(x.dtype)
    if alpha <= 0:
        return x, target
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=gen).to(x.device)
    return lam * x + (1 - lam) * x[perm], lam * target + (1 - lam) * target[perm]

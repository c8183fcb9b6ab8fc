"""Augmentation, Mixup and TTA shapes and label sums."""

from __future__ import annotations

import torch

from bloomwell_ml.tta import tta_views
from training.data.transforms import AugmentConfig, augment_batch, mixup


def test_augment_keeps_shape_and_range() -> None:
    x = torch.rand(6, 3, 48, 48)
    y = augment_batch(x, AugmentConfig(random_erasing=0.5), torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(x, y)


def test_random_erasing_fills_one_rectangle_per_erased_sample() -> None:
    x = torch.rand(16, 3, 48, 48)
    cfg = AugmentConfig(hflip=False, rotation_deg=0, rrc_scale=(1.0, 1.0), rrc_ratio=(1.0, 1.0), translate=0.0,
                        brightness=0.0, contrast=0.0, random_erasing=1.0)
    y = augment_batch(x, cfg, torch.Generator().manual_seed(1))
    for xi, yi in zip(x, y, strict=True):
        changed = (xi - yi).abs().amax(0) > 1e-4
        rows, cols = changed.any(1).nonzero().flatten(), changed.any(0).nonzero().flatten()
        box = yi[:, rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert 9 <= len(rows) <= 20 and 9 <= len(cols) <= 20  # 20-40 % of 48 px, each side
        torch.testing.assert_close(box, torch.full_like(box, float(xi.mean())))  # filled with the image mean


def test_augment_is_deterministic_given_generator() -> None:
    x = torch.rand(4, 3, 48, 48)
    a = augment_batch(x, AugmentConfig(), torch.Generator().manual_seed(3))
    b = augment_batch(x, AugmentConfig(), torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


def test_mixup_shapes_and_label_sums() -> None:
    x, y = torch.rand(8, 3, 48, 48), torch.randint(0, 7, (8,))
    xm, t = mixup(x, y, 7, alpha=0.2, gen=torch.Generator().manual_seed(0))
    assert xm.shape == x.shape and t.shape == (8, 7)
    torch.testing.assert_close(t.sum(1), torch.ones(8))
    assert int((t > 0).sum(1).max()) <= 2
    _, onehot = mixup(x, y, 7, alpha=0.0)
    assert torch.equal(onehot.argmax(1), y)


def test_tta_views_shape_and_identity() -> None:
    x = torch.rand(5, 3, 48, 48)
    v = tta_views(x)
    assert v.shape == (5, 5, 3, 48, 48)
    torch.testing.assert_close(v[0], x)
    torch.testing.assert_close(v[1], x.flip(3))

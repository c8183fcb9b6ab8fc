"""Augmentation, Mixup and TTA shapes and label sums."""

from __future__ import annotations

import torch

from training.data.transforms import AugmentConfig, augment_batch, mixup, tta_views


def test_augment_keeps_shape_and_range() -> None:
    x = torch.rand(6, 3, 48, 48)
    y = augment_batch(x, AugmentConfig(random_erasing=0.5), torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert not torch.equal(x, y)


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

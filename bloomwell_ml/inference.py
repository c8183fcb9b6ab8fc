"""The one prediction function: every path that turns a batch into class probabilities goes through it
(the inference worker, ``training.evaluate``, distillation's teacher and the benchmarks)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from bloomwell_ml.tta import TestTimeAugmentation, tta_views


def predict_probs(
    module: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tta: TestTimeAugmentation = "none",
    autocast: contextlib.AbstractContextManager[object] | None = None,
    temperature: float = 1.0,
    channels_last: bool = False,
) -> torch.Tensor:
    """Class probabilities ``(N, K)`` (float32) for a normalised batch ``x`` ``(N, C, H, W)``.

    ``module`` is anything that maps a batch to logits: a torch module, a TorchScript module or an
    :class:`bloomwell_ml.onnx_runtime.OnnxModule`.

    The TTA views go through in one forward pass of ``V·N`` images; each view's logits are divided by
    ``temperature`` (the model's calibration) before the softmax, and the views' probabilities are averaged.
    ``autocast`` is an optional context (e.g. ``torch.autocast``) around the forward pass.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    views = tta_views(x, tta)
    batch = views.flatten(0, 1)
    if channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    with autocast or contextlib.nullcontext():
        logits = module(batch)
    return average_view_probs(logits.view(views.shape[0], x.shape[0], -1), temperature)


def average_view_probs(view_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``(V, N, K)`` logits of V views → ``(N, K)`` probabilities: each view's softmax at ``temperature``, averaged
    over the views (how :func:`predict_probs` combines TTA views; calibration refits ``temperature`` on cached
    logits through this same function)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return torch.softmax(view_logits.float() / temperature, dim=-1).mean(0)

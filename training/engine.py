"""One training epoch and batched prediction/evaluation (torchvision-reference style)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from bloomwell_ml.inference import predict_probs
from bloomwell_ml.preprocess import normalize
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.tta import TestTimeAugmentation, tta_kind
from training.config import TrainConfig
from training.data.transforms import augment_batch, mixup
from training.distill import Distiller
from training.metrics import classification_report
from training.optim import set_train_mode


def autocast(device: torch.device, amp: str) -> contextlib.AbstractContextManager[object]:
    """fp16 autocast on CUDA, bf16 on CPU (`amp`: auto|fp16|bf16|off; auto = fp16 on CUDA, off on CPU)."""
    if amp == "off" or (amp == "auto" and device.type != "cuda"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" or device.type == "cpu" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def _progress(it: Any, desc: str, total: int | None) -> Iterator[Any]:
    tty = sys.stderr.isatty()
    return iter(tqdm(it, desc=desc, total=total, leave=False, mininterval=1 if tty else 60, dynamic_ncols=True,
                     disable=None if tty else False))


def train_one_epoch(model: nn.Module, loader: DataLoader[tuple[torch.Tensor, int]], optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, scaler: torch.amp.GradScaler,
                    spec: ModelSpec, cfg: TrainConfig, epoch: int, gen: torch.Generator,
                    class_weights: torch.Tensor | None, device: torch.device,
                    distiller: Distiller | None = None) -> dict[str, float]:
    """Train for one epoch; returns mean loss, accuracy vs. hard labels, last LR, images/s.

    With a `distiller`, the loss mixes cross-entropy with KD towards the teacher's predictions on the same batch.
    """
    set_train_mode(model, cfg.optim.frozen_modules)
    tcfg = cfg.train
    aug = cfg.augment
    accum = tcfg.accum_steps
    max_batches = tcfg.max_batches_per_epoch
    total = min(len(loader), max_batches) if max_batches else len(loader)
    loss_sum, correct, seen, t0 = torch.zeros((), device=device), torch.zeros((), device=device), 0, time.time()
    optimizer.zero_grad(set_to_none=True)
    for i, (images, labels) in enumerate(_progress(loader, f"epoch {epoch}", total)):
        if i >= total:
            break
        x = images.to(device, non_blocking=True).float() / 255.0  # augment where the model runs
        labels = labels.to(device, non_blocking=True)
        if cfg.augment.enabled:
            x = augment_batch(x, aug, gen)
        x = normalize(x, spec)
        use_mix = cfg.mixup.alpha > 0 and float(torch.rand(1, generator=gen)) < cfg.mixup.prob
        x, target = mixup(x, labels, spec.num_classes, cfg.mixup.alpha if use_mix else 0.0, gen)
        if tcfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        soft = distiller.soft_targets(x, autocast(device, tcfg.amp)) if distiller else None
        with autocast(device, tcfg.amp):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), target, weight=class_weights,
                               label_smoothing=cfg.loss.label_smoothing)
        if distiller is not None and soft is not None:
            loss = distiller.combine(loss, logits, soft)
        scaler.scale(loss / accum).backward()
        if (i + 1) % accum == 0 or i + 1 == total:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
        loss_sum += loss.detach() * len(labels)  # device tensors: no host sync per step
        correct += (logits.argmax(1) == labels).sum()
        seen += len(labels)
    loss_total, correct_total = float(loss_sum), int(correct)  # waits for the device to finish the epoch
    dt = time.time() - t0
    return {"train_loss": loss_total / max(1, seen), "train_acc": correct_total / max(1, seen),
            "lr": optimizer.param_groups[-1]["lr"], "train_images_per_s": seen / max(1e-9, dt),
            "train_seconds": dt}


@torch.inference_mode()
def predict_logits(model: nn.Module, images: torch.Tensor, spec: ModelSpec, batch_size: int = 256,
                   tta: bool | TestTimeAugmentation = False, device: torch.device | str = "cpu", amp: str = "off",
                   channels_last: bool = False, desc: str = "predict") -> torch.Tensor:
    """Log-probabilities (N, K) for uint8 images (N, H, W, C) from :func:`bloomwell_ml.inference.predict_probs`
    (the spec's temperature for the TTA kind applied; with `tta` (True = "five", or "flip") the log of the mean over
    the views)."""
    device = torch.device(device)
    model.eval()
    kind = tta_kind(tta)
    out = []
    for i in _progress(range(0, len(images), batch_size), desc, None):
        x = normalize(images[i : i + batch_size].permute(0, 3, 1, 2).float() / 255.0, spec).to(device)
        probs = predict_probs(model, x, kind, autocast(device, amp), spec.temperature_for(kind),
                              channels_last)
        out.append(probs.clamp_min(1e-12).log().cpu())
    return torch.cat(out) if out else torch.empty(0, spec.num_classes)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, spec: ModelSpec,
             **kwargs: Any) -> dict[str, Any]:
    """Classification report (+ mean NLL as `loss`) of `model` on uint8 images."""
    logits = predict_logits(model, images, spec, **kwargs)
    report = classification_report(labels.numpy(), logits.argmax(1).numpy(), spec.labels)
    report["loss"] = float(F.nll_loss(logits, labels)) if len(labels) else float("nan")
    return report


def class_weight_vector(labels: torch.Tensor, num_classes: int, mode: str | None) -> torch.Tensor | None:
    """Class weights from training-label frequencies: none | inverse | sqrt_inverse (mean weight = 1)."""
    if not mode or mode == "none":
        return None
    counts = torch.bincount(labels, minlength=num_classes).double().clamp(min=1)
    w = 1.0 / counts if mode == "inverse" else 1.0 / counts.sqrt()
    if mode not in ("inverse", "sqrt_inverse"):
        raise ValueError(f"unknown class_weights mode {mode!r}")
    return (w / w.mean()).float()


def numpy_seed_all(seed: int) -> None:
    """Seed torch + numpy global generators."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))

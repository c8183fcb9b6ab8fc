"""Factories for the optimiser (per-group LR, no decay on norms/biases) and the LR schedule."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from bloomwell_ml.arch import head_parameters
from training.config import OptimConfig


def create_optimizer(model: nn.Module, cfg: OptimConfig | dict[str, Any]) -> torch.optim.Optimizer:
    """AdamW (or SGD) with groups {backbone, head} × {decay, no-decay}; backbone LR = lr × backbone_lr_mult."""
    lr, wd = float(cfg["lr"]), float(cfg["weight_decay"])
    head_ids = {id(p) for p in head_parameters(model)}
    groups: dict[tuple[str, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        part = "head" if id(p) in head_ids else "backbone"
        decay = p.ndim > 1 and not name.endswith("gamma")
        groups.setdefault((part, decay), []).append(p)
    param_groups = []
    for (part, decay), params in sorted(groups.items()):
        mult = 1.0 if part == "head" else float(cfg.get("backbone_lr_mult", 1.0))
        param_groups.append({"params": params, "lr": lr * mult, "weight_decay": wd if decay else 0.0,
                             "name": f"{part}{'' if decay else '_nodecay'}"})
    if cfg.get("name", "adamw") == "sgd":
        return torch.optim.SGD(param_groups, lr=lr, momentum=0.9, nesterov=True)
    on_cuda = next(model.parameters()).is_cuda  # fused kernels: one launch per step instead of one per tensor
    return torch.optim.AdamW(param_groups, lr=lr, betas=tuple(cfg.get("betas", (0.9, 0.999))),
                             fused=True if on_cuda else None)


def lr_factor(step: int, steps_per_epoch: int, cfg: dict[str, Any]) -> float:
    """Multiplier of the base LR at optimiser step `step`: linear warm-up, then cosine (with warm restarts
    every `t0_epochs`, period × `t_mult`) or one cosine over all epochs, then a constant SWA LR."""
    epoch = step / steps_per_epoch
    warm = float(cfg.get("warmup_epochs", 0))
    min_ratio = float(cfg.get("min_lr_ratio", 0.01))
    swa_start = cfg.get("swa_start_epoch")
    if swa_start is not None and epoch >= swa_start:
        return float(cfg.get("swa_lr_ratio", 0.05))
    if epoch < warm:
        return max(1e-3, epoch / warm)
    t = epoch - warm
    if cfg.get("name", "cosine_restarts") == "cosine_restarts":
        period, mult = float(cfg.get("t0_epochs", 10)), float(cfg.get("t_mult", 1))
        while t >= period:
            t -= period
            period *= mult
        frac = t / period
    else:
        total = float(swa_start if swa_start is not None else cfg["epochs"]) - warm
        frac = min(1.0, t / max(1e-9, total))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * frac))


def fit_epochs_to_budget(done: int, elapsed_s: float, epoch_s: float, budget_s: float, epochs: int,
                         swa_start: int | None) -> tuple[int, int | None]:
    """Shortened (epochs, SWA start epoch) so that a run which has finished `done` epochs in `elapsed_s`, at
    `epoch_s` per epoch, ends within `budget_s` with one epoch's time to spare (for SWA's BatchNorm pass and
    the final save). Never lengthens the run; SWA keeps its share of the epochs (at least one)."""
    fit = done + int((budget_s - elapsed_s - epoch_s) // max(epoch_s, 1e-9))
    new = max(done + 1, min(epochs, fit))
    if swa_start is None or new == epochs:
        return new, swa_start
    swa_epochs = max(1, round((epochs - swa_start) * new / epochs))
    return new, max(done, new - swa_epochs)


def create_scheduler(optimizer: torch.optim.Optimizer, steps_per_epoch: int,
                     cfg: dict[str, Any]) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step LambdaLR over `lr_factor` (its state is just the step count, so it resumes exactly)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps_per_epoch, cfg))


def frozen_submodules(model: nn.Module, names: list[str] | tuple[str, ...]) -> list[nn.Module]:
    """The submodules with these qualified names (e.g. `stages.0`); unknown names are an error."""
    modules = dict(model.named_modules()) if names else {}
    missing = [name for name in names if name not in modules]
    if missing:
        raise ValueError(f"optim.frozen_modules names no module: {missing}")
    return [modules[name] for name in names]


def set_backbone_trainable(model: nn.Module, trainable: bool, frozen: list[str] | tuple[str, ...] = ()) -> None:
    """Staged unfreezing: freeze/unfreeze everything but the head; modules under `frozen` stay frozen."""
    head_ids = {id(p) for p in head_parameters(model)}
    for p in model.parameters():
        if id(p) not in head_ids:
            p.requires_grad_(trainable)
    for m in frozen_submodules(model, frozen):
        m.requires_grad_(False)


def set_train_mode(model: nn.Module, frozen: list[str] | tuple[str, ...] = ()) -> None:
    """model.train(), except modules under `frozen`: they stay in eval mode (BatchNorm running statistics and
    stochastic depth as at inference), so a frozen part computes exactly what the trained model computed."""
    model.train()
    for m in frozen_submodules(model, frozen):
        m.eval()

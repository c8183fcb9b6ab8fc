"""Train an expression classifier: `python -m training.train --config training/configs/<name>.yaml`.

YAML presets overlay the typed defaults in `training.config` (unknown keys are refused); `--set a.b=value` overrides
single keys; `--resume auto|PATH` continues a run exactly from its `last.pt` (or the given checkpoint).

A run is three steps: :func:`build` (data, model, optimiser, schedule, SWA, teacher; restored from a checkpoint when
resuming), :func:`fit` (the epochs, with checkpoints, early stopping and the time budget) and :func:`finalize` (SWA's
BatchNorm pass, the best weights as ``model.pt``, ``summary.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler

from bloomwell_ml.io import build_model, clean_state_dict, save_model
from bloomwell_ml.preprocess import normalize
from bloomwell_ml.spec import ModelSpec
from training.checkpoint import Checkpoint, load_checkpoint, set_rng_state
from training.config import TrainConfig, load_config, resolve_path
from training.data.dataset import CombinedDataset, ImageDataset
from training.data.sources import training_sets
from training.distill import Distiller, create_distiller
from training.engine import class_weight_vector, evaluate, numpy_seed_all, train_one_epoch
from training.optim import create_optimizer, create_scheduler, fit_epochs_to_budget, set_backbone_trainable


def build_spec(cfg: TrainConfig) -> ModelSpec:
    """ModelSpec from the `model` section."""
    m = cfg.model
    return ModelSpec(arch=m.arch, arch_kwargs=dict(m.kwargs), image_size=m.image_size, in_chans=m.in_chans,
                     grayscale=m.grayscale, name=m.name, version=m.version)


def make_loader(ds: CombinedDataset, batch_size: int, gen: torch.Generator) -> DataLoader[tuple[torch.Tensor, int]]:
    """Shuffled (or source-weighted) loader; in-process because images are already in memory."""
    sampler = (RandomSampler(ds, generator=gen) if ds.uniform
               else WeightedRandomSampler(ds.sample_weights.tolist(), len(ds), replacement=True, generator=gen))
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, num_workers=0, drop_last=len(ds) > batch_size)


@torch.no_grad()
def update_bn(model: nn.Module, ds: CombinedDataset, spec: ModelSpec, device: torch.device,
              batch_size: int = 256, max_batches: int | None = None) -> None:
    """Recompute BatchNorm running statistics (cumulative average) after SWA, on unaugmented train images.

    Only the BatchNorm layers run in training mode: stochastic depth and dropout stay off, so the statistics
    match what the layers see at inference.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = {m: m.momentum for m in bns}
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    for i, (images, _) in enumerate(DataLoader(ds, batch_size=batch_size)):
        if max_batches and i >= max_batches:
            break
        model(normalize(images, spec).to(device))
    for m, mom in momenta.items():
        m.momentum = mom


def _write_metrics(out_dir: Path, history: list[dict[str, Any]]) -> None:
    keys = list(history[0].keys())
    with open(out_dir / "metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    from training.plots import plot_learning_curves

    plot_learning_curves(history, out_dir / "learning_curves.png")


def _device(cfg: TrainConfig) -> torch.device:
    want = cfg.train.device
    if want == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(want)


@dataclass
class Progress:
    """What the loop has achieved so far (saved in every checkpoint)."""

    epoch: int = -1  # the last finished epoch
    best: float = -1.0
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def record(self, row: dict[str, Any]) -> bool:
        """Add an epoch's row; True when its validation macro-F1 is the best so far."""
        self.history.append(row)
        self.epoch = int(row["epoch"])
        if row["val_macro_f1"] > self.best:
            self.best, self.best_epoch, self.bad_epochs = row["val_macro_f1"], self.epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def minutes(self) -> float:
        """Wall-clock minutes since this process started (or resumed) the run."""
        return (time.time() - self.started) / 60


@dataclass
class Training:
    """Everything :func:`build` makes for a run; :meth:`checkpoint` / :meth:`restore` cover all of its state."""

    cfg: TrainConfig
    spec: ModelSpec
    device: torch.device
    out_dir: Path
    train_ds: CombinedDataset
    val_ds: ImageDataset
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    swa_model: AveragedModel | None
    class_weights: torch.Tensor | None
    distiller: Distiller | None
    sched_cfg: dict[str, Any]
    progress: Progress = field(default_factory=Progress)
    start_epoch: int = 0

    @property
    def ckpt_dir(self) -> Path:
        """Where checkpoints go."""
        return self.out_dir / "checkpoints"

    @property
    def eval_kwargs(self) -> dict[str, Any]:
        """Arguments of :func:`training.engine.evaluate` for this run."""
        t = self.cfg.train
        return {"batch_size": t.eval_batch_size, "device": self.device, "amp": t.amp, "channels_last": t.channels_last}

    def set_schedule(self, epochs: int, swa_start: int | None) -> None:
        """Change the planned epochs and SWA start (the LR lambda reads ``sched_cfg`` live)."""
        self.cfg.train.epochs = self.sched_cfg["epochs"] = epochs
        if self.cfg.swa.enabled:
            self.cfg.swa.start_epoch = self.sched_cfg["swa_start_epoch"] = swa_start

    def checkpoint(self, epoch: int) -> Checkpoint:
        """The run's whole state after ``epoch``."""
        p = self.progress
        return Checkpoint(
            spec=self.spec.to_dict(), config=self.cfg.to_dict(), model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(), swa_model=self.swa_model.state_dict() if self.swa_model else None,
            epoch=epoch, best_metric=p.best, best_epoch=p.best_epoch, bad_epochs=p.bad_epochs, history=p.history,
            schedule={"epochs": self.cfg.train.epochs, "swa_start": self.cfg.swa.start_epoch})

    def restore(self, ck: Checkpoint) -> None:
        """Continue from ``ck``: weights, optimiser, schedule, scaler, SWA, progress and RNG states."""
        self.model.load_state_dict(ck.model)
        self.optimizer.load_state_dict(ck.optimizer)
        self.scheduler.load_state_dict(ck.scheduler)
        self.scaler.load_state_dict(ck.scaler)
        if self.swa_model is not None and ck.swa_model:
            self.swa_model.load_state_dict(ck.swa_model)
        self.progress = Progress(ck.epoch, ck.best_metric, ck.best_epoch, ck.bad_epochs, list(ck.history))
        self.start_epoch = ck.epoch + 1
        if ck.schedule:  # a budget-fitted schedule
            self.set_schedule(int(ck.schedule["epochs"]), ck.schedule["swa_start"])
        if ck.rng is not None:
            set_rng_state(ck.rng)


def _init_weights(model: nn.Module, init_from: str | None) -> None:
    if init_from:  # start from trained weights (fine-tuning phase / warm restart with a new recipe)
        blob = load_checkpoint(resolve_path(init_from))
        model.load_state_dict(clean_state_dict(blob.get("state_dict") or blob["model"]))
        print(f"initialised weights from {init_from}", flush=True)


def build(cfg: TrainConfig, resume: str | None = None) -> Training:
    """Data, model, optimiser, schedule, scaler, SWA and teacher for ``cfg``; restored from a checkpoint when
    ``resume`` is ``auto`` (``<out_dir>/checkpoints/last.pt``) or a path."""
    t = cfg.train
    torch.set_num_threads(t.num_threads)
    torch.set_flush_denormal(True)
    device = _device(cfg)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed batch shapes (drop_last): pick the fastest conv kernels
    out_dir = resolve_path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    numpy_seed_all(cfg.seed)

    spec = build_spec(cfg)
    train_ds, val_ds = training_sets(cfg, spec)
    print(f"train {len(train_ds)} images, val {len(val_ds)} images, device {device}", flush=True)
    model = build_model(spec)
    _init_weights(model, t.init_from)
    model = model.to(device)
    if t.channels_last:
        model = model.to(memory_format=torch.channels_last)
    print(f"{spec.arch} {spec.arch_kwargs}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params",
          flush=True)

    batches = len(train_ds) // t.batch_size if len(train_ds) > t.batch_size else 1
    if t.max_batches_per_epoch:
        batches = min(batches, t.max_batches_per_epoch)
    sched_cfg = {**cfg.sched.to_dict(), "epochs": t.epochs}
    if cfg.swa.enabled:
        sched_cfg.update(swa_start_epoch=cfg.swa.start_epoch, swa_lr_ratio=cfg.swa.lr_ratio)
    optimizer = create_optimizer(model, cfg.optim)
    class_w = class_weight_vector(train_ds.labels, spec.num_classes, cfg.loss.class_weights)
    training = Training(
        cfg=cfg, spec=spec, device=device, out_dir=out_dir, train_ds=train_ds, val_ds=val_ds, model=model,
        optimizer=optimizer, scheduler=create_scheduler(optimizer, math.ceil(batches / t.accum_steps), sched_cfg),
        scaler=torch.amp.GradScaler(device.type, enabled=device.type == "cuda" and t.amp in ("auto", "fp16")),
        swa_model=AveragedModel(model) if cfg.swa.enabled else None,
        class_weights=class_w.to(device) if class_w is not None else None,
        distiller=create_distiller(cfg.distill, spec, device, t.channels_last), sched_cfg=sched_cfg)
    if resume:
        path = training.ckpt_dir / "last.pt" if resume == "auto" else Path(resume)
        training.restore(Checkpoint.load(path))
        print(f"resumed from {path} at epoch {training.start_epoch}", flush=True)
    return training


def run_epoch(tr: Training, epoch: int, gen: torch.Generator) -> dict[str, Any]:
    """Train one epoch (seeded from ``(seed, epoch)``, so a resumed run draws the same batches), update SWA and
    validate; returns the epoch's metrics row."""
    cfg = tr.cfg
    numpy_seed_all(cfg.seed * 1000 + epoch)
    gen.manual_seed(cfg.seed * 7919 + epoch)
    set_backbone_trainable(tr.model, epoch >= cfg.optim.freeze_backbone_epochs, cfg.optim.frozen_modules)
    loader = make_loader(tr.train_ds, cfg.train.batch_size, gen)
    row: dict[str, Any] = {"epoch": epoch}
    row.update(train_one_epoch(tr.model, loader, tr.optimizer, tr.scheduler, tr.scaler, tr.spec, cfg, epoch, gen,
                               tr.class_weights, tr.device, tr.distiller))
    if tr.swa_model is not None and epoch >= int(cfg.swa.start_epoch or 0):
        tr.swa_model.update_parameters(tr.model)
    rep = evaluate(tr.model, tr.val_ds.images, tr.val_ds.labels, tr.spec, desc="val", **tr.eval_kwargs) \
        if len(tr.val_ds) else None
    row.update({"val_loss": rep["loss"] if rep else float("nan"), "val_acc": rep["accuracy"] if rep else 0.0,
                "val_macro_f1": rep["macro_f1"] if rep else 0.0, "elapsed_min": tr.progress.minutes})
    return row


def _fit_budget(tr: Training, epoch: int) -> None:
    """After the second epoch of a fresh run with ``fit_to_budget``, shorten the schedule to ``max_minutes``."""
    t, hist = tr.cfg.train, tr.progress.history
    if not (t.fit_to_budget and t.max_minutes and epoch == 1 and tr.start_epoch <= 1):
        return
    epoch_s = (hist[1]["elapsed_min"] - hist[0]["elapsed_min"]) * 60
    planned = (t.epochs, tr.cfg.swa.start_epoch)
    tr.set_schedule(*fit_epochs_to_budget(2, hist[1]["elapsed_min"] * 60, epoch_s, t.max_minutes * 60, *planned))
    (tr.out_dir / "config.json").write_text(json.dumps(tr.cfg.to_dict(), indent=2))
    print(f"fit to the {t.max_minutes}-minute budget at {epoch_s:.1f} s/epoch: epochs {planned[0]} → {t.epochs}, "
          f"SWA from {planned[1]} → {tr.cfg.swa.start_epoch}", flush=True)


def _save(tr: Training, epoch: int, improved: bool) -> None:
    ck = tr.checkpoint(epoch)
    ck.save(tr.ckpt_dir / "last.pt")
    if improved:
        ck.save(tr.ckpt_dir / "best.pt")
    every = tr.cfg.train.checkpoint_every or 0
    if every and (epoch + 1) % every == 0:
        ck.save(tr.ckpt_dir / f"epoch_{epoch:03d}.pt")


def _stop_reason(tr: Training, epoch: int) -> str | None:
    t = tr.cfg.train
    if t.early_stop_patience and tr.progress.bad_epochs >= t.early_stop_patience:
        return "early_stop"
    over_budget = t.max_minutes is not None and tr.progress.minutes >= t.max_minutes
    if over_budget and epoch + 1 < t.epochs:  # the last epoch finishes the run either way
        return "time_budget"
    return None


def fit(tr: Training) -> str:
    """Run the remaining epochs; returns why it stopped (``epochs``, ``early_stop`` or ``time_budget``)."""
    gen = torch.Generator()
    tr.progress.started = time.time()
    epoch = tr.start_epoch
    while epoch < tr.cfg.train.epochs:
        row = run_epoch(tr, epoch, gen)
        improved = tr.progress.record(row)
        _fit_budget(tr, epoch)
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        _write_metrics(tr.out_dir, tr.progress.history)
        _save(tr, epoch, improved)
        reason = _stop_reason(tr, epoch)
        if reason:
            return reason
        epoch += 1
    return "epochs"


def _finish_swa(tr: Training, summary: dict[str, Any]) -> None:
    """SWA's BatchNorm pass and validation; its weights become the best when they score higher."""
    if tr.swa_model is None or tr.swa_model.n_averaged.item() == 0:
        return
    swa_net = tr.swa_model.module
    update_bn(swa_net, tr.train_ds, tr.spec, tr.device, max_batches=tr.cfg.train.max_batches_per_epoch)
    rep = evaluate(swa_net, tr.val_ds.images, tr.val_ds.labels, tr.spec, desc="val-swa", **tr.eval_kwargs)
    summary["swa_val_macro_f1"], summary["swa_val_acc"] = rep["macro_f1"], rep["accuracy"]
    save_model(tr.out_dir / "swa_model.pt", swa_net, tr.spec)
    if rep["macro_f1"] > tr.progress.best:
        tr.model.load_state_dict(clean_state_dict(swa_net.state_dict()))
        tr.progress.best, tr.progress.best_epoch = rep["macro_f1"], tr.cfg.train.epochs - 1
        summary.update(best_val_macro_f1=rep["macro_f1"], best_is_swa=True)
        tr.checkpoint(tr.progress.best_epoch).save(tr.ckpt_dir / "best.pt")


def finalize(tr: Training, stop_reason: str) -> dict[str, Any]:
    """SWA (when the run finished), the best weights as ``model.pt`` and ``summary.json``; returns the summary."""
    p = tr.progress
    summary: dict[str, Any] = {
        "best_val_macro_f1": p.best, "best_epoch": p.best_epoch, "stop_reason": stop_reason,
        "epochs_run": len(p.history), "train_minutes": sum(r["train_seconds"] for r in p.history) / 60,
        "device": torch.cuda.get_device_name(tr.device) if tr.device.type == "cuda" else "cpu"}
    if stop_reason != "time_budget":
        _finish_swa(tr, summary)
    if (tr.ckpt_dir / "best.pt").exists():
        tr.model.load_state_dict(Checkpoint.load(tr.ckpt_dir / "best.pt").model)
        save_model(tr.out_dir / "model.pt", tr.model, tr.spec)
    (tr.out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary), flush=True)
    return summary


def run(cfg: TrainConfig, resume: str | None = None) -> dict[str, Any]:
    """Train per ``cfg`` (build → fit → finalize); returns the summary (also in ``<out_dir>/summary.json``)."""
    tr = build(cfg, resume)
    return finalize(tr, fit(tr))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="YAML preset, e.g. training/configs/default.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. train.epochs=5")
    ap.add_argument("--data-root", help="folder holding fer2013/ (default ../shared/data or $BLOOMWELL_DATA_ROOT)")
    ap.add_argument("--out-dir", help="run folder (default runs/<name>)")
    ap.add_argument("--resume", nargs="?", const="auto",
                    help="resume from PATH or, without a value, <out_dir>/checkpoints/last.pt")
    args = ap.parse_args(argv)
    overrides = list(args.set) + ([f"out_dir={args.out_dir}"] if args.out_dir else [])
    cfg = load_config(args.config, overrides, args.data_root)
    return run(cfg, args.resume)


if __name__ == "__main__":
    main()

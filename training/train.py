"""Train an expression classifier: `python -m training.train --config training/configs/<name>.yaml`.

YAML presets overlay the defaults in `training.config`; `--set a.b=value` overrides single keys;
`--resume auto|PATH` continues a run exactly from its `last.pt` (or the given checkpoint).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler

from bloomwell_ml.io import build_model, clean_state_dict, save_model
from bloomwell_ml.preprocess import normalize
from bloomwell_ml.spec import ModelSpec
from training.checkpoint import load_checkpoint, save_checkpoint, set_rng_state
from training.config import load_config, resolve_path
from training.data.dataset import CombinedDataset, ImageDataset, stratified_split
from training.data.readers import Sample, read_source, relabel_ferplus
from training.distill import create_distiller
from training.engine import class_weight_vector, evaluate, numpy_seed_all, train_one_epoch
from training.optim import create_optimizer, create_scheduler, fit_epochs_to_budget, set_backbone_trainable


def build_spec(cfg: dict[str, Any]) -> ModelSpec:
    """ModelSpec from the `model` section."""
    m = cfg["model"]
    return ModelSpec(arch=m["arch"], arch_kwargs=dict(m["kwargs"]), image_size=int(m["image_size"]),
                     in_chans=int(m["in_chans"]), grayscale=bool(m["grayscale"]), name=m["name"],
                     version=str(m["version"]))


def _subsample(samples: list[Sample], n: int | None, seed: int) -> list[Sample]:
    if not n or n >= len(samples):
        return samples
    idx = np.random.default_rng(seed).permutation(len(samples))[:n]
    return [samples[i] for i in sorted(idx)]


def build_data(cfg: dict[str, Any], spec: ModelSpec) -> tuple[CombinedDataset, ImageDataset]:
    """Training mix (validation split off each source's train split, stratified and seeded) and val set."""
    d, seed = cfg["data"], cfg["seed"]
    if d.get("split_seed") is not None:
        seed = int(d["split_seed"])
    cache = resolve_path(d["cache_dir"]) if d.get("cache_dir") else None
    kw = {"size": spec.image_size, "grayscale": spec.grayscale, "in_chans": spec.in_chans,
          "face_crop": d["face_crop"], "cache_dir": cache}
    train_sets, weights, val_samples = [], [], []
    for src in d["train_sources"]:
        samples = read_source(src, "train")
        train, val = stratified_split(samples, float(d["val_fraction"]), seed) if d["val_fraction"] else (samples, [])
        if src.get("ferplus_labels"):
            train = relabel_ferplus(train, src["ferplus_labels"], src["root"])
        train_sets.append(ImageDataset(_subsample(train, d.get("max_train_samples"), seed), **kw))
        weights.append(float(src.get("weight", 1.0)))
        val_samples += val
    val_set = ImageDataset(_subsample(val_samples, d.get("max_val_samples"), seed), **kw)
    return CombinedDataset(train_sets, weights), val_set


def make_loader(ds: CombinedDataset, batch_size: int, gen: torch.Generator) -> DataLoader:
    """Shuffled (or source-weighted) loader; in-process because images are already in memory."""
    sampler = (RandomSampler(ds, generator=gen) if ds.uniform
               else WeightedRandomSampler(ds.sample_weights, len(ds), replacement=True, generator=gen))
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


def _device(cfg: dict[str, Any]) -> torch.device:
    want = cfg["train"]["device"]
    if want == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(want)


def run(cfg: dict[str, Any], resume: str | None = None) -> dict[str, Any]:
    """Train per `cfg`; returns the summary dict (also written to `<out_dir>/summary.json`)."""
    tcfg, seed = cfg["train"], int(cfg["seed"])
    torch.set_num_threads(int(tcfg["num_threads"]))
    torch.set_flush_denormal(True)
    device = _device(cfg)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed batch shapes (drop_last): pick the fastest conv kernels
    out_dir = resolve_path(cfg["out_dir"])
    ckpt_dir = out_dir / "checkpoints"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=2))
    numpy_seed_all(seed)

    spec = build_spec(cfg)
    train_ds, val_ds = build_data(cfg, spec)
    print(f"train {len(train_ds)} images, val {len(val_ds)} images, device {device}", flush=True)
    model = build_model(spec)
    if tcfg.get("init_from"):  # start from trained weights (fine-tuning phase / warm restart with a new recipe)
        blob = load_checkpoint(resolve_path(tcfg["init_from"]))
        model.load_state_dict(clean_state_dict(blob.get("state_dict") or blob["model"]))
        print(f"initialised weights from {tcfg['init_from']}", flush=True)
    model = model.to(device)
    if tcfg["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    print(f"{spec.arch} {spec.arch_kwargs}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params",
          flush=True)

    batch_size, accum = int(tcfg["batch_size"]), int(tcfg["accum_steps"])
    batches = len(train_ds) // batch_size if len(train_ds) > batch_size else 1
    if tcfg.get("max_batches_per_epoch"):
        batches = min(batches, int(tcfg["max_batches_per_epoch"]))
    steps_per_epoch = math.ceil(batches / accum)
    sched_cfg = {**cfg["sched"], "epochs": tcfg["epochs"]}
    if cfg["swa"]["enabled"]:
        sched_cfg.update(swa_start_epoch=cfg["swa"]["start_epoch"], swa_lr_ratio=cfg["swa"]["lr_ratio"])
    optimizer = create_optimizer(model, cfg["optim"])
    scheduler = create_scheduler(optimizer, steps_per_epoch, sched_cfg)
    scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda" and tcfg["amp"] in ("auto", "fp16"))
    swa_model = AveragedModel(model) if cfg["swa"]["enabled"] else None
    class_w = class_weight_vector(train_ds.labels, spec.num_classes, cfg["loss"]["class_weights"])
    if class_w is not None:
        class_w = class_w.to(device)
    distiller = create_distiller(cfg["distill"], spec, device, bool(tcfg["channels_last"]))

    def set_schedule(epochs: int, swa_start: int | None) -> None:  # the LR lambda reads sched_cfg live
        tcfg["epochs"], sched_cfg["epochs"] = epochs, epochs
        if cfg["swa"]["enabled"]:
            cfg["swa"]["start_epoch"] = sched_cfg["swa_start_epoch"] = swa_start

    start_epoch, best, best_epoch, bad_epochs, history = 0, -1.0, -1, 0, []
    if resume:
        path = ckpt_dir / "last.pt" if resume == "auto" else Path(resume)
        ck = load_checkpoint(path)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        if swa_model is not None and ck.get("swa_model"):
            swa_model.load_state_dict(ck["swa_model"])
        start_epoch, best, best_epoch = ck["epoch"] + 1, ck["best_metric"], ck["best_epoch"]
        bad_epochs, history = ck["bad_epochs"], ck["history"]
        if ck.get("schedule"):  # a budget-fitted schedule
            set_schedule(ck["schedule"]["epochs"], ck["schedule"]["swa_start"])
        set_rng_state(ck["rng"])
        print(f"resumed from {path} at epoch {start_epoch}", flush=True)

    def state(epoch: int) -> dict[str, Any]:
        return {"spec": spec.to_dict(), "config": cfg, "epoch": epoch, "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(), "swa_model": swa_model.state_dict() if swa_model else None,
                "best_metric": best, "best_epoch": best_epoch, "bad_epochs": bad_epochs, "history": history,
                "schedule": {"epochs": int(tcfg["epochs"]), "swa_start": cfg["swa"]["start_epoch"]}}

    t_start, gen = time.time(), torch.Generator()
    eval_kw = {"batch_size": int(tcfg["eval_batch_size"]), "device": device, "amp": tcfg["amp"],
               "channels_last": bool(tcfg["channels_last"])}
    stop_reason = "epochs"
    epoch = start_epoch - 1
    while epoch + 1 < int(tcfg["epochs"]):
        epoch += 1
        numpy_seed_all(seed * 1000 + epoch)
        gen.manual_seed(seed * 7919 + epoch)
        set_backbone_trainable(model, epoch >= int(cfg["optim"]["freeze_backbone_epochs"]),
                               cfg["optim"].get("frozen_modules") or ())
        loader = make_loader(train_ds, batch_size, gen)
        row: dict[str, Any] = {"epoch": epoch}
        row.update(train_one_epoch(model, loader, optimizer, scheduler, scaler, spec, cfg, epoch, gen,
                                   class_w, device, distiller))
        if swa_model is not None and epoch >= int(cfg["swa"]["start_epoch"]):
            swa_model.update_parameters(model)
        rep = evaluate(model, val_ds.images, val_ds.labels, spec, desc="val", **eval_kw) if len(val_ds) else None
        row.update({"val_loss": rep["loss"] if rep else float("nan"), "val_acc": rep["accuracy"] if rep else 0.0,
                    "val_macro_f1": rep["macro_f1"] if rep else 0.0, "elapsed_min": (time.time() - t_start) / 60})
        history.append(row)
        if tcfg.get("fit_to_budget") and tcfg.get("max_minutes") and epoch == 1 and start_epoch <= 1:
            epoch_s = (history[1]["elapsed_min"] - history[0]["elapsed_min"]) * 60
            planned = (int(tcfg["epochs"]), cfg["swa"]["start_epoch"])
            set_schedule(*fit_epochs_to_budget(2, history[1]["elapsed_min"] * 60, epoch_s,
                                               float(tcfg["max_minutes"]) * 60, *planned))
            (out_dir / "config.json").write_text(json.dumps(cfg, indent=2))
            print(f"fit to the {tcfg['max_minutes']}-minute budget at {epoch_s:.1f} s/epoch: epochs {planned[0]} → "
                  f"{tcfg['epochs']}, SWA from {planned[1]} → {cfg['swa']['start_epoch']}", flush=True)
        improved = row["val_macro_f1"] > best
        if improved:
            best, best_epoch, bad_epochs = row["val_macro_f1"], epoch, 0
        else:
            bad_epochs += 1
        print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        _write_metrics(out_dir, history)
        save_checkpoint(ckpt_dir / "last.pt", state(epoch))
        if improved:
            save_checkpoint(ckpt_dir / "best.pt", state(epoch))
        every = int(tcfg["checkpoint_every"] or 0)
        if every and (epoch + 1) % every == 0:
            save_checkpoint(ckpt_dir / f"epoch_{epoch:03d}.pt", state(epoch))
        if tcfg["early_stop_patience"] and bad_epochs >= int(tcfg["early_stop_patience"]):
            stop_reason = "early_stop"
            break
        over_budget = tcfg.get("max_minutes") is not None and (time.time() - t_start) / 60 >= float(tcfg["max_minutes"])
        if over_budget and epoch + 1 < int(tcfg["epochs"]):  # the last epoch finishes the run either way
            stop_reason = "time_budget"
            break

    finished = stop_reason != "time_budget"
    train_minutes = sum(r["train_seconds"] for r in history) / 60
    summary: dict[str, Any] = {"best_val_macro_f1": best, "best_epoch": best_epoch, "stop_reason": stop_reason,
                               "epochs_run": len(history), "train_minutes": train_minutes,
                               "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"}
    if finished and swa_model is not None and swa_model.n_averaged.item() > 0:
        swa_net = swa_model.module
        update_bn(swa_net, train_ds, spec, device, max_batches=tcfg.get("max_batches_per_epoch"))
        rep = evaluate(swa_net, val_ds.images, val_ds.labels, spec, desc="val-swa", **eval_kw)
        summary["swa_val_macro_f1"], summary["swa_val_acc"] = rep["macro_f1"], rep["accuracy"]
        save_model(out_dir / "swa_model.pt", swa_net, spec)
        if rep["macro_f1"] > best:
            model.load_state_dict(clean_state_dict(swa_net.state_dict()))
            best, best_epoch = rep["macro_f1"], int(tcfg["epochs"]) - 1
            summary.update(best_val_macro_f1=best, best_is_swa=True)
            save_checkpoint(ckpt_dir / "best.pt", state(best_epoch))
    if (ckpt_dir / "best.pt").exists():
        best_ck = load_checkpoint(ckpt_dir / "best.pt")
        model.load_state_dict(best_ck["model"])
        save_model(out_dir / "model.pt", model, spec)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary), flush=True)
    return summary


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

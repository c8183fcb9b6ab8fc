"""Training configuration: defaults below, overlaid by a YAML preset, overlaid by `--set key.path=value`."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_ROOT = "../shared/data"

DEFAULTS: dict[str, Any] = {
    "name": "run",
    "seed": 42,
    "out_dir": "runs/{name}",
    "data": {
        "root": None,  # None -> $BLOOMWELL_DATA_ROOT or ../shared/data (relative to the repo root)
        "train_sources": [{"type": "fer2013", "root": "{data_root}/fer2013", "weight": 1.0}],
        "val_fraction": 0.1,
        "split_seed": None,  # seed of the train/val split (None = `seed`): keeps val fixed across model seeds
        "cache_dir": "runs/cache",
        "face_crop": False,
        "max_train_samples": None,
        "max_val_samples": None,
    },
    "model": {"arch": "convnext_face", "kwargs": {}, "image_size": 48, "in_chans": 3, "grayscale": True,
              "name": "model", "version": "0.1.0"},
    "augment": {"enabled": True, "hflip": True, "rotation_deg": 10.0, "rrc_scale": [0.8, 1.0],
                "rrc_ratio": [0.9, 1.1], "translate": 0.1, "brightness": 0.3, "contrast": 0.3,
                "saturation": 0.0, "random_erasing": 0.0},
    "mixup": {"alpha": 0.2, "prob": 1.0},
    "loss": {"class_weights": "sqrt_inverse", "label_smoothing": 0.1},
    # knowledge distillation from a trained model file (None = off); tta: none|flip views for the teacher
    "distill": {"teacher": None, "alpha": 0.5, "temperature": 2.0, "tta": "none"},
    "optim": {"name": "adamw", "lr": 2e-3, "weight_decay": 0.05, "backbone_lr_mult": 1.0,
              "freeze_backbone_epochs": 0, "frozen_modules": []},
    "sched": {"name": "cosine_restarts", "warmup_epochs": 1, "t0_epochs": 10, "t_mult": 1, "min_lr_ratio": 0.01},
    "swa": {"enabled": False, "start_epoch": None, "lr_ratio": 0.05},
    "train": {"epochs": 30, "batch_size": 64, "accum_steps": 1, "amp": "auto", "channels_last": False,
              "early_stop_patience": 10, "checkpoint_every": 5, "num_threads": 2, "eval_batch_size": 256,
              "max_batches_per_epoch": None, "max_minutes": None, "device": "auto", "init_from": None,
              # shorten epochs (and SWA start) after 2 epochs so the run ends within max_minutes
              "fit_to_budget": False},
}


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursively overlay `over` onto a copy of `base`."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def set_path(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    """cfg['a']['b'] = value for dotted='a.b'."""
    *parents, last = dotted.split(".")
    node = cfg
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


def resolve_data_root(root: str | None) -> Path:
    """Explicit root, else $BLOOMWELL_DATA_ROOT, else ../shared/data; relative paths are from the repo root."""
    root = root or os.environ.get("BLOOMWELL_DATA_ROOT") or DEFAULT_DATA_ROOT
    p = Path(root).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()


def resolve_path(p: str | Path) -> Path:
    """Paths in configs are relative to the repo root."""
    p = Path(p).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p


def _read_yaml(path: Path) -> dict[str, Any]:
    """A preset, overlaid on its `base:` preset (path relative to this file) when it names one."""
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    base = data.pop("base", None)
    return deep_merge(_read_yaml(path.parent / base), data) if base else data


def load_config(path: str | Path | None, overrides: list[str] | None = None,
                data_root: str | None = None) -> dict[str, Any]:
    """Defaults ← YAML ← `key.path=value` overrides; fills `{name}` and `{data_root}` placeholders."""
    cfg = deep_merge(DEFAULTS, _read_yaml(Path(path))) if path else copy.deepcopy(DEFAULTS)
    for item in overrides or []:
        key, _, raw = item.partition("=")
        set_path(cfg, key.strip(), yaml.safe_load(raw))
    if data_root:
        cfg["data"]["root"] = data_root
    root = resolve_data_root(cfg["data"]["root"])
    cfg["data"]["root"] = str(root)
    for src in cfg["data"]["train_sources"]:
        for k, v in list(src.items()):
            if isinstance(v, str):
                src[k] = v.replace("{data_root}", str(root))
    cfg["out_dir"] = cfg["out_dir"].replace("{name}", cfg["name"])
    return cfg

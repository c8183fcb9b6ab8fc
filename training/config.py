"""Training configuration: typed defaults below, overlaid by a YAML preset, overlaid by `--set key.path=value`.

Every section is a pydantic model that refuses keys it does not know, so a misspelt key in a preset or an
override (``optim.learning_rate=…``) stops the run before it starts instead of being silently ignored.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_ROOT = "../shared/data"


class ConfigError(ValueError):
    """A preset or override that does not describe a valid training run (unknown key, wrong type)."""


class Section(BaseModel):
    """A config section: unknown keys are an error; assignments are validated too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def __getitem__(self, key: str) -> Any:  # read-only dict-style access for code that reads run JSON and configs
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style ``get``."""
        return getattr(self, key, default)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (``config.json``, checkpoints, model cards)."""
        return self.model_dump(mode="json")


class SourceConfig(Section):
    """One training source: a folder set (FER2013, CK+, …), RAF-DB or AffectNet.

    ``ckplus`` sources are split by subject (``S###``) into ``n_folds`` folds; ``fold`` is held out (the
    subject-disjoint test fold of this run), every other fold trains.
    """

    type: Literal["fer2013", "folder", "rafdb", "affectnet", "ckplus"] = "fer2013"
    root: str | None = None
    split: str | None = None
    csv: str | None = None
    images: str | None = None
    weight: float = 1.0
    ferplus_labels: str | None = None
    dedup: bool = False  # drop byte-identical duplicates (and every copy of a conflicting group)
    n_folds: int = 5
    fold: int | None = None


class DataConfig(Section):
    root: str | None = None  # None -> $BLOOMWELL_DATA_ROOT or ../shared/data (relative to the repo root)
    train_sources: list[SourceConfig] = Field(
        default_factory=lambda: [SourceConfig(type="fer2013", root="{data_root}/fer2013", weight=1.0)])
    val_fraction: float = 0.1
    split_seed: int | None = None  # seed of the train/val split (None = `seed`): keeps val fixed across model seeds
    cache_dir: str | None = "runs/cache"
    face_crop: bool = False
    max_train_samples: int | None = None
    max_val_samples: int | None = None


class ModelConfig(Section):
    arch: str = "convnext_face"
    kwargs: dict[str, Any] = Field(default_factory=dict)
    image_size: int = 48
    in_chans: int = 3
    grayscale: bool = True
    name: str = "model"
    version: str = "0.1.0"


class AugmentConfig(Section):
    """Switches and ranges of the training augmentation (`training.data.transforms.augment_batch`)."""

    enabled: bool = True
    hflip: bool = True
    rotation_deg: float = 10.0
    rrc_scale: tuple[float, float] = (0.8, 1.0)
    rrc_ratio: tuple[float, float] = (0.9, 1.1)
    translate: float = 0.1
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.0
    random_erasing: float = 0.0


class MixupConfig(Section):
    alpha: float = 0.2
    prob: float = 1.0


class LossConfig(Section):
    class_weights: Literal["none", "inverse", "sqrt_inverse"] | None = "sqrt_inverse"
    label_smoothing: float = 0.1


class DistillConfig(Section):
    """Knowledge distillation from a trained model file (``teacher``; None = off)."""

    teacher: str | None = None
    alpha: float = 0.5
    temperature: float = 2.0
    tta: Literal["none", "flip", "five"] = "none"  # views the teacher averages


class OptimConfig(Section):
    name: Literal["adamw", "sgd"] = "adamw"
    lr: float = 2e-3
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    backbone_lr_mult: float = 1.0
    freeze_backbone_epochs: int = 0
    frozen_modules: list[str] = Field(default_factory=list)


class SchedConfig(Section):
    name: Literal["cosine", "cosine_restarts"] = "cosine_restarts"
    warmup_epochs: int | float = 1
    t0_epochs: int | float = 10
    t_mult: int | float = 1
    min_lr_ratio: float = 0.01


class SwaConfig(Section):
    enabled: bool = False
    start_epoch: int | None = None
    lr_ratio: float = 0.05


class TrainSection(Section):
    epochs: int = 30
    batch_size: int = 64
    accum_steps: int = 1
    amp: Literal["auto", "fp16", "bf16", "off"] = "auto"
    channels_last: bool = False
    early_stop_patience: int = 10
    checkpoint_every: int | None = 5
    num_threads: int = 2
    eval_batch_size: int = 256
    max_batches_per_epoch: int | None = None
    max_minutes: float | None = None
    device: str = "auto"
    init_from: str | None = None
    fit_to_budget: bool = False  # after 2 epochs, shorten epochs (and SWA start) so the run ends within max_minutes


class TrainConfig(Section):
    """A whole training run."""

    name: str = "run"
    seed: int = 42
    out_dir: str = "runs/{name}"
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    mixup: MixupConfig = Field(default_factory=MixupConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    sched: SchedConfig = Field(default_factory=SchedConfig)
    swa: SwaConfig = Field(default_factory=SwaConfig)
    train: TrainSection = Field(default_factory=TrainSection)


DEFAULTS: dict[str, Any] = TrainConfig().to_dict()
"""The defaults as a plain dict (documentation and tests)."""


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


def validate_config(raw: dict[str, Any], where: str = "config") -> TrainConfig:
    """A :class:`TrainConfig` from a plain dict; :class:`ConfigError` names every bad key."""
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: {problems}") from None


def load_config(path: str | Path | None, overrides: list[str] | None = None,
                data_root: str | None = None) -> TrainConfig:
    """Defaults ← YAML ← `key.path=value` overrides, validated; fills `{name}` and `{data_root}` placeholders."""
    raw = _read_yaml(Path(path)) if path else {}
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} is not KEY=VALUE")
        set_path(raw, key.strip(), yaml.safe_load(value))
    cfg = validate_config(raw, str(path) if path else "overrides")
    if data_root:
        cfg.data.root = data_root
    root = resolve_data_root(cfg.data.root)
    cfg.data.root = str(root)
    for src in cfg.data.train_sources:
        for key in ("root", "csv", "images", "ferplus_labels"):
            value = getattr(src, key)
            if isinstance(value, str):
                setattr(src, key, value.replace("{data_root}", str(root)))
    cfg.out_dir = cfg.out_dir.replace("{name}", cfg.name)
    return cfg

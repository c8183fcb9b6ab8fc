"""Training checkpoints that hold everything needed to resume exactly (weights, optimiser, scheduler,
scaler, SWA state, epoch, RNG states, metric history). Loadable by `bloomwell_ml.io.load_model`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

CKPT_FORMAT = "bloomwell-train-ckpt/1"


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states in weights_only-loadable form."""
    np_state = np.random.get_state(legacy=True)
    if isinstance(np_state, dict):  # MT19937, the global generator, always has the legacy tuple form
        raise TypeError("NumPy's global generator is not MT19937")
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Atomically write a checkpoint dict (adds format + RNG states)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"format": CKPT_FORMAT, "rng": rng_state(), **state}, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint (weights_only: no arbitrary pickles)."""
    checkpoint: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    return checkpoint


@dataclass
class Checkpoint:
    """Everything a run needs to continue exactly where it stopped, as one object.

    ``state_dict()`` / ``from_dict()`` convert to and from the weights_only-loadable dict written by
    :func:`save_checkpoint` (which adds the RNG states); ``spec`` and ``model`` keep the file loadable by
    :func:`bloomwell_ml.io.load_model`.
    """

    spec: dict[str, Any]
    config: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any]
    swa_model: dict[str, torch.Tensor] | None = None
    epoch: int = -1
    best_metric: float = -1.0
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    schedule: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        """The plain dict stored on disk (without RNG states: :func:`save_checkpoint` adds the current ones)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}

    @classmethod
    def from_dict(cls, blob: dict[str, Any]) -> Checkpoint:
        """Inverse of :meth:`state_dict` (plus ``rng``); unknown keys such as ``format`` are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in blob.items() if k in names})

    def save(self, path: str | Path) -> Path:
        """Atomically write this checkpoint with the process's current RNG states."""
        return save_checkpoint(path, self.state_dict())

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read a checkpoint written by :meth:`save`."""
        return cls.from_dict(load_checkpoint(path))

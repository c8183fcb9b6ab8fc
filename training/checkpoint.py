"""Training checkpoints that hold everything needed to resume exactly (weights, optimiser, scheduler,
scaler, SWA state, epoch, RNG states, metric history). Loadable by `bloomwell_ml.io.load_model`."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

CKPT_FORMAT = "bloomwell-train-ckpt/1"


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states in weights_only-loadable form."""
    np_state = np.random.get_state()
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
    return torch.load(path, map_location="cpu", weights_only=True)

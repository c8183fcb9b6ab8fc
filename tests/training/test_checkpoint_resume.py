"""The checkpoint object: it holds everything, and build(resume=...) restores a run to the identical state."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from tests.training.conftest import TINY_ARCH
from training.checkpoint import Checkpoint
from training.config import load_config
from training.train import build, finalize, fit


def _cfg(out_dir: Path, data_root: Path, epochs: int = 3, **extra: object):
    overrides = [
        f"out_dir={out_dir}", f"data.cache_dir={out_dir.parent / 'cache'}", "data.max_train_samples=128",
        "data.max_val_samples=32", f"model.kwargs={TINY_ARCH}", "train.batch_size=32", "train.max_batches_per_epoch=3",
        f"train.epochs={epochs}", "train.num_threads=1", "train.eval_batch_size=64", "sched.warmup_epochs=1",
        "swa.enabled=true", "swa.start_epoch=1", "mixup.alpha=0.2", "augment.enabled=true",
    ] + [f"{k}={v}" for k, v in extra.items()]
    return load_config(None, overrides, str(data_root))


def test_checkpoint_round_trip_keeps_every_field(tmp_path: Path) -> None:
    ck = Checkpoint(spec={"arch": "x"}, config={"seed": 1}, model={"w": torch.ones(2)}, optimizer={"state": {}},
                    scheduler={"last_epoch": 4}, scaler={}, swa_model={"w": torch.zeros(2)}, epoch=3, best_metric=0.5,
                    best_epoch=2, bad_epochs=1, history=[{"epoch": 0}], schedule={"epochs": 9, "swa_start": 7})
    random.seed(5)
    np.random.seed(6)
    torch.manual_seed(7)
    ck.save(tmp_path / "c.pt")
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    back = Checkpoint.load(tmp_path / "c.pt")
    assert back.state_dict().keys() == ck.state_dict().keys()
    assert back.epoch == 3 and back.schedule == {"epochs": 9, "swa_start": 7} and back.history == [{"epoch": 0}]
    assert torch.equal(back.swa_model["w"], torch.zeros(2))
    from training.checkpoint import set_rng_state

    set_rng_state(back.rng)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_stop_and_resume_reaches_the_identical_state(tmp_path: Path, data_root: Path) -> None:
    full = build(_cfg(tmp_path / "full", data_root))
    finalize(full, fit(full))
    # the same run stopped after its first epoch by the time budget, then resumed in a fresh build
    part = build(_cfg(tmp_path / "split", data_root, **{"train.max_minutes": 0}))
    assert fit(part) == "time_budget" and part.progress.epoch == 0
    resumed = build(_cfg(tmp_path / "split", data_root), resume="auto")
    assert resumed.start_epoch == 1 and len(resumed.progress.history) == 1
    finalize(resumed, fit(resumed))
    a, b = (Checkpoint.load(p / "checkpoints" / "last.pt") for p in (tmp_path / "full", tmp_path / "split"))
    assert a.epoch == b.epoch == 2 and a.best_epoch == b.best_epoch and a.best_metric == b.best_metric
    for key in a.model:
        torch.testing.assert_close(a.model[key], b.model[key], rtol=0, atol=0)
    for key in a.swa_model or {}:
        torch.testing.assert_close(a.swa_model[key], b.swa_model[key], rtol=0, atol=0)  # type: ignore[index]
    assert a.scheduler["last_epoch"] == b.scheduler["last_epoch"]
    for k, state in a.optimizer["state"].items():
        torch.testing.assert_close(state["exp_avg_sq"], b.optimizer["state"][k]["exp_avg_sq"], rtol=0, atol=0)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    torch.testing.assert_close(a.rng["torch"], b.rng["torch"], rtol=0, atol=0)  # type: ignore[index]

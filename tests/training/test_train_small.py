"""A tiny real training run on a few batches of FER2013: loss falls, checkpoints appear, resume is exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from bloomwell_ml.io import load_model
from tests.training.conftest import TINY_ARCH
from training.checkpoint import load_checkpoint
from training.config import load_config
from training.train import run


def _cfg(out_dir: Path, data_root: Path, **extra: Any) -> dict[str, Any]:
    overrides = [
        f"out_dir={out_dir}", f"data.cache_dir={out_dir.parent / 'cache'}", "data.max_train_samples=192",
        "data.max_val_samples=64", "model.arch=convnext_face", f"model.kwargs={TINY_ARCH}",
        "train.batch_size=32", "train.max_batches_per_epoch=6", "train.epochs=2", "train.checkpoint_every=1",
        "train.num_threads=1", "train.eval_batch_size=64", "sched.warmup_epochs=0", "optim.lr=0.003",
        "augment.enabled=false", "mixup.alpha=0", "loss.label_smoothing=0", "loss.class_weights=none",
        "swa.enabled=true", "swa.start_epoch=1",
    ]
    overrides += [f"{k}={v}" for k, v in extra.items()]
    return load_config(None, overrides, str(data_root))


def test_tiny_training_lowers_loss_and_writes_checkpoints(tmp_path: Path, data_root: Path) -> None:
    summary = run(_cfg(tmp_path / "a", data_root))
    out = tmp_path / "a"
    hist = load_checkpoint(out / "checkpoints" / "last.pt")["history"]
    assert len(hist) == 2 and hist[1]["train_loss"] < hist[0]["train_loss"]
    for name in ("last.pt", "best.pt", "epoch_000.pt", "epoch_001.pt"):
        assert (out / "checkpoints" / name).is_file()
    assert (out / "metrics.csv").read_text().count("\n") == 3
    assert summary["epochs_run"] == 2 and 0.0 <= summary["best_val_macro_f1"] <= 1.0
    loaded = load_model(out / "checkpoints" / "best.pt")
    assert loaded.module(torch.zeros(1, 3, 48, 48)).shape == (1, 7)
    assert load_model(out / "model.pt").spec.arch == "convnext_face"


def test_resume_continues_to_identical_state(tmp_path: Path, data_root: Path) -> None:
    run(_cfg(tmp_path / "full", data_root))
    # the same run, stopped by its time budget after the first epoch, then resumed
    first = run(_cfg(tmp_path / "split", data_root, **{"train.max_minutes": 0}))
    assert first["stop_reason"] == "time_budget" and first["epochs_run"] == 1
    run(_cfg(tmp_path / "split", data_root), resume="auto")
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")
    assert a["epoch"] == b["epoch"] == 1
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=0)
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"]
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k]["exp_avg"], sb[k]["exp_avg"], rtol=0, atol=0)
    for key in a["swa_model"]:
        torch.testing.assert_close(a["swa_model"][key], b["swa_model"][key], rtol=0, atol=0)
    fa = load_model(tmp_path / "full" / "model.pt").module.state_dict()
    fb = load_model(tmp_path / "split" / "model.pt").module.state_dict()
    for key in fa:
        torch.testing.assert_close(fa[key], fb[key], rtol=0, atol=0)


def test_init_from_loads_weights(tmp_path: Path, data_root: Path) -> None:
    run(_cfg(tmp_path / "a", data_root, **{"train.epochs": 1, "swa.enabled": "false"}))
    src = load_model(tmp_path / "a" / "model.pt").module
    # lr 0: the fine-tuning phase must start from (and here keep) exactly the source weights
    run(_cfg(tmp_path / "b", data_root, **{"train.epochs": 1, "swa.enabled": "false", "optim.lr": 0,
                                          "train.init_from": str(tmp_path / "a" / "model.pt")}))
    dst = load_model(tmp_path / "b" / "checkpoints" / "last.pt").module
    for (name, p), (_, q) in zip(src.named_parameters(), dst.named_parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_frozen_modules_keep_weights_and_batchnorm_statistics(tmp_path: Path, data_root: Path) -> None:
    run(_cfg(tmp_path / "a", data_root, **{"train.epochs": 1, "swa.enabled": "false"}))
    src = load_model(tmp_path / "a" / "model.pt").module.state_dict()
    run(_cfg(tmp_path / "b", data_root, **{"train.epochs": 1, "swa.enabled": "false",
                                          "optim.frozen_modules": "[stem, stages.0]",
                                          "train.init_from": str(tmp_path / "a" / "model.pt")}))
    dst = load_model(tmp_path / "b" / "checkpoints" / "last.pt").module.state_dict()
    frozen = [k for k in src if k.startswith(("stem.", "stages.0."))]
    assert any(k.endswith("running_mean") for k in frozen)  # BatchNorm statistics are part of what stays put
    for key in frozen:
        torch.testing.assert_close(src[key], dst[key], rtol=0, atol=0, msg=key)
    trained = [k for k in src if k.startswith(("stages.1.", "head.")) and src[k].is_floating_point()]
    assert any(not torch.equal(src[k], dst[k]) for k in trained)


def test_frozen_modules_must_name_real_modules(tmp_path: Path, data_root: Path) -> None:
    with pytest.raises(ValueError, match="stages.9"):
        run(_cfg(tmp_path / "a", data_root, **{"train.epochs": 1, "optim.frozen_modules": "[stages.9]"}))

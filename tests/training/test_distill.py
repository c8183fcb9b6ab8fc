"""Knowledge distillation (soft targets, KD loss, spec checks, a tiny distilled run) and budget-fitted schedules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from bloomwell_ml.io import build_model, save_model
from bloomwell_ml.spec import ModelSpec
from tests.training.conftest import TINY_ARCH
from tests.training.test_train_small import _cfg
from training.checkpoint import load_checkpoint
from training.distill import Distiller, check_compatible, create_distiller
from training.optim import fit_epochs_to_budget
from training.train import run


class _Fixed(nn.Module):
    """Logits = a fixed linear map of the mean pixel per channel, so teacher outputs are known in advance."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.mean((2, 3)))


def test_kd_loss_is_zero_on_the_teachers_own_logits_and_positive_otherwise() -> None:
    torch.manual_seed(0)
    d = Distiller(_Fixed(), alpha=1.0, temperature=3.0)
    x = torch.randn(8, 3, 48, 48)
    soft = d.soft_targets(x)
    assert soft.shape == (8, 7)
    torch.testing.assert_close(soft.sum(1), torch.ones(8))
    teacher_logits = d.teacher(x).detach()
    torch.testing.assert_close(soft, torch.softmax(teacher_logits / 3.0, 1))
    assert float(d.kd_loss(teacher_logits, soft)) == pytest.approx(0.0, abs=1e-6)
    assert float(d.kd_loss(torch.zeros(8, 7), soft)) > 0
    ce = torch.tensor(2.0)
    half = Distiller(d.teacher, alpha=0.25, temperature=3.0)
    expected = 0.75 * 2.0 + 0.25 * float(d.kd_loss(torch.zeros(8, 7), soft))
    assert float(half.combine(ce, torch.zeros(8, 7), soft)) == pytest.approx(expected, rel=1e-6)


def test_flip_tta_teacher_averages_the_mirror_view() -> None:
    torch.manual_seed(0)
    teacher = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 7))
    x = torch.randn(5, 3, 4, 4)
    soft = Distiller(teacher, alpha=1.0, temperature=2.0, tta="flip").soft_targets(x)
    expected = (torch.softmax(teacher(x) / 2, 1) + torch.softmax(teacher(x.flip(3)) / 2, 1)) / 2
    torch.testing.assert_close(soft, expected)


def test_teacher_must_share_input_format_and_labels() -> None:
    check_compatible(ModelSpec(), ModelSpec(arch_kwargs={"dims": [8, 16]}))  # architecture may differ
    with pytest.raises(ValueError, match="image_size"):
        check_compatible(ModelSpec(image_size=64), ModelSpec())
    with pytest.raises(ValueError, match="labels"):
        check_compatible(ModelSpec(labels=("a", "b")), ModelSpec())


def test_create_distiller_off_without_teacher_and_validates_settings(tmp_path: Path) -> None:
    assert create_distiller({"teacher": None, "alpha": 0.5, "temperature": 2.0}, ModelSpec(),
                            torch.device("cpu")) is None
    spec = ModelSpec(arch_kwargs=TINY_ARCH)
    path = save_model(tmp_path / "t.pt", build_model(spec), spec)
    with pytest.raises(ValueError, match="alpha"):
        create_distiller({"teacher": str(path), "alpha": 1.5, "temperature": 2.0}, spec, torch.device("cpu"))
    d = create_distiller({"teacher": str(path), "alpha": 0.5, "temperature": 2.0, "tta": "flip"}, spec,
                         torch.device("cpu"))
    assert d is not None and d.tta == "flip" and not any(p.requires_grad for p in d.teacher.parameters())


def test_distilled_tiny_run_trains_and_leaves_the_teacher_untouched(tmp_path: Path, data_root: Path) -> None:
    run(_cfg(tmp_path / "teacher", data_root, **{"train.epochs": 1, "swa.enabled": "false"}))
    teacher_file = tmp_path / "teacher" / "model.pt"
    before = teacher_file.read_bytes()
    summary = run(_cfg(tmp_path / "student", data_root, **{
        "distill.teacher": str(teacher_file), "distill.alpha": 0.7, "distill.temperature": 2.0,
        "distill.tta": "flip", "seed": 7, "data.split_seed": 42}))
    hist = load_checkpoint(tmp_path / "student" / "checkpoints" / "last.pt")["history"]
    assert summary["epochs_run"] == 2 and hist[1]["train_loss"] < hist[0]["train_loss"]
    assert teacher_file.read_bytes() == before


def test_fit_epochs_to_budget() -> None:
    # 2 epochs done in 20 s at 10 s/epoch, 100 s budget: 10 s spare leaves room for 7 more → 9 epochs
    assert fit_epochs_to_budget(2, 20, 10, 100, epochs=150, swa_start=128) == (9, 8)
    assert fit_epochs_to_budget(2, 20, 10, 10_000, epochs=50, swa_start=40) == (50, 40)  # never lengthens
    assert fit_epochs_to_budget(2, 20, 10, 25, epochs=50, swa_start=40) == (3, 2)  # at least one more epoch
    assert fit_epochs_to_budget(2, 20, 10, 100, epochs=150, swa_start=None) == (9, None)
    # SWA keeps its share: 20 of 100 epochs → 10 of 50
    assert fit_epochs_to_budget(2, 20, 1, 69, epochs=100, swa_start=80) == (50, 40)


def test_budget_fitted_schedule_is_applied_saved_and_resumed(tmp_path: Path, data_root: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_fit(*args: object) -> tuple[int, int]:
        calls.append(args)
        return 3, 2

    monkeypatch.setattr("training.train.fit_epochs_to_budget", fake_fit)
    extra = {"train.epochs": 6, "swa.start_epoch": 4, "train.fit_to_budget": "true", "train.max_minutes": 100}
    summary = run(_cfg(tmp_path / "a", data_root, **extra))
    assert len(calls) == 1 and calls[0][3:] == (6000.0, 6, 4)
    assert summary["epochs_run"] == 3 and summary["stop_reason"] == "epochs"
    ck = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")
    assert ck["schedule"] == {"epochs": 3, "swa_start": 2}
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["train"]["epochs"] == 3 and saved["swa"]["start_epoch"] == 2
    # a resumed run keeps the fitted schedule even though its config still says 6 epochs
    ep1 = load_checkpoint(tmp_path / "a" / "checkpoints" / "epoch_001.pt")
    assert ep1["schedule"] == {"epochs": 3, "swa_start": 2}
    resumed = run(_cfg(tmp_path / "a", data_root, **extra), resume=str(tmp_path / "a/checkpoints/epoch_001.pt"))
    assert resumed["epochs_run"] == 3 and len(calls) == 1

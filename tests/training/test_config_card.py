"""Presets parse and build; the model card writer produces both files with the key facts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bloomwell_ml.arch import TORCHVISION_CONVNEXTS
from bloomwell_ml.io import build_model
from bloomwell_ml.labels import EMOTIONS
from training.config import REPO_ROOT, load_config
from training.metrics import classification_report
from training.model_card import _table_rows, write_model_card
from training.train import build_spec

CONFIGS = REPO_ROOT / "training" / "configs"


@pytest.mark.parametrize("preset", ["default.yaml", "default-gpu.yaml", "history/default-gpu-ft.yaml",
                                    "history/gpu-w64.yaml", "history/default-gpu-kd.yaml",
                                    "history/default-gpu-kd-ft.yaml", "history/default-gpu-seed.yaml",
                                    "history/default-ft-clean.yaml", "history/default-ft.yaml",
                                    "history/default-ft2.yaml", "history/default-long.yaml"])
def test_small_presets_build_and_run(preset: str) -> None:
    cfg = load_config(CONFIGS / preset)
    spec = build_spec(cfg)
    model = build_model(spec).eval()
    assert model(torch.zeros(2, spec.in_chans, spec.image_size, spec.image_size)).shape == (2, 7)
    assert cfg.data.train_sources[0].root.endswith("fer2013")


def test_paper_preset_is_the_papers_recipe() -> None:
    cfg = load_config(CONFIGS / "paper-convnext-large.yaml")
    assert cfg["model"]["arch"] == "convnext_large" and cfg["model"]["arch"] in TORCHVISION_CONVNEXTS
    assert cfg["model"]["image_size"] == 224 and cfg["train"]["batch_size"] == 64 and cfg["train"]["epochs"] == 70
    assert cfg["mixup"]["alpha"] == 0.2 and cfg["swa"]["enabled"] and cfg["sched"]["name"] == "cosine_restarts"


def test_metrics_and_model_card(tmp_path: Path) -> None:
    y = np.array([0, 1, 2, 3, 4, 5, 6, 3])
    p = np.array([0, 1, 2, 3, 4, 5, 5, 4])
    rep = classification_report(y, p, EMOTIONS)
    assert rep["accuracy"] == 6 / 8 and rep["confusion_matrix"][6][5] == 1
    assert abs(rep["per_class"]["happy"]["recall"] - 0.5) < 1e-9
    rep["labels"] = list(EMOTIONS)
    spec = build_spec(load_config(CONFIGS / "default.yaml"))
    info = {"sha256": "ab" * 32, "size_bytes": 1000, "params": 123,
            "config": load_config(CONFIGS / "default.yaml").to_dict(),
            "summary": [{"best_val_macro_f1": 0.4}],
            "history": [{"epoch": 0, "train_loss": 1.0, "val_acc": 0.5, "val_macro_f1": 0.4, "lr": 1e-3,
                         "train_seconds": 60.0}]}
    write_model_card(tmp_path, spec, info, {"fer2013_test": rep})
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["sha256"] == "ab" * 32 and card["labels"] == list(EMOTIONS)
    assert card["metrics"]["fer2013_test"]["accuracy"] == 0.75
    md = (tmp_path / "MODEL_CARD.md").read_text()
    assert "75.00 %" in md and "Limitations" in md


def test_long_history_table_keeps_every_tenth_first_best_last() -> None:
    history = [{"phase": ph, "epoch": e, "val_macro_f1": 0.9 if (ph, e) == (1, 42) else 0.1}
               for ph, n in ((1, 115), (2, 105)) for e in range(n)]
    rows = {(r["phase"], r["epoch"]) for r in _table_rows(history)}
    assert {(1, 0), (1, 42), (1, 114), (2, 0), (2, 104), (1, 9), (2, 99)} <= rows
    assert (1, 41) not in rows and len(rows) < 40
    assert _table_rows(history[:20]) == history[:20]


def test_card_names_the_hardware(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "default-gpu.yaml")
    info = {"sha256": "cd" * 32, "size_bytes": 1, "params": 1, "config": cfg.to_dict(),
            "hardware": "one NVIDIA H100 GPU",
            "history": []}
    write_model_card(tmp_path, build_spec(cfg), info, {})
    assert "Hardware/time: one NVIDIA H100 GPU" in (tmp_path / "MODEL_CARD.md").read_text()
    assert json.loads((tmp_path / "model_card.json").read_text())["hardware"] == "one NVIDIA H100 GPU"


def test_card_states_distillation(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "history" / "default-gpu-kd-ft.yaml")
    assert cfg["data"]["split_seed"] == 42 and cfg["seed"] != 42  # new model seed, the teacher's validation split
    info = {"sha256": "cd" * 32, "size_bytes": 1, "params": 1, "config": cfg.to_dict(), "history": []}
    write_model_card(tmp_path, build_spec(cfg), info, {})
    md = (tmp_path / "MODEL_CARD.md").read_text()
    assert "knowledge distillation from `models/convnext-face48/model.pt` (alpha 0.5, T 2.0, teacher TTA flip)" in md
    assert "(2 warm-up epochs)" in md
    assert json.loads((tmp_path / "model_card.json").read_text())["training"]["recipe"]["distill"]["alpha"] == 0.5

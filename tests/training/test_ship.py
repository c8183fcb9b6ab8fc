"""`training.ship --keep-history`: a model trained over several sessions keeps every phase in its card."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bloomwell_ml.io import build_model, load_model, save_model
from bloomwell_ml.spec import ModelSpec
from training import ship as ship_module

ROW = {"epoch": 0, "train_loss": 1.5, "train_acc": 0.3, "lr": 1e-3, "train_images_per_s": 50.0,
       "train_seconds": 60.0, "val_loss": 1.7, "val_acc": 0.35, "val_macro_f1": 0.2, "elapsed_min": 1.0}


def test_keep_history_appends_the_new_phase_after_the_shipped_ones(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ship_module, "models_dir", lambda: tmp_path / "models")
    spec = ModelSpec(arch="convnext_face", arch_kwargs={"dims": [8, 16], "depths": [1, 1], "head_hidden": 16},
                     image_size=32, name="m", version="2")
    weights = save_model(tmp_path / "w.pt", build_model(spec), spec)
    card_dir = tmp_path / "models" / "m"
    card_dir.mkdir(parents=True)
    old_rows = [{**ROW, "phase": 1}, {**ROW, "phase": 1, "epoch": 1}, {**ROW, "phase": 2}]
    (card_dir / "model_card.json").write_text(json.dumps(
        {"training": {"history": old_rows, "summary": [{"best_epoch": 1}, {"best_epoch": 0}]}}))
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(ROW))
        w.writeheader()
        w.writerows([ROW, {**ROW, "epoch": 1, "val_acc": 0.5}])
    (run / "summary.json").write_text(json.dumps({"best_epoch": 1}))

    out = ship_module.ship(weights, "m", tmp_path, [run], skip_eval=True, keep_history=True)

    training = json.loads((out / "model_card.json").read_text())["training"]
    assert [r["phase"] for r in training["history"]] == [1, 1, 2, 3, 3]
    assert training["history"][-1]["val_acc"] == 0.5
    assert training["summary"] == [{"best_epoch": 1}, {"best_epoch": 0}, {"best_epoch": 1}]
    assert (out / "learning_curves.png").stat().st_size > 0
    assert "| 3 | 1 |" in (out / "MODEL_CARD.md").read_text()


def test_weights_only_file_takes_the_recipe_from_the_last_run(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from training.config import load_config

    monkeypatch.setattr(ship_module, "models_dir", lambda: tmp_path / "models")
    spec = ModelSpec(arch="convnext_face", arch_kwargs={"dims": [8, 16], "depths": [1, 1], "head_hidden": 16},
                     image_size=32, name="m", version="2")
    weights = save_model(tmp_path / "w.pt", build_model(spec), spec)  # no config inside
    run = tmp_path / "run"
    run.mkdir()
    cfg = load_config(Path(ship_module.__file__).parent / "configs" / "history" / "default-gpu-ft.yaml")
    (run / "config.json").write_text(json.dumps(cfg.to_dict()))

    out = ship_module.ship(weights, "m", tmp_path, [run], skip_eval=True, hardware="one test GPU", version="2.2.0")

    md = (out / "MODEL_CARD.md").read_text()
    assert "Recipe: AdamW lr 0.0006" in md and "Hardware/time: one test GPU" in md
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["recipe"]["optim"]["lr"] == 0.0006
    assert card["version"] == "2.2.0" and load_model(out / "model.pt").spec.version == "2.2.0"

"""Ship a trained model: weights to `models/<name>/model.pt`, evaluation on FER2013 test and CK+ (with and
without TTA), and the model card (`MODEL_CARD.md` + `model_card.json`).

    python -m training.ship --checkpoint runs/convnext-face48/checkpoints/best.pt --name convnext-face48
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import torch

from bloomwell_ml.io import load_model, save_model
from bloomwell_ml.paths import models_dir
from bloomwell_ml.tta import TTA_TITLE_SUFFIX, TestTimeAugmentation
from training.checkpoint import load_checkpoint
from training.config import resolve_data_root
from training.data.readers import read_folder
from training.evaluate import evaluate_model, write_report
from training.model_card import write_model_card

EVALS: dict[str, tuple[str, str, TestTimeAugmentation]] = {  # report -> (folder under the data root, split, TTA)
    "fer2013_test": ("fer2013", "test", "none"),
    "fer2013_test_flip": ("fer2013", "test", "flip"),  # the worker's INFERENCE_TTA=flip
    "fer2013_test_tta": ("fer2013", "test", "five"),  # the worker's default, INFERENCE_TTA=five
    "ckplus": ("ckplus48", "all", "none"),
    "ckplus_tta": ("ckplus48", "all", "five"),
}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _history(run_dirs: list[Path], first_phase: int = 1) -> list[dict[str, Any]]:
    """metrics.csv rows of each run (phases in order), with a `phase` column."""
    rows: list[dict[str, Any]] = []
    for phase, run_dir in enumerate(run_dirs, first_phase):
        if (run_dir / "metrics.csv").exists():
            with open(run_dir / "metrics.csv") as f:
                rows += [{"phase": phase, **{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()}}
                         for row in csv.DictReader(f)]
    return rows


def _prior_training(card: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """History rows and run summaries of the model card being replaced (earlier phases of the same model)."""
    if not card.exists():
        return [], []
    training = json.loads(card.read_text()).get("training") or {}
    return list(training.get("history") or []), list(training.get("summary") or [])


def ship(checkpoint: Path, name: str, data_root: Path, run_dirs: list[Path], skip_eval: bool = False,
         note: str = "", keep_history: bool = False, hardware: str = "", version: str | None = None) -> Path:
    """Write weights, eval reports and the card into `models/<name>/`; returns that folder.

    With `keep_history`, the replaced card's phases stay in the new card and `run_dirs` are numbered after them
    (a model trained in several sessions, each resuming from the weights shipped before). `version` replaces the
    version recorded by the training run."""
    out = models_dir() / name
    prior_history, prior_summary = _prior_training(out / "model_card.json") if keep_history else ([], [])
    first_phase = 1 + max((int(r.get("phase", 1)) for r in prior_history), default=0)
    (out / "eval").mkdir(parents=True, exist_ok=True)
    loaded = load_model(checkpoint, "cpu")
    if version:
        loaded.spec.version = version
    weights = save_model(out / "model.pt", loaded.module, loaded.spec)
    reports: dict[str, Any] = {}
    for key, (folder, split, tta) in EVALS.items():
        path = out / "eval" / f"{key}.json"
        if not skip_eval:
            rep = evaluate_model(load_model(weights), read_folder(data_root / folder, split), tta=tta)
            rep["data"] = {"dataset": folder, "split": split}
            write_report(rep, path, f"{name} on {folder}/{split}{TTA_TITLE_SUFFIX[tta]}")
            print(key, json.dumps({k: rep[k] for k in ("n", "accuracy", "macro_f1")}), flush=True)
        if path.exists():
            reports[key] = json.loads(path.read_text())
    ck = load_checkpoint(checkpoint) if checkpoint.suffix == ".pt" else {}
    last_config = run_dirs[-1] / "config.json" if run_dirs else None
    config = ck.get("config") or (json.loads(last_config.read_text()) if last_config and last_config.exists() else None)
    history = _history(run_dirs, first_phase) or [{"phase": first_phase, **r} for r in ck.get("history") or []]
    many = len(run_dirs) > 1 or bool(prior_history)
    for phase, run_dir in enumerate(run_dirs, first_phase):
        if (run_dir / "learning_curves.png").exists():
            suffix = f"_phase{phase}" if many else ""
            shutil.copy(run_dir / "learning_curves.png", out / f"learning_curves{suffix}.png")
    history = prior_history + history
    if many and history:  # all phases on one axis: epochs counted across phases
        from training.plots import plot_learning_curves

        plot_learning_curves([{**r, "epoch": i} for i, r in enumerate(history)], out / "learning_curves.png")
    info = {"sha256": sha256(weights), "size_bytes": weights.stat().st_size,
            "params": sum(p.numel() for p in loaded.module.parameters()),
            "config": config, "checkpoint_epoch": ck.get("epoch"), "history": history,
            "summary": prior_summary + [json.loads((d / "summary.json").read_text()) for d in run_dirs
                                        if (d / "summary.json").exists()] or None, "note": note,
            "hardware": hardware}
    write_model_card(out, loaded.spec, info, reports)
    from training.export import export_onnx

    export_onnx(weights, out)  # model.onnx beside model.pt, its checksum in the card: what CPU workers run
    return out


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, type=Path)
    ap.add_argument("--name", required=True)
    ap.add_argument("--run-dir", type=Path, action="append", default=[],
                    help="training run folder (metrics.csv, summary.json); repeat for several phases, in order")
    ap.add_argument("--data-root", help="folder holding fer2013/ and ckplus48/ (default ../shared/data)")
    ap.add_argument("--skip-eval", action="store_true", help="reuse existing reports in models/<name>/eval")
    ap.add_argument("--note", default="", help="free text for the card (e.g. 'interim: epoch 2 of 8')")
    ap.add_argument("--keep-history", action="store_true",
                    help="keep the replaced card's training phases (the run dirs continue its numbering); "
                    "use once per new phase: shipping the same run again with it would list that run twice")
    ap.add_argument("--hardware", default="", help="where it trained, for the card (default: the 2-core CPU line)")
    ap.add_argument("--version", help="model version for the card and spec (default: the run's model.version)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    ship(args.checkpoint, args.name, resolve_data_root(args.data_root), args.run_dir, args.skip_eval, args.note,
         args.keep_history, args.hardware, args.version)


if __name__ == "__main__":
    main()

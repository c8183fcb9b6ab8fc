"""Model card writer: `MODEL_CARD.md` (for people) and `model_card.json` (for machines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bloomwell_ml.spec import ModelSpec

LIMITATIONS = [
    "Trained only on FER2013: 48x48 grayscale, mostly frontal web images of posed and spontaneous expressions. "
    "FER2013's labels are noisy (human accuracy is about 65 +/- 5 %), and the set has byte-identical duplicates "
    "(568 test images also occur in train).",
    "Demographics of FER2013 are not documented and are skewed (few children, elderly and darker-skinned faces); "
    "accuracy on under-represented groups is unknown and likely lower. No fairness audit has been done.",
    "'disgust' has only 436 training images: its recall is the weakest and least reliable.",
    "CK+ (posed, lab lighting) is an out-of-distribution check only; it has no neutral class and contempt is dropped.",
    "Expressions are not emotions: the output is the facial configuration most similar to a FER2013 label, "
    "not a person's inner state. Bloomwell's indicators are a screening aid, not a diagnosis.",
    "Input is a tight face crop (as FER2013 faces are); loose crops, profile views, occlusion (masks, hands), "
    "strong lighting and very small faces degrade predictions.",
]


MAX_TABLE_ROWS = 40


RECIPE_KEYS = ("augment", "mixup", "loss", "optim", "sched", "swa", "train", "distill")


def _cpu_hardware(cfg: dict[str, Any]) -> str:
    return (f"CPU only (2 shared cores, fp32, channels_last, {cfg['train']['num_threads']} thread(s) in the last "
            "phase)")


def _table_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All epochs of a short history; of a long one every 10th epoch and each phase's first, best and last."""
    if len(history) <= MAX_TABLE_ROWS:
        return history
    keep: set[int] = set()
    for phase in dict.fromkeys(r.get("phase", 1) for r in history):
        idx = [i for i, r in enumerate(history) if r.get("phase", 1) == phase]
        best = max(idx, key=lambda i: history[i]["val_macro_f1"])
        keep |= {idx[0], best, idx[-1]} | {i for i in idx if int(history[i]["epoch"]) % 10 == 9}
    return [history[i] for i in sorted(keep)]


def _fmt(x: float) -> str:
    return f"{100 * x:.2f} %"


def _report_table(reports: dict[str, Any]) -> list[str]:
    rows = ["| evaluation | images | accuracy | macro-F1 |", "|---|---|---|---|"]
    for key, rep in reports.items():
        rows.append(f"| {key} | {rep['n']} | {_fmt(rep['accuracy'])} | {_fmt(rep['macro_f1'])} |")
    return rows


def _per_class(rep: dict[str, Any]) -> list[str]:
    rows = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, m in rep["per_class"].items():
        rows.append(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    return rows


def _confusion(rep: dict[str, Any]) -> list[str]:
    labels = rep["labels"]
    rows = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name, row in zip(labels, rep["confusion_matrix"], strict=True):
        rows.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    return rows


def write_model_card(out: Path, spec: ModelSpec, info: dict[str, Any], reports: dict[str, Any]) -> None:
    """Write both card files into `out` (the `models/<name>/` folder)."""
    cfg = info.get("config") or {}
    history = info.get("history") or []
    hardware = info.get("hardware") or (_cpu_hardware(cfg) if cfg else None)
    card = {
        "name": spec.name, "version": spec.version, "file": "model.pt", "sha256": info["sha256"],
        "size_bytes": info["size_bytes"], "parameters": info["params"],
        "architecture": {"arch": spec.arch, "kwargs": spec.arch_kwargs},
        "input": {"image_size": spec.image_size, "in_chans": spec.in_chans, "grayscale": spec.grayscale,
                  "mean": list(spec.mean), "std": list(spec.std), "channel_order": "gray replicated to 3 channels"
                  if spec.grayscale else "RGB", "preprocessing": "bloomwell_ml.preprocess.preprocess_faces"},
        "labels": list(spec.labels),
        "training": {"data": cfg.get("data"), "recipe": {k: cfg.get(k) for k in RECIPE_KEYS},
                     "checkpoint_epoch": info.get("checkpoint_epoch"), "summary": info.get("summary"),
                     "history": history},
        "metrics": {k: {m: v[m] for m in ("n", "accuracy", "macro_f1", "per_class", "confusion_matrix")}
                    for k, v in reports.items()},
        "hardware": hardware,
        "limitations": LIMITATIONS, "note": info.get("note", ""),
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2))

    colour = "grayscale replicated to 3 channels" if spec.grayscale else "RGB"
    train_min = sum(r.get("train_seconds", 0.0) for r in history) / 60
    lines = [f"# {spec.name} {spec.version}", ""]
    if info.get("note"):
        lines += [f"> {info['note']}", ""]
    lines += [
        "Facial-expression classifier (a single ConvNeXt) for Bloomwell; the worker loads it with `MODEL_PATH` set to "
        "its `model.pt` / `model.onnx`, or as a member of the default model bundle "
        "(`bloomwell_ml.paths.default_model_path()`).", "",
        "## Model", "",
        f"- Architecture: `{spec.arch}` {json.dumps(spec.arch_kwargs)} — ConvNeXt blocks (depthwise 7x7 conv → norm →"
        " 1x1 expand ×4 → GELU → 1x1 project, layer scale, residual) with the paper's head "
        "(Flatten → LayerNorm → Linear 512 → ReLU → Dropout → Linear 7).",
        f"- Parameters: {info['params'] / 1e6:.2f} M; file `model.pt` {info['size_bytes'] / 1e6:.1f} MB, "
        f"SHA-256 `{info['sha256']}`.",
        f"- Input: {spec.image_size}x{spec.image_size}, {colour}"
        f", scaled to [0,1] then normalised with ImageNet mean {list(spec.mean)} / std {list(spec.std)}. "
        "Use `bloomwell_ml.preprocess.preprocess_faces` (BGR uint8 crops of any size).",
        f"- Output: 7 logits in the order {', '.join(spec.labels)}.", "",
        "## Training", "",
        "- Data: FER2013 train (original labels), minus a stratified, seeded 10 % validation split used for all "
        "choices (epochs, checkpoint). FER2013 test was used only for the figures below.",
    ]
    if cfg:
        kd = cfg.get("distill") or {}
        distill = (f", knowledge distillation from `{kd['teacher']}` (alpha {kd['alpha']}, T {kd['temperature']}, "
                   f"teacher TTA {kd.get('tta') or 'none'})" if kd.get("teacher") else "")
        warmup = cfg["sched"].get("warmup_epochs", 0)
        lines += [
            f"- Recipe: AdamW lr {cfg['optim']['lr']}, weight decay {cfg['optim']['weight_decay']}, "
            f"{cfg['sched']['name']} schedule ({warmup} warm-up epoch{'' if warmup == 1 else 's'}), "
            f"batch {cfg['train']['batch_size']}, {cfg['train']['epochs']} epochs, class weights "
            f"{cfg['loss']['class_weights']}, label smoothing {cfg['loss']['label_smoothing']}, Mixup α "
            f"{cfg['mixup']['alpha']} (p={cfg['mixup']['prob']}), SWA "
            f"{'from epoch ' + str(cfg['swa']['start_epoch']) if cfg['swa']['enabled'] else 'off'}{distill}; "
            "augmentation "
            f"flip, ±{cfg['augment']['rotation_deg']}° rotation, random resized crop {cfg['augment']['rrc_scale']}, "
            f"brightness/contrast ±{cfg['augment']['brightness']} (the last phase's recipe; earlier phases in the "
            "table below and in `training/README.md`).",
            f"- Hardware/time: {hardware}, {train_min:.0f} min of training "
            "over all phases.",
        ]
    if history:
        lines += ["", "Learning curve (validation split):", "",
                  "| phase | epoch | train loss | val acc | val macro-F1 | lr | minutes |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r.get('phase', 1)} | {int(r['epoch'])} | {r['train_loss']:.3f} | {_fmt(r['val_acc'])} "
                  f"| {_fmt(r['val_macro_f1'])} | {r['lr']:.2e} | {r['train_seconds'] / 60:.1f} |"
                  for r in _table_rows(history)]
        if len(history) > MAX_TABLE_ROWS:
            lines += ["", f"(Every 10th epoch, each phase's first, best and last; all {len(history)} epochs are in "
                      "`model_card.json` and `learning_curves.png`.)"]
    if info.get("summary"):
        lines += ["", "Run summaries (one per phase):", ""] + [f"- `{json.dumps(x)}`" for x in info["summary"]]
    lines += ["", "## Metrics", ""] + _report_table(reports)
    for key in ("fer2013_test", "ckplus"):
        if key in reports:
            lines += ["", f"### {key} (no TTA): per class", ""] + _per_class(reports[key])
            lines += ["", f"Confusion matrix (rows = true, columns = predicted); figure `eval/{key}_confusion.png`:",
                      ""] + _confusion(reports[key])
    lines += ["", "TTA = mean softmax over 5 views (identity, horizontal flip, 90 % zoom, zoom + flip, 5 % shift; the "
              "worker's default, `INFERENCE_TTA=five`); flip = each face and its mirror image (`INFERENCE_TTA=flip`).",
              "CK+ macro-F1 is over the 6 classes present (no neutral; contempt dropped).",
              "", "## Limitations and bias", ""] + [f"- {x}" for x in LIMITATIONS]
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")


ONNX_LINE_PREFIX = "- ONNX: "


def onnx_card_line(onnx: dict[str, Any]) -> str:
    """The MODEL_CARD.md line describing a model folder's ONNX file (``training.export``)."""
    return (f"{ONNX_LINE_PREFIX}`{onnx['file']}` {onnx['size_bytes'] / 1e6:.1f} MB, SHA-256 `{onnx['sha256']}` "
            f"(checked at every load), written by `python -m training.export` from `{onnx['source']}` (opset "
            f"{onnx['opset']}; the spec — labels, input size, normalisation, per-TTA temperatures — in its metadata "
            f"`{onnx['metadata_key']}`); max abs logit difference to `{onnx['source']}` "
            f"{onnx['max_abs_logit_diff']:.2g}. CPU workers run it on ONNX Runtime without PyTorch.")


def record_onnx(out: Path, onnx: dict[str, Any]) -> None:
    """Record a model folder's ONNX file (name, SHA-256, size, parity) in both card files: ``onnx`` in
    ``model_card.json`` and a line after the weights' line in ``MODEL_CARD.md`` (replacing an older one)."""
    card_path = out / "model_card.json"
    card = json.loads(card_path.read_text())
    card["onnx"] = onnx
    card_path.write_text(json.dumps(card, indent=2))
    md_path = out / "MODEL_CARD.md"
    if not md_path.is_file():
        return
    lines = [line for line in md_path.read_text().splitlines() if not line.startswith(ONNX_LINE_PREFIX)]
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("- Parameters:")), len(lines))
    lines.insert(at, onnx_card_line(onnx))
    md_path.write_text("\n".join(lines) + "\n")

"""Evaluate a model on a labelled dataset, with or without 5-view test-time augmentation.

    python -m training.evaluate --model default --data-root ../shared/data/fer2013 --split test [--tta] \
        --out runs/eval/fer2013_test.json

`--tta` averages 5 views (identity, flip, 90 % zoom, zoom + flip, 5 % shift); `--tta flip` averages each image
with its mirror image (the worker's `INFERENCE_TTA=flip`; its default is `five`, the 5 views).

Writes the JSON report plus `<out>_confusion.png` and `<out>_per_class_f1.png` beside it.

    python -m training.evaluate --suite robustness --model default --out runs/eval/robustness.json

runs the robustness suite instead (`training.robustness`: FER2013 validation and test, CK+, FER2013-C, the
serving path on FER2013 test and CK+, each with calibration; `--data-root` is then the folder holding `fer2013/`
and `ckplus48/`, default `../shared/data`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from bloomwell_ml.io import LoadedModel, load_model
from bloomwell_ml.paths import convnext_model_path
from bloomwell_ml.tta import TTA_KINDS, TTA_TITLE_SUFFIX, TestTimeAugmentation, tta_kind
from training.config import resolve_data_root, resolve_path
from training.data.dataset import load_images
from training.data.readers import Sample, read_source
from training.engine import evaluate
from training.plots import plot_confusion, plot_per_class_f1


def evaluate_model(loaded: LoadedModel, samples: list[Sample], tta: bool | TestTimeAugmentation = False,
                   batch_size: int = 256,
                   face_crop: bool = False) -> dict[str, Any]:
    """Report (accuracy, macro_f1, per_class, confusion_matrix, …) of `loaded` on `samples`."""
    spec = loaded.spec
    images = torch.from_numpy(load_images(samples, spec.image_size, spec.grayscale, spec.in_chans, face_crop))
    labels = torch.tensor([s.label for s in samples], dtype=torch.long)
    t0 = time.time()
    report = evaluate(loaded.module, images, labels, spec, batch_size=batch_size, tta=tta, desc="eval")
    report["seconds"] = time.time() - t0
    report["labels"] = list(spec.labels)
    report["tta_views"] = tta_kind(tta)
    report["tta"] = report["tta_views"] != "none"
    report["model"] = {"name": spec.name, "version": spec.version, "arch": spec.arch}
    return report


def write_report(report: dict[str, Any], out: str | Path, title: str = "") -> Path:
    """Write the JSON and the two PNGs beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    stem = out.with_suffix("")
    plot_confusion(report["confusion_matrix"], report["labels"], f"{stem}_confusion.png", title)
    plot_per_class_f1(report["per_class"], f"{stem}_per_class_f1.png", title)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", help="'default' (the model the worker ships with) or a model file path")
    g.add_argument("--checkpoint", help="training checkpoint, save_model file or TorchScript export")
    ap.add_argument("--data-root", help="dataset folder (<split>/<class>/<image> for folder sets); with --suite the "
                    "folder holding fer2013/ and ckplus48/ (default ../shared/data)")
    ap.add_argument("--suite", choices=["robustness"], help="run the robustness suite (training.robustness)")
    ap.add_argument("--corrupt-limit", type=int, default=1000,
                    help="suite: FER2013 test images per FER2013-C set (stratified, seeded; 0 = all 7,178)")
    ap.add_argument("--serving-limit", type=int, default=0, help="suite: images per serving-path set (0 = all)")
    ap.add_argument("--sets", help="suite: comma-separated subset of the sets (default: all)")
    ap.add_argument("--cache-dir", default="runs/robustness-cache", help="suite: cached view logits ('' = none)")
    ap.add_argument("--temperatures", help="suite: JSON file {none, flip, five} used instead of the model's own")
    ap.add_argument("--backend", default="onnxruntime", choices=["onnxruntime", "torch"])
    ap.add_argument("--split", default="test", help="split sub-folder ('' for none); CK+ uses 'all'")
    ap.add_argument("--reader", default="folder", choices=["folder", "fer2013", "rafdb", "affectnet"])
    ap.add_argument("--csv", help="annotation CSV for rafdb/affectnet")
    ap.add_argument("--images", help="image folder for rafdb/affectnet")
    ap.add_argument("--face-crop", action="store_true", help="Haar face crop before resizing (wild images)")
    ap.add_argument("--tta", nargs="?", const="five", default="none", choices=TTA_KINDS,
                    help="'--tta' alone: average 5 views (identity, flip, zoom, zoom+flip, shift); '--tta flip': "
                    "each image and its mirror")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True, help="report JSON path")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    path = convnext_model_path() if args.model == "default" else Path(args.model or args.checkpoint)
    loaded = load_model(path, "cpu")
    if args.suite:
        return run_suite(loaded, path, args)
    if not args.data_root:
        ap.error("--data-root is required without --suite")
    src = {"type": args.reader, "root": str(resolve_path(args.data_root)), "split": args.split or None,
           "csv": args.csv, "images": args.images}
    samples = read_source(src, args.split)
    report = evaluate_model(loaded, samples, args.tta, args.batch_size, args.face_crop)
    report["data"] = {"root": args.data_root, "split": args.split, "reader": args.reader, "model_path": str(path)}
    title = f"{loaded.spec.name} on {Path(args.data_root).name}/{args.split}{TTA_TITLE_SUFFIX[args.tta]}"
    write_report(report, args.out, title)
    print(json.dumps({k: report[k] for k in ("n", "accuracy", "macro_f1", "tta_views")}))
    return report


def run_suite(loaded: LoadedModel, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """`--suite robustness`: collect (cached) logits, report every set, write the JSON and reliability PNGs."""
    from training import robustness as rb

    defaults = rb.SuiteOptions(data_root=Path("."))
    opts = rb.SuiteOptions(
        data_root=resolve_data_root(args.data_root), cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        corrupt_limit=args.corrupt_limit or None, serving_limit=args.serving_limit or None,
        batch_size=args.batch_size, sets=tuple(args.sets.split(",")) if args.sets else defaults.sets)
    forward = rb.load_forward(loaded, args.backend, args.threads)
    logits = rb.collect_logits(loaded, forward, opts, log=lambda m: print(m, flush=True))
    temps = (json.loads(Path(args.temperatures).read_text()) if args.temperatures
             else rb.model_temperatures(loaded))
    report = rb.suite_report(logits, loaded.spec.labels, temps)
    report["model"] = {"name": loaded.spec.name, "version": loaded.spec.version, "path": str(path),
                       "temperatures": rb.model_temperatures(loaded)}
    report["options"] = rb.describe_options(opts)
    rb.write_suite(report, Path(args.out), f"{loaded.spec.name} {loaded.spec.version}", opts.diagram_tta)
    for tta in TTA_KINDS:
        for row in rb.headline(report, tta):
            print(json.dumps(row), flush=True)
    return report


if __name__ == "__main__":
    main()

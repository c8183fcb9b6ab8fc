"""The "unclear" threshold from calibration figures: below which top probability is the model's named expression
wrong more often than right?

    .venv/bin/python -m training.unclear_threshold                          # the shipped model, FER2013 test
    .venv/bin/python -m training.unclear_threshold --model models/<name>/model.pt --json artifacts/unclear.json
    .venv/bin/python -m training.unclear_threshold --limit 2000             # a stratified quick look

Every image goes through the worker's own inference path (``EmotionClassifier``: the model's calibration
temperature, the worker's preprocessing, ONNX Runtime on a CPU), so the probabilities are the ones the result
document stores. The predictions are binned by their top probability (width ``--bin``); the threshold is the upper
edge of the highest bin, among bins with at least ``--min-count`` images, whose accuracy is under ``--target``
(50 %: the named expression is wrong more often than right). Accuracy is judged against the FER+ majority label of
ten annotators by default (``--truth ferplus``; images without a 7-class majority left out): FER2013's own single
labels are noisy enough (human agreement ≈ 65 %) that their noise would read as the model's doubt; the figures
against the FER2013 labels are printed beside them. The figures are printed (reliability bins, the share of
images under the threshold and the accuracy on each side) for the model card; the threshold itself is stored in ONE
place, ``services.common.analysis.UNCLEAR_BELOW``, which the worker uses to mark segments unclear — rerun this after
changing the shipped model and update that constant with the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.paths import default_model_path
from services.common.settings import REPO_ROOT

DEFAULT_TEST_DIR = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "test"
DEFAULT_FERPLUS_CSV = REPO_ROOT.parent / "shared" / "data" / "fer2013_meta" / "msambare_to_ferplus.csv"


def ferplus_labels(paths: list[Path], mapping_csv: Path) -> np.ndarray:
    """Each image's FER+ majority label (ten annotators; index in :data:`EMOTIONS`), -1 where FER+ has no 7-class
    majority: a cleaner truth than FER2013's single label, whose own noise would read as the model's error."""
    majority: dict[str, str] = {}
    with mapping_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            majority[row["fer2013_path"]] = row["ferplus_majority_label"]
    out = []
    for p in paths:
        label = majority.get(f"{p.parent.parent.name}/{p.parent.name}/{p.name}", "")
        out.append(EMOTIONS.index(label) if label in EMOTIONS else -1)
    return np.array(out, dtype=np.int64)


def test_images(root: Path, limit: int | None, seed: int = 0) -> tuple[list[Path], np.ndarray]:
    """The labelled test images (``<root>/<label>/*.jpg``, labels in :data:`EMOTIONS`), optionally a stratified
    subset of about ``limit``."""
    paths: list[Path] = []
    labels: list[int] = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name in EMOTIONS):
        files = sorted(label_dir.glob("*.jpg")) + sorted(label_dir.glob("*.png"))
        paths += files
        labels += [EMOTIONS.index(label_dir.name)] * len(files)
    y = np.array(labels, dtype=np.int64)
    if limit is not None and limit < len(paths):
        keep = np.random.default_rng(seed).permutation(len(paths))[:limit]
        keep.sort()
        return [paths[i] for i in keep], y[keep]
    return paths, y


def read_image(path: Path) -> np.ndarray:
    """A test image as the BGR picture the classifier takes (``OSError`` when OpenCV cannot read it)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read the image {path}")
    return image


def reliability(top: np.ndarray, correct: np.ndarray, width: float) -> list[dict[str, Any]]:
    """Bins ``[lo, hi)`` of the top probability (the last one closed) with count and accuracy."""
    edges = np.round(np.arange(0.0, 1.0 + width / 2, width), 6)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (top >= lo) & ((top < hi) if hi < 1.0 else (top <= hi))
        n = int(mask.sum())
        out.append({"lo": float(lo), "hi": float(hi), "count": n,
                    "accuracy": float(correct[mask].mean()) if n else None,
                    "confidence": float(top[mask].mean()) if n else None})
    return out


def threshold_from(bins: list[dict[str, Any]], target: float, min_count: int) -> float:
    """The upper edge of the highest well-filled bin whose accuracy is under ``target`` (0 when none is)."""
    low = [b for b in bins if b["count"] >= min_count and b["accuracy"] is not None and b["accuracy"] < target]
    return max((b["hi"] for b in low), default=0.0)


def figures(probs: np.ndarray, labels: np.ndarray, width: float, target: float, min_count: int) -> dict[str, Any]:
    """Reliability bins, the threshold and what it means on this set."""
    top = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    bins = reliability(top, correct, width)
    threshold = threshold_from(bins, target, min_count)
    under = top < threshold
    return {
        "images": len(labels),
        "accuracy": float(correct.mean()),
        "mean_top_probability": float(top.mean()),
        "target_accuracy": target,
        "threshold": threshold,
        "share_under": float(under.mean()),
        "accuracy_under": float(correct[under].mean()) if under.any() else None,
        "accuracy_at_or_over": float(correct[~under].mean()) if (~under).any() else None,
        "bins": bins,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="model.pt or model.onnx (default: the shipped model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_TEST_DIR, help="labelled test folder (FER2013 test)")
    parser.add_argument("--limit", type=int, default=None, help="a stratified subset of about this many images")
    parser.add_argument("--bin", type=float, default=0.05, help="width of the reliability bins")
    parser.add_argument("--target", type=float, default=0.5, help="accuracy under which an expression is unclear")
    parser.add_argument("--min-count", type=int, default=50, help="bins with fewer images are not trusted")
    parser.add_argument("--tta", default="none", help="the worker's INFERENCE_TTA (none on a CPU worker)")
    parser.add_argument("--truth", choices=("ferplus", "fer2013"), default="ferplus",
                        help="the labels the threshold is set against (both sets of figures are printed)")
    parser.add_argument("--ferplus-csv", type=Path, default=DEFAULT_FERPLUS_CSV)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from services.inference_worker.classifier import EmotionClassifier

    model = args.model or default_model_path()
    classifier = EmotionClassifier.load(model, device="cpu", tta=args.tta)
    paths, labels = test_images(args.data, args.limit)
    t0 = time.perf_counter()
    crops = [read_image(p) for p in paths]
    probs = np.concatenate([classifier.predict(crops[i : i + 512]) for i in range(0, len(crops), 512)])
    seconds = round(time.perf_counter() - t0, 1)
    truths = {"fer2013": labels}
    if args.ferplus_csv.is_file():
        truths["ferplus"] = ferplus_labels(paths, args.ferplus_csv)
    print(f"{classifier.name} {classifier.version} ({model}), temperature {classifier.temperature:.3g}, "
          f"TTA {classifier.tta}; {len(paths)} images of {args.data} in {seconds} s")
    by_truth = {}
    for name, truth in truths.items():
        known = truth >= 0
        result = figures(probs[known], truth[known], args.bin, args.target, args.min_count)
        by_truth[name] = result
        print(f"\n## against {name} labels ({result['images']} images): accuracy {result['accuracy']:.3f}, "
              f"mean top probability {result['mean_top_probability']:.3f}")
        print("top probability    images  accuracy")
        for b in result["bins"]:
            if b["count"]:
                print(f"  [{b['lo']:.2f}, {b['hi']:.2f})  {b['count']:7d}  {b['accuracy']:.3f}")
        print(f"threshold {result['threshold']:.2f}: the highest bin (≥ {args.min_count} images) under "
              f"{args.target:.0%} accuracy ends there; {result['share_under']:.1%} of the images fall under it "
              f"(accuracy {result['accuracy_under'] or 0:.3f} under, {result['accuracy_at_or_over'] or 0:.3f} at or "
              "over)")
    chosen = by_truth.get(args.truth) or by_truth["fer2013"]
    out = {**chosen, "truth": args.truth if args.truth in by_truth else "fer2013", "by_truth": by_truth,
           "model": str(model), "model_name": classifier.name, "model_version": classifier.version,
           "temperature": classifier.temperature, "tta": classifier.tta, "data": str(args.data), "seconds": seconds}
    print(f"\nUNCLEAR_BELOW = {out['threshold']:.2f} (against {out['truth']} labels, target {args.target:.0%}): "
          "set it in services/common/analysis.py with these figures")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])

"""The serving path on labelled faces: each image is put into a larger frame the way a face appears in a video, then
the worker's own detector → crop (→ eye alignment) → classifier runs on it, so train/serve skew shows as a number.

    python -m training.serving_path --data-root ../shared/data/fer2013 --split test --detector yunet --align \
        --limit 2000 [--margin 0.0] [--tta none|flip|five]

Each 48 px image is upscaled ``upscale`` times (bicubic) and padded by ``pad_frac`` of its side on every edge with
repeated edge pixels. The report gives the share of images where a face was found (``coverage``), the accuracy on
those, the accuracy over all images (a miss counts as wrong) and the *framing*: the margin ``m`` for which the
worker's square crop (side ``(1 + 2m)·max(w, h)`` around the box centre) would cover exactly the original image,
i.e. the ``CROP_MARGIN`` that reproduces FER2013's framing for this detector.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import Box, FaceDetector, create_detector
from bloomwell_ml.inference import predict_probs
from bloomwell_ml.io import LoadedModel, load_model
from bloomwell_ml.paths import convnext_model_path
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.tta import TTA_KINDS, TestTimeAugmentation
from training.data.readers import Sample, read_folder, read_gray
from training.metrics import classification_report


@dataclass(frozen=True)
class ServingFrame:
    """One labelled image placed in a video-like frame, and where the original image lies in it."""

    frame: np.ndarray
    label: int
    extent: tuple[float, float, float]  # centre x, centre y, side of the original image in the frame


def serving_frame(image: np.ndarray, label: int, upscale: int = 4, pad_frac: float = 0.5,
                  roll_deg: float = 0.0) -> ServingFrame:
    """``image`` (gray or BGR) upscaled and padded into a BGR frame, optionally rotated by ``roll_deg`` about its
    centre (a tilted head)."""
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
    side = bgr.shape[0] * upscale
    big = cv2.resize(bgr, (side, side), interpolation=cv2.INTER_CUBIC)
    pad = int(round(pad_frac * side))
    frame = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    if roll_deg:
        centre = (frame.shape[1] / 2.0, frame.shape[0] / 2.0)
        rotation = cv2.getRotationMatrix2D(centre, roll_deg, 1.0)
        frame = cv2.warpAffine(frame, rotation, (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    return ServingFrame(frame, label, (pad + side / 2.0, pad + side / 2.0, float(side)))


def framing_margin(box: Box, side: float) -> float:
    """The crop margin for which the square crop around ``box`` has side ``side``."""
    return (side / max(box.w, box.h) - 1.0) / 2.0


def detect_and_crop(frames: Sequence[ServingFrame], detector: FaceDetector, margin: float, align: bool,
                    batch: int = 16) -> tuple[list[np.ndarray | None], list[Box | None]]:
    """The worker's crop of the largest face per frame (None where no face was found)."""
    crops: list[np.ndarray | None] = []
    boxes: list[Box | None] = []
    for start in range(0, len(frames), batch):
        chunk = frames[start : start + batch]
        for sf, faces in zip(chunk, detector.detect([f.frame for f in chunk]), strict=True):
            box = faces[0] if faces else None
            boxes.append(box)
            crops.append(crop_square(sf.frame, box, margin, align=align) if box is not None else None)
    return crops, boxes


def serving_frames(samples: Sequence[Sample], upscale: int = 4, pad_frac: float = 0.5, max_roll_deg: float = 0.0,
                   seed: int = 0) -> list[ServingFrame]:
    """Each sample's image read as gray and placed in a frame (:func:`serving_frame`); ``max_roll_deg`` tilts each
    face by a seeded uniform angle in ±``max_roll_deg``."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in samples:
        image = read_gray(s.path)
        roll = float(rng.uniform(-max_roll_deg, max_roll_deg)) if max_roll_deg else 0.0
        frames.append(serving_frame(image, s.label, upscale, pad_frac, roll))
    return frames


@torch.inference_mode()
def classify(loaded: LoadedModel, crops: Sequence[np.ndarray], tta: TestTimeAugmentation = "none",
             batch: int = 256) -> np.ndarray:
    """Probabilities (N, K) in the model's label order, exactly as the worker computes them."""
    out = [np.zeros((0, loaded.spec.num_classes), np.float32)]
    for start in range(0, len(crops), batch):
        x = preprocess_faces(list(crops[start : start + batch]), loaded.spec)
        out.append(predict_probs(loaded.module, x, tta, temperature=loaded.spec.temperature_for(tta)).numpy())
    return np.concatenate(out)


def serving_path_report(loaded: LoadedModel, samples: Sequence[Sample], detector: FaceDetector, *,
                        margin: float = 0.0, align: bool = True, tta: TestTimeAugmentation = "none",
                        upscale: int = 4, pad_frac: float = 0.5, max_roll_deg: float = 0.0,
                        seed: int = 0) -> dict[str, Any]:
    """Coverage, accuracy and framing of the serving path on ``samples`` (see the module docstring);
    ``max_roll_deg`` tilts each face by a seeded uniform angle in ±``max_roll_deg``."""
    frames = serving_frames(samples, upscale, pad_frac, max_roll_deg, seed)
    crops, boxes = detect_and_crop(frames, detector, margin, align)
    found = [i for i, c in enumerate(crops) if c is not None]
    found_boxes = [(frames[i], b) for i, b in enumerate(boxes) if b is not None]  # a box wherever a crop
    labels = np.array([f.label for f in frames])
    probs = classify(loaded, [c for c in crops if c is not None], tta)
    predictions = probs.argmax(1) if len(found) else np.zeros(0, int)
    report = classification_report(labels[found], predictions, loaded.spec.labels) if found else {}
    margins = np.array([framing_margin(b, f.extent[2]) for f, b in found_boxes])
    offsets = np.array([
        np.hypot(b.x + b.w / 2 - f.extent[0], b.y + b.h / 2 - f.extent[1]) / f.extent[2] for f, b in found_boxes
    ])
    correct = int((predictions == labels[found]).sum()) if found else 0
    return {
        "n": len(frames),
        "found": len(found),
        "coverage": len(found) / max(1, len(frames)),
        "accuracy_found": report.get("accuracy", 0.0),
        "macro_f1_found": report.get("macro_f1", 0.0),
        "accuracy_all": correct / max(1, len(frames)),
        "framing_margin_median": float(np.median(margins)) if len(margins) else None,
        "framing_margin_iqr": [float(np.percentile(margins, 25)), float(np.percentile(margins, 75))]
        if len(margins) else None,
        "centre_offset_median": float(np.median(offsets)) if len(offsets) else None,
        "detector": detector.name,
        "margin": margin,
        "align": align,
        "tta_views": tta,
        "upscale": upscale,
        "pad_frac": pad_frac,
        "max_roll_deg": max_roll_deg,
        "per_class": report.get("per_class"),
        "confusion_matrix": report.get("confusion_matrix"),
    }


def stratified_subset(samples: Sequence[Sample], limit: int | None, seed: int = 0) -> list[Sample]:
    """At most ``limit`` samples, the same share of each class, seeded (all samples when ``limit`` is None)."""
    if not limit or limit >= len(samples):
        return list(samples)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(samples))[:limit]
    return [samples[i] for i in sorted(order)]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point: prints one JSON line per (align) setting."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="'default' or a model file")
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--detector", default="yunet")
    ap.add_argument("--margin", type=float, default=0.0)
    ap.add_argument("--align", choices=["on", "off", "both"], default="both")
    ap.add_argument("--tta", choices=TTA_KINDS, default="none")
    ap.add_argument("--upscale", type=int, default=4)
    ap.add_argument("--pad-frac", type=float, default=0.5)
    ap.add_argument("--max-roll", type=float, default=0.0, help="tilt each face by up to this many degrees")
    ap.add_argument("--limit", type=int, default=None, help="random subset of this many images")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write the report(s) as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    loaded = load_model(convnext_model_path() if args.model == "default" else Path(args.model))
    samples = stratified_subset(read_folder(args.data_root, args.split or None), args.limit)
    detector = create_detector(args.detector, max_faces=1)
    reports = {}
    for align in ({"on": [True], "off": [False], "both": [False, True]}[args.align]):
        rep = serving_path_report(loaded, samples, detector, margin=args.margin, align=align, tta=args.tta,
                                  upscale=args.upscale, pad_frac=args.pad_frac, max_roll_deg=args.max_roll)
        reports["aligned" if align else "unaligned"] = rep
        keys = ("detector", "align", "margin", "max_roll_deg", "n", "coverage", "accuracy_found", "macro_f1_found",
                "accuracy_all", "framing_margin_median", "centre_offset_median")
        print(json.dumps({k: rep[k] for k in keys}), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(reports, indent=2))
    return reports


if __name__ == "__main__":
    main()

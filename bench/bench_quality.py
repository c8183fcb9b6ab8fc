"""How classifier accuracy falls with face quality: the measurement behind the worker's quality gate.

    .venv/bin/python bench/bench_quality.py [--limit 1500] [--bar 10]

FER2013 test faces (a seeded, class-stratified subset) are degraded on purpose with the corruptions of
``training.data.corruptions`` (the FER2013-C suite's own) — downscaled to a few pixels and back (a small face in
the frame), blurred, darkened, over-exposed, flattened in contrast — and each degraded face
is measured with the worker's own quality metrics (``services.inference_worker.quality.measure``) and classified
with the shipped model (one view). Head turn cannot be synthesised from a photo, so it is measured on the natural
pose variation of the same faces through the serving path (YuNet on upscaled frames, yaw from its landmarks).
For each metric the script prints accuracy per bin and the threshold where accuracy stays within ``--bar`` points
of clean faces: the default of the matching ``QualityThresholds`` field. Prints figures only, asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bloomwell_ml.faces import Box, create_detector  # noqa: E402
from bloomwell_ml.inference import predict_probs  # noqa: E402
from bloomwell_ml.io import LoadedModel, load_model  # noqa: E402
from bloomwell_ml.paths import convnext_model_path  # noqa: E402
from bloomwell_ml.preprocess import normalize, to_model_image  # noqa: E402
from services.inference_worker.quality import QualityThresholds, estimate_yaw_deg, measure  # noqa: E402
from training.data import corruptions  # noqa: E402
from training.data.readers import read_folder, read_gray  # noqa: E402
from training.serving_path import detect_and_crop, serving_frame, stratified_subset  # noqa: E402

FULL_BOX = Box(0, 0, 48, 48)


def classify(loaded: LoadedModel, images: np.ndarray) -> np.ndarray:
    """Top label per uint8 model image (N, H, W, C)."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), 256):
            x = normalize(torch.from_numpy(images[start : start + 256]).permute(0, 3, 1, 2), loaded.spec)
            probs = predict_probs(loaded.module, x, temperature=loaded.spec.temperature_for("none"))
            out.append(probs.argmax(1).numpy())
    return np.concatenate(out)


def model_images(gray: list[np.ndarray], loaded: LoadedModel) -> np.ndarray:
    spec = loaded.spec
    return np.stack([to_model_image(g, spec.image_size, spec.grayscale, spec.in_chans) for g in gray])


def sweep(name: str, loaded: LoadedModel, faces: list[np.ndarray], labels: np.ndarray,
          levels: list[float], degrade: Callable[[np.ndarray, float], np.ndarray],
          metric: Callable[[np.ndarray, float], float]) -> list[tuple[float, float, float, int]]:
    """Per level: (level, median metric, accuracy, n)."""
    rows = []
    for level in levels:
        imgs = model_images([degrade(f, level) for f in faces], loaded)
        values = [metric(img, level) for img in imgs]
        acc = float((classify(loaded, imgs) == labels).mean())
        rows.append((level, float(np.median(values)), acc, len(faces)))
        print(f"  {name:>12} {level:>6}: metric median {np.median(values):8.1f}  accuracy {100 * acc:5.1f} %",
              flush=True)
    return rows


def binned(values: np.ndarray, correct: np.ndarray, edges: list[float]) -> list[tuple[str, int, float]]:
    out = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        mask = (values >= lo) & (values < hi)
        if mask.any():
            out.append((f"[{lo:g}, {hi:g})", int(mask.sum()), float(correct[mask].mean())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared/data/fer2013"))
    ap.add_argument("--limit", type=int, default=1500)
    ap.add_argument("--bar", type=float, default=10.0, help="accuracy points below clean still called readable")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_model(convnext_model_path())
    samples = stratified_subset(read_folder(args.data_root, "test"), args.limit)
    faces = [read_gray(s.path) for s in samples]
    labels = np.array([s.label for s in samples])
    clean = float((classify(loaded, model_images(faces, loaded)) == labels).mean())
    bar = clean - args.bar / 100.0
    print(f"{len(faces)} FER2013 test faces, clean accuracy {100 * clean:.1f} % (one view); "
          f"readable bar {100 * bar:.1f} %\n")

    results: dict[str, list[tuple[float, float, float, int]]] = {}
    print("face size (downscaled to N px and back; metric: N)")
    results["face_px"] = sweep("face_px", loaded, faces, labels, [48, 32, 24, 20, 16, 12, 10, 8],
                               corruptions.down_up, lambda img, s: s)
    print("blur (Gaussian sigma; metric: sharpness)")
    results["sharpness"] = sweep("blur", loaded, faces, labels, [0, 0.5, 0.8, 1.0, 1.3, 1.6, 2.0, 3.0],
                                 corruptions.gaussian_blur,
                                 lambda img, s: measure(img, FULL_BOX).sharpness)
    print("darkening (grey levels x k; metric: brightness)")
    results["brightness_low"] = sweep("dark", loaded, faces, labels, [1, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08],
                                      corruptions.scale_intensity, lambda img, s: measure(img, FULL_BOX).brightness)
    print("over-exposure (towards white by a; metric: brightness)")
    results["brightness_high"] = sweep("bright", loaded, faces, labels, [0, 60, 100, 140, 170, 200, 220],
                                       corruptions.towards_white, lambda img, s: measure(img, FULL_BOX).brightness)
    print("contrast (around the mean x c; metric: contrast)")
    results["contrast"] = sweep("contrast", loaded, faces, labels, [1, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05],
                                corruptions.contrast, lambda img, s: measure(img, FULL_BOX).contrast)

    print("\nhead turn (natural variation; YuNet on 4x upscaled frames; metric: |estimated yaw|)")
    frames = [serving_frame(f, int(lab)) for f, lab in zip(faces, labels, strict=True)]
    crops, boxes = detect_and_crop(frames, create_detector("yunet", max_faces=1), 0.0, align=False)
    found = [i for i, c in enumerate(crops) if c is not None]
    imgs = model_images([c for c in crops if c is not None], loaded)
    correct = classify(loaded, imgs) == labels[found]
    yaw = np.array([abs(estimate_yaw_deg(b) or 0.0) for b in boxes if b is not None])  # a box wherever a crop
    for label, n, acc in binned(yaw, correct, [0, 10, 20, 30, 40, 50, 60, 90]):
        print(f"  |yaw| {label:>10}: n {n:5d}  accuracy {100 * acc:5.1f} %")

    def threshold(rows: list[tuple[float, float, float, int]]) -> str:
        """The metric value where accuracy crosses the bar, interpolated linearly between the last level above
        it and the first below (rows run from clean to most degraded)."""
        for (_, m_ok, a_ok, _), (_, m_bad, a_bad, _) in zip(rows, rows[1:], strict=False):
            if a_ok >= bar > a_bad:
                return f"{m_ok + (m_bad - m_ok) * (a_ok - bar) / (a_ok - a_bad):8.1f}"
        return "   never" if rows[-1][2] >= bar else "  always"

    defaults = QualityThresholds()
    print("\nthresholds where accuracy stays within the bar (the gate's defaults beside them):")
    print(f"  min_face_px    {threshold(results['face_px'])}   default {defaults.min_face_px}")
    print(f"  min_sharpness  {threshold(results['sharpness'])}   default {defaults.min_sharpness}")
    print(f"  min_brightness {threshold(results['brightness_low'])}   default {defaults.min_brightness}")
    print(f"  max_brightness {threshold(results['brightness_high'])}   default {defaults.max_brightness}")
    print(f"  min_contrast   {threshold(results['contrast'])}   default {defaults.min_contrast}")
    print(f"  max_yaw_deg    (read the head-turn table)   default {defaults.max_yaw_deg}")


if __name__ == "__main__":
    main()

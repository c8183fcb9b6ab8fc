"""The robustness suite: how the model generalises and how well its confidence is calibrated, set by set.

    python -m training.evaluate --suite robustness --model default --out runs/eval/robustness.json

Sets (each reported separately, for every TTA kind ``none``/``flip``/``five``):

* ``fer2013_val``: the seed-42 validation split training holds out of FER2013 train (where temperatures are fitted);
* ``fer2013_test`` (7,178) and ``ckplus`` (CK+, 6 classes, no neutral, contempt dropped; posed, 118 subjects);
* ``fer2013_c``: a seeded, class-stratified subset of FER2013 test under each corruption of
  :data:`training.data.corruptions.FER2013_C` at each level, with the mean accuracy over all of them;
* ``serving_fer2013_test`` / ``serving_ckplus``: the worker's detector → square crop → eye alignment path on each
  image upscaled 4× and padded into a larger frame (:mod:`training.serving_path`); coverage, and the figures on the
  faces found.

Per set: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix, and calibration (ECE over 15
bins, NLL, mean confidence, reliability bins), each with the model's own temperatures (``calibrated``) and at
T = 1 (``uncalibrated``), plus a reliability diagram PNG beside the report. The raw logits of all five TTA views
are cached per set and model (``--cache-dir``), so a rerun with other temperatures costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bloomwell_ml.faces import create_detector
from bloomwell_ml.io import LoadedModel
from bloomwell_ml.preprocess import normalize, to_model_image
from bloomwell_ml.tta import TTA_KINDS, TTA_VIEW_COUNT, tta_views
from training.calibration import calibration_summary, view_probs
from training.data.corruptions import FER2013_C, corrupt_all
from training.data.dataset import load_images, stratified_split
from training.data.readers import Sample, read_folder
from training.metrics import classification_report
from training.serving_path import detect_and_crop, serving_frames, stratified_subset

VAL_FRACTION, VAL_SPLIT_SEED = 0.1, 42  # training's defaults (training/config.py): the split 2.x was trained with
Forward = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class SuiteOptions:
    """What the suite runs on; ``None`` limits mean every image."""

    data_root: Path
    cache_dir: Path | None = Path("runs/robustness-cache")
    corrupt_limit: int | None = 1000
    serving_limit: int | None = None
    seed: int = 0
    detector: str = "yunet"
    margin: float = 0.0  # the worker's CROP_MARGIN default
    align: bool = True  # the worker's ALIGN_FACES default
    batch_size: int = 256
    sets: tuple[str, ...] = ("fer2013_val", "fer2013_test", "ckplus", "fer2013_c", "serving_fer2013_test",
                             "serving_ckplus")
    diagram_tta: str = "five"  # the worker's INFERENCE_TTA default
    views: int = 5
    """TTA views computed for every set but ``fer2013_val`` (always all five, where each TTA kind's temperature is
    fitted): 2 = the ``none`` and ``flip`` figures only, at 40 % of the cost (``--views``)."""
    extra: dict[str, Any] = field(default_factory=dict)


def view_logits(forward: Forward, images: np.ndarray, loaded: LoadedModel, batch_size: int = 256,
                views: int = 5) -> np.ndarray:
    """Raw logits ``(views, N, K)`` of the first ``views`` of the five TTA views of uint8 model images
    ``(N, H, W, C)`` (view order of :func:`bloomwell_ml.tta.tta_views`, so ``[:1]`` is ``none`` and ``[:2]`` is
    ``flip``)."""
    out = [np.zeros((views, 0, loaded.spec.num_classes), np.float32)]
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
            x = normalize(chunk.permute(0, 3, 1, 2), loaded.spec)
            batch = tta_views(x, "five")[:views]
            out.append(forward(batch.flatten(0, 1)).float().view(views, len(chunk), -1).numpy())
    return np.concatenate(out, axis=1)


def available_kinds(logits: np.ndarray) -> list[str]:
    """The TTA kinds whose views a set's ``(V, N, K)`` logits hold."""
    return [k for k in TTA_KINDS if TTA_VIEW_COUNT[k] <= logits.shape[0]]


def model_digest(loaded: LoadedModel) -> str:
    """16 hex digits of a SHA-256 over the weights (names and values, not the spec): the cache folder of its
    logits, shared by files that differ only in calibration."""
    h = hashlib.sha256()
    for name, tensor in sorted(loaded.module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _cached(cache: Path | None, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    path = cache / f"{key}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    t0 = time.time()
    arrays = compute()
    arrays["seconds"] = np.array(time.time() - t0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, allow_pickle=False, **arrays)
    return arrays


def _images(samples: Sequence[Sample], loaded: LoadedModel) -> np.ndarray:
    s = loaded.spec
    return load_images(samples, s.image_size, s.grayscale, s.in_chans)


def validation_samples(data_root: Path) -> list[Sample]:
    """FER2013 train's validation split exactly as training draws it (stratified, 10 %, seed 42)."""
    return stratified_split(read_folder(data_root / "fer2013", "train"), VAL_FRACTION, VAL_SPLIT_SEED)[1]


def _clean_set(samples: Sequence[Sample], forward: Forward, loaded: LoadedModel, batch: int,
               views: int = 5) -> dict[str, np.ndarray]:
    return {"logits": view_logits(forward, _images(samples, loaded), loaded, batch, views),
            "labels": np.array([s.label for s in samples])}


def _serving_set(samples: Sequence[Sample], forward: Forward, loaded: LoadedModel,
                 opts: SuiteOptions) -> dict[str, np.ndarray]:
    frames = serving_frames(samples)
    crops, _ = detect_and_crop(frames, create_detector(opts.detector, max_faces=1), opts.margin, opts.align)
    found = np.array([c is not None for c in crops])
    s = loaded.spec
    images = np.stack([to_model_image(c, s.image_size, s.grayscale, s.in_chans) for c in crops if c is not None]
                      or [np.zeros((s.image_size, s.image_size, s.in_chans), np.uint8)])[: int(found.sum())]
    return {"logits": view_logits(forward, images, loaded, opts.batch_size, opts.views),
            "labels": np.array([smp.label for smp in samples])[found], "found": found}


def _corrupted_set(images: np.ndarray, labels: np.ndarray, spec_index: int, level: float, forward: Forward,
                   loaded: LoadedModel, opts: SuiteOptions) -> dict[str, np.ndarray]:
    gray = corrupt_all(images[..., 0], FER2013_C[spec_index], level, opts.seed)
    return {"logits": view_logits(forward, np.repeat(gray[..., None], images.shape[-1], axis=-1), loaded,
                                  opts.batch_size, opts.views), "labels": labels}


def collect_logits(loaded: LoadedModel, forward: Forward, opts: SuiteOptions,
                   log: Callable[[str], None] = print) -> dict[str, dict[str, np.ndarray]]:
    """Cached (or computed) view logits and labels of every set in ``opts.sets``; FER2013-C sets are keyed
    ``fer2013_c/<corruption>@<level>`` (plus ``fer2013_c/clean``, the uncorrupted subset)."""
    cache = opts.cache_dir / model_digest(loaded) if opts.cache_dir else None
    root = opts.data_root
    out: dict[str, dict[str, np.ndarray]] = {}

    def get(key: str, file_key: str, compute: Callable[[], dict[str, np.ndarray]]) -> None:
        out[key] = _cached(cache, file_key, compute)
        log(f"{key}: {out[key]['logits'].shape[1]} faces, {float(out[key]['seconds']):.0f} s to compute")

    test = read_folder(root / "fer2013", "test")
    ck = read_folder(root / "ckplus48", "all")
    b, v = opts.batch_size, opts.views
    vtag = "" if v == 5 else f"-v{v}"  # fewer views: other cache files
    if "fer2013_val" in opts.sets:
        val = validation_samples(root)
        get("fer2013_val", "fer2013_val", lambda: _clean_set(val, forward, loaded, b))
    if "fer2013_test" in opts.sets:
        get("fer2013_test", f"fer2013_test{vtag}", lambda: _clean_set(test, forward, loaded, b, v))
    if "ckplus" in opts.sets:
        get("ckplus", f"ckplus{vtag}", lambda: _clean_set(ck, forward, loaded, b, v))
    serving = {"serving_fer2013_test": test, "serving_ckplus": ck}
    for key, samples in serving.items():
        if key in opts.sets:
            subset = stratified_subset(samples, opts.serving_limit, opts.seed)
            file_key = (f"{key}-{opts.detector}-m{opts.margin:g}-{'aligned' if opts.align else 'unaligned'}"
                        f"-n{len(subset)}{vtag}")
            get(key, file_key, partial(_serving_set, subset, forward, loaded, opts))
            out[key]["n_images"] = np.array(len(subset))
    if "fer2013_c" in opts.sets:
        subset = stratified_subset(test, opts.corrupt_limit, opts.seed)
        tag = f"n{len(subset)}-s{opts.seed}{vtag}"
        images = _images(subset, loaded)
        labels = np.array([s.label for s in subset])
        get("fer2013_c/clean", f"fer2013_c-clean-{tag}", lambda: _clean_set(subset, forward, loaded, b, v))
        for i, spec in enumerate(FER2013_C):
            for level in spec.levels:
                get(f"fer2013_c/{spec.name}@{level:g}", f"fer2013_c-{spec.name}-{level:g}-{tag}",
                    partial(_corrupted_set, images, labels, i, level, forward, loaded, opts))
    return out


def set_report(logits: np.ndarray, labels: np.ndarray, label_names: Sequence[str], tta: str,
               temperature: float) -> dict[str, Any]:
    """Classification report + calibration of one set for TTA kind ``tta`` at ``temperature``."""
    probs = view_probs(logits[: TTA_VIEW_COUNT[tta]], temperature)
    rep: dict[str, Any] = classification_report(labels, probs.argmax(1), label_names) if len(labels) else {"n": 0}
    rep.update(calibration_summary(probs, labels))
    rep.update({"labels": list(label_names), "tta_views": tta, "temperature": temperature, "loss": rep["nll"]})
    return rep


def _both(logits: np.ndarray, labels: np.ndarray, names: Sequence[str], temps: dict[str, float]) -> dict[str, Any]:
    return {tta: {"calibrated": set_report(logits, labels, names, tta, temps[tta]),
                  "uncalibrated": set_report(logits, labels, names, tta, 1.0)} for tta in available_kinds(logits)}


SUMMARY_KEYS = ("n", "accuracy", "macro_f1", "ece", "nll", "mean_confidence")


def _summary(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: rep[k] for k in SUMMARY_KEYS if k in rep}


def suite_report(logits: dict[str, dict[str, np.ndarray]], label_names: Sequence[str],
                 temperatures: dict[str, float]) -> dict[str, Any]:
    """The suite's report from collected logits, at ``temperatures`` (one per TTA kind) and at T = 1."""
    sets: dict[str, Any] = {}
    seconds = {k: float(v["seconds"]) for k, v in logits.items()}
    for key in ("fer2013_val", "fer2013_test", "ckplus", "serving_fer2013_test", "serving_ckplus"):
        if key not in logits:
            continue
        entry = _both(logits[key]["logits"], logits[key]["labels"], label_names, temperatures)
        if "found" in logits[key]:
            n_images = int(logits[key]["n_images"])
            found = int(logits[key]["found"].sum())
            for tta in entry:
                for rep in entry[tta].values():
                    rep["coverage"] = found / max(1, n_images)
                    rep["n_images"] = n_images
                    rep["accuracy_all"] = rep.get("accuracy", 0.0) * found / max(1, n_images)
        sets[key] = entry
    corrupt = {k.split("/", 1)[1]: v for k, v in logits.items() if k.startswith("fer2013_c/")}
    if corrupt:
        per: dict[str, Any] = {}
        for name, arrays in corrupt.items():
            per[name] = {tta: {state: _summary(set_report(arrays["logits"], arrays["labels"], label_names, tta, t))
                               for state, t in (("calibrated", temperatures[tta]), ("uncalibrated", 1.0))}
                         for tta in available_kinds(arrays["logits"])}
        names = [n for n in corrupt if n != "clean"]
        pooled_logits = np.concatenate([corrupt[n]["logits"] for n in names], axis=1)
        pooled_labels = np.concatenate([corrupt[n]["labels"] for n in names])
        pooled = _both(pooled_logits, pooled_labels, label_names, temperatures)
        mean = {tta: {state: {"mean_accuracy": float(np.mean([per[n][tta][state]["accuracy"] for n in names])),
                              "mean_ece": float(np.mean([per[n][tta][state]["ece"] for n in names]))}
                      for state in ("calibrated", "uncalibrated")} for tta in available_kinds(pooled_logits)}
        sets["fer2013_c"] = {"n_per_set": int(len(corrupt["clean"]["labels"])) if "clean" in corrupt else None,
                             "sets": len(names), "mean": mean, "pooled": pooled, "per_corruption": per}
    return {"sets": sets, "seconds": seconds, "temperatures": dict(temperatures)}


def model_temperatures(loaded: LoadedModel) -> dict[str, float]:
    """The model's calibration temperature for each TTA kind."""
    return {tta: loaded.spec.temperature_for(tta) for tta in TTA_KINDS}


def describe_options(opts: SuiteOptions) -> dict[str, Any]:
    """Options as JSON (paths as strings)."""
    d = asdict(opts)
    d["data_root"], d["cache_dir"] = str(opts.data_root), str(opts.cache_dir) if opts.cache_dir else None
    d["corruptions"] = [{"name": c.name, "levels": list(c.levels), "unit": c.unit} for c in FER2013_C]
    return d


def headline(report: dict[str, Any], tta: str) -> list[dict[str, Any]]:
    """One line per set for TTA kind ``tta``: accuracy, ECE, NLL before → after calibration."""
    rows = []
    for key, entry in report["sets"].items():
        if key == "fer2013_c":
            entry = entry["pooled"]
        before, after = entry[tta]["uncalibrated"], entry[tta]["calibrated"]
        row = {"set": key, "tta": tta, "n": after["n"], "accuracy": round(after["accuracy"], 4),
               "ece_before": round(before["ece"], 4), "ece_after": round(after["ece"], 4),
               "nll_before": round(before["nll"], 4), "nll_after": round(after["nll"], 4)}
        if key == "fer2013_c":
            row["mean_accuracy"] = round(report["sets"]["fer2013_c"]["mean"][tta]["calibrated"]["mean_accuracy"], 4)
        if "coverage" in after:
            row["coverage"] = round(after["coverage"], 4)
        rows.append(row)
    return rows


def write_suite(report: dict[str, Any], out: Path, title: str, diagram_tta: str = "five") -> Path:
    """The JSON report plus ``<out>_<set>_reliability.png`` per set (``diagram_tta``, before and after)."""
    from training.plots import plot_reliability

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    stem = out.with_suffix("")
    for key, entry in report["sets"].items():
        e = entry["pooled"] if key == "fer2013_c" else entry
        if diagram_tta not in e:
            continue
        before, after = e[diagram_tta]["uncalibrated"], e[diagram_tta]["calibrated"]
        curves = {f"T = 1 (ECE {100 * before['ece']:.1f} %)": before["reliability"],
                  f"T = {after['temperature']:.3g} (ECE {100 * after['ece']:.1f} %)": after["reliability"]}
        plot_reliability(curves, f"{stem}_{key}_reliability.png", f"{title}: {key}, {diagram_tta} TTA")
    return out


def load_forward(loaded: LoadedModel, backend: str = "onnxruntime", threads: int = 2) -> Forward:
    """The function that maps a normalised batch to logits: ONNX Runtime (the worker's CPU backend) or torch."""
    if backend == "onnxruntime":
        from bloomwell_ml.onnx_runtime import OnnxModule, onnx_bytes

        return OnnxModule(onnx_bytes(loaded.module, loaded.spec), threads)
    return loaded.module

"""CPU cost per face of the shipped model, each teacher and their ensembles, on one thread.

    .venv/bin/python bench/bench_teachers.py [--seconds 3] [--batch-sizes 1 16] [--backends onnxruntime torch]

Each figure is milliseconds per face for the worker's classify step (the face crop resized to the model input,
normalised, one forward pass, softmax) at a batch size, one intra-op thread; an ensemble's cost is its members'
costs added (they run one after the other on the same crops). Rounds are interleaved (every candidate once per
round, five rounds, the median kept) so a busy machine slows them alike, and the ratio to the shipped model is
measured in the same run.

The last lines per backend measure the worker's own classifier (``EmotionClassifier.predict`` on the same crops,
one thread): 2.2.0 alone against the shipped bundle (``bloomwell_ml.paths.default_model_path()``: the one model
image cut from each crop, each member's input resized from it, every member's forward pass, the mixture) — the
figure the ≤ 2× budget is held to.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from bloomwell_ml.inference import predict_probs
from bloomwell_ml.io import load_model
from bloomwell_ml.paths import convnext_model_path, default_model_path
from bloomwell_ml.preprocess import preprocess_faces
from training.suite import MEMBERS, SHORT


def make_runner(path: Path, backend: str) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The classify step of one model on one thread."""
    loaded = load_model(path)
    module: Callable[[torch.Tensor], torch.Tensor] = loaded.module
    if backend == "onnxruntime":
        from bloomwell_ml.onnx_runtime import OnnxModule, onnx_bytes

        module = OnnxModule(onnx_bytes(loaded.module, loaded.spec), threads=1)

    def run(crops: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            probs: np.ndarray = predict_probs(module, preprocess_faces(crops, loaded.spec)).numpy()
            return probs

    return run


def ms_per_face(run: Callable[[list[np.ndarray]], np.ndarray], crops: list[np.ndarray], seconds: float) -> float:
    """Mean milliseconds per face over repeated calls for about ``seconds``."""
    run(crops)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n == 0:
        run(crops)
        n += 1
    return 1000 * (time.perf_counter() - t0) / (n * len(crops))


def main(argv: list[str] | None = None) -> None:
    """CLI entry point: one line per backend × batch size × candidate."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.0, help="per candidate per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--backends", nargs="+", default=["onnxruntime", "torch"], choices=["onnxruntime", "torch"])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    rng = np.random.default_rng(0)
    names = list(MEMBERS)
    for backend in args.backends:
        runners = {m: make_runner(MEMBERS[m], backend) for m in names}
        for batch in args.batch_sizes:
            crops = [rng.integers(0, 256, (120, 120, 3), dtype=np.uint8) for _ in range(batch)]
            samples: dict[str, list[float]] = {m: [] for m in names}
            for _ in range(args.rounds):
                for m in names:
                    samples[m].append(ms_per_face(runners[m], crops, args.seconds))
            cost = {m: statistics.median(v) for m, v in samples.items()}
            base = cost[names[0]]
            for r in range(1, len(names) + 1):
                for combo in itertools.combinations(names, r):
                    ms = sum(cost[m] for m in combo)
                    label = combo[0] if r == 1 else "+".join(SHORT[m] for m in combo)
                    print(f"{backend:<11} batch {batch:>3}  {label:<20} {ms:7.2f} ms/face  "
                          f"{ms / base:5.2f}x {names[0]}", flush=True)
            worker_classifiers(backend, crops, args.rounds, args.seconds)


def worker_classifiers(backend: str, crops: list[np.ndarray], rounds: int, seconds: float) -> None:
    """2.2.0 against the shipped bundle through the worker's classifier, interleaved rounds, one thread."""
    from services.inference_worker.classifier import EmotionClassifier

    models = {"2.2.0 (worker)": convnext_model_path(), "bundle (worker)": default_model_path()}
    clfs = {k: EmotionClassifier.load(p, device="cpu", precision="fp32", backend=backend,  # type: ignore[arg-type]
                                      threads=1, tta="none") for k, p in models.items()}
    samples: dict[str, list[float]] = {k: [] for k in clfs}
    for _ in range(rounds):
        for k, clf in clfs.items():
            samples[k].append(ms_per_face(clf.predict, crops, seconds))
    cost = {k: statistics.median(v) for k, v in samples.items()}
    base = cost["2.2.0 (worker)"]
    for k, ms in cost.items():
        version = clfs[k].version
        print(f"{backend:<11} batch {len(crops):>3}  {k + ' ' + version:<20} {ms:7.2f} ms/face  {ms / base:5.2f}x "
              "2.2.0 (worker)", flush=True)


if __name__ == "__main__":
    main()

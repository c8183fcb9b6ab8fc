"""Speed of the expression classifier alone: preprocessing + forward, printed as faces/s.

    .venv/bin/python bench/bench_model.py [--model PATH] [--batch-sizes 1 8 32] [--threads 1 2] [--seconds 3] \
        [--tta none flip five]

With a test-time augmentation, every face is classified in all its views in one pass (as the worker does).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from bloomwell_ml.io import load_model
from bloomwell_ml.paths import convnext_model_path
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.tta import TTA_KINDS, TestTimeAugmentation, tta_views


def bench(model_path: Path, batch: int, threads: int, seconds: float, channels_last: bool,
          tta: TestTimeAugmentation = "none") -> float:
    """Faces per second for `batch`-sized calls on `threads` threads (each face in all its `tta` views)."""
    torch.set_num_threads(threads)
    loaded = load_model(model_path, "cpu")
    module = loaded.module
    if channels_last and isinstance(module, torch.nn.Module) and not isinstance(module, torch.jit.ScriptModule):
        module = module.to(memory_format=torch.channels_last)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (96, 80, 3), dtype=np.uint8) for _ in range(batch)]
    with torch.inference_mode():
        for _ in range(3):
            module(preprocess_faces(crops, loaded.spec))
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            x = tta_views(preprocess_faces(crops, loaded.spec), tta).flatten(0, 1)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            module(x)
            n += batch
    return n / (time.perf_counter() - t0)


def main() -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=convnext_model_path())
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-channels-last", action="store_true")
    ap.add_argument("--tta", nargs="+", default=["none"], choices=TTA_KINDS)
    args = ap.parse_args()
    print(f"model {args.model}")
    for tta in args.tta:
        for threads in args.threads:
            for batch in args.batch_sizes:
                fps = bench(args.model, batch, threads, args.seconds, not args.no_channels_last, tta)
                print(f"tta={tta:4s} threads={threads} batch={batch:3d}: {fps:8.1f} faces/s", flush=True)


if __name__ == "__main__":
    main()

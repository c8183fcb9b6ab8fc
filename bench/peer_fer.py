"""The peer: PyPI ``fer`` 25.10.3 (``Video.analyze`` with its MTCNN face detector) on every frame of one video.

Run by ``bench/bench_runtime.py`` inside a scratch venv (never a dependency of Bloomwell); prints one JSON line per
run: ``{"frames": N, "seconds": S, "faces": F}``. The models are loaded before the first timed run, so only
``Video.analyze`` is timed.

    <scratch venv>/bin/python bench/peer_fer.py VIDEO [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("video")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    # torch (fer's MTCNN) before TensorFlow (fer's classifier): the other order crashes in torchvision's import here
    import facenet_pytorch  # noqa: F401
    import torch  # noqa: F401
    from fer.classes import Video  # the peer, installed in the scratch venv only
    from fer.fer import FER

    detector = FER(mtcnn=True)
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):
            video = Video(args.video, outdir=out)
            t0 = time.perf_counter()
            rows = video.analyze(detector, display=False, save_frames=False, save_video=False,
                                 annotate_frames=False, zip_images=False, output="pandas")
            seconds = time.perf_counter() - t0
            frames = int(video.frameCount) if hasattr(video, "frameCount") else len(rows)
            print(json.dumps({"frames": frames, "seconds": seconds, "faces": len(rows)}), flush=True)


if __name__ == "__main__":
    main()

"""The analysis engine, old default against new, side by side in one run (prints figures, asserts nothing).

    .venv/bin/python bench/bench_engine.py                       # every section
    .venv/bin/python bench/bench_engine.py --sections detect smoothing --repeats 1

Sections:

- ``detect``: every face detector on the sampled frames (5 frames/s) of every shared video: ms/frame, frames with
  a face, faces, agreement with MTCNN's boxes (IoU ≥ 0.5), and boxes no other detector confirms (on the stage
  clip most of those are false boxes; there is no hand-labelled ground truth, so this is a proxy, said as such).
- ``e2e``: the whole pipeline per video at 5 frames/s, the old default (MTCNN, 5-view TTA, PyTorch) and the new
  default (the worker's settings: YuNet, its TTA, ONNX Runtime on CPU), interleaved run by run so both see the
  same machine load; per-stage seconds, frames/s, p50/p95 and the ratio old/new.
- ``every-frame``: analysing every frame of ``fer_woman2.mp4`` and ``1zlab_face.mp4`` with one view.
- ``concurrent``: videos/min for 1, 4 and 16 queued videos in one worker process (``WORKER_JOBS`` threads, one
  shared model behind one forward-pass thread, as ``services.inference_worker.runtime`` runs them).
- ``smoothing``: the primary person's expression changes per video for none / gaussian / hmm smoothing (the
  ``huimiang_*`` clips change expression once).

The machine's load average is printed with the figures: other jobs slow everything down, so compare only figures
of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the worker does

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bloomwell_ml.faces import Box, FaceDetector, create_detector  # noqa: E402
from bloomwell_ml.paths import default_model_path  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402
from services.inference_worker.batching import BatchingClassifier  # noqa: E402
from services.inference_worker.classifier import EmotionClassifier  # noqa: E402
from services.inference_worker.config import WorkerSettings  # noqa: E402
from services.inference_worker.frames import sample_frames  # noqa: E402
from services.inference_worker.pipeline import AnalysisOutput, Classifier, PipelineOptions, analyze_video  # noqa: E402
from services.inference_worker.smoothing import SmoothingOptions  # noqa: E402

VIDEOS = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "videos"
STAGE_CLIP = "face_recognition_short_hamilton_clip.mp4"
SINGLE_FACE_CLIP = "fer_woman2.mp4"
EVERY_FRAME_CLIPS = ("fer_woman2.mp4", "1zlab_face.mp4")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation); nan when empty."""
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def matched(box: Box, others: list[Box], threshold: float = 0.5) -> bool:
    """Whether any of ``others`` overlaps ``box`` by at least ``threshold`` IoU."""
    return any(iou(box, o) >= threshold for o in others)


def load_frames(videos: list[Path], fps: float, max_pixels: int | None) -> dict[Path, list[np.ndarray]]:
    """The frames the worker would sample, already downscaled as it downscales them."""
    out = {}
    for video in videos:
        with contextlib.closing(sample_frames(video, fps, max_duration_s=60.0, max_pixels=max_pixels)) as frames:
            out[video] = [f.image for f in frames]
    return out


def bench_detect(frames: dict[Path, list[np.ndarray]], names: list[str]) -> None:
    print("\n## Face detectors on the worker's sampled frames (5 frames/s; agreement = IoU ≥ 0.5)")
    detections: dict[str, dict[Path, list[list[Box]]]] = {}
    speed: dict[str, dict[Path, float]] = {}
    for name in names:
        detector = create_detector(name)
        detector.detect(next(iter(frames.values()))[:1])  # warm-up (model load, first-call allocations)
        detections[name], speed[name] = {}, {}
        for video, images in frames.items():
            t0 = time.perf_counter()
            detections[name][video] = detector.detect(images)
            speed[name][video] = (time.perf_counter() - t0) * 1000 / max(1, len(images))
    print(f"{'detector':8s} {'video':42s} {'frames':>6s} {'ms/frame':>8s} {'w/ face':>8s} {'faces':>6s} "
          f"{'MTCNN found':>11s} {'confirmed':>10s} {'unconfirmed':>11s}")
    for name in names:
        totals = [0, 0, 0, 0, 0, 0, 0]  # frames, with face, faces, mtcnn boxes, mtcnn matched, confirmed, unconfirmed
        total_ms = 0.0
        for video, images in frames.items():
            own = detections[name][video]
            ref = detections.get("mtcnn", {}).get(video)
            others = [detections[o][video] for o in names if o != name]
            with_face = sum(1 for boxes in own if boxes)
            faces = sum(len(boxes) for boxes in own)
            ref_boxes = ref_hit = 0
            if ref is not None:
                for mine, theirs in zip(own, ref, strict=True):
                    ref_boxes += len(theirs)
                    ref_hit += sum(1 for b in theirs if matched(b, mine))
            confirmed = sum(1 for i, boxes in enumerate(own) for b in boxes
                            if any(matched(b, other[i]) for other in others))
            unconfirmed = faces - confirmed
            ms = speed[name][video]
            total_ms += ms * len(images)
            for k, v in enumerate((len(images), with_face, faces, ref_boxes, ref_hit, confirmed, unconfirmed)):
                totals[k] += v
            mt = f"{ref_hit}/{ref_boxes}" if ref is not None and name != "mtcnn" else "—"
            print(f"{name:8s} {video.name[:42]:42s} {len(images):6d} {ms:8.1f} {with_face:4d}/{len(images):<3d} "
                  f"{faces:6d} {mt:>11s} {confirmed:10d} {unconfirmed:11d}")
        n, wf, fc, rb, rh, cf, uc = totals
        mt = f"{rh}/{rb} ({100 * rh / rb:.0f} %)" if rb and name != "mtcnn" else "—"
        print(f"{name:8s} {'ALL':42s} {n:6d} {total_ms / n:8.1f} {wf:4d}/{n:<3d} {fc:6d} {mt:>11s} {cf:10d} {uc:11d}")


def run_once(video: Path, classifier: Classifier, detector: FaceDetector, options: PipelineOptions,
             tmp: Path) -> tuple[float, AnalysisOutput]:
    """Seconds for one pipeline run, and its output."""
    t0 = time.perf_counter()
    out = analyze_video(video, classifier=classifier, detector=detector, options=options,
                        crops_dir=tmp / f"{video.stem}-{time.perf_counter_ns()}")
    return time.perf_counter() - t0, out


def timed_run(video: Path, classifier: Classifier, detector: FaceDetector, options: PipelineOptions,
              tmp: Path) -> tuple[float, float, AnalysisOutput]:
    """Wall seconds, CPU seconds of this process (all its threads: less sensitive to other jobs' load) and the
    output of one pipeline run."""
    c0 = time.process_time()
    seconds, out = run_once(video, classifier, detector, options, tmp)
    return seconds, time.process_time() - c0, out


def bench_e2e(videos: list[Path], model: Path, settings: WorkerSettings, repeats: int, tmp: Path) -> None:
    new_options = settings.pipeline_options(5.0)
    configs = {
        "old": ("mtcnn", "five", "torch", replace(new_options, align_faces=False)),
        "new": (settings.face_detector, settings.inference_tta, settings.inference_backend, new_options),
    }
    print(f"\n## End to end per video, 5 frames/s, {repeats} runs each, interleaved. old = MTCNN + five-view TTA "
          f"on PyTorch; new = {settings.face_detector} + {settings.inference_tta} TTA on backend "
          f"{settings.inference_backend} (the worker's defaults)")
    runners: dict[str, tuple[BatchingClassifier, FaceDetector, PipelineOptions]] = {}
    for label, (detector_name, tta, backend, options) in configs.items():
        clf = BatchingClassifier(EmotionClassifier.load(model, tta=tta, backend=backend))
        runners[label] = (clf, create_detector(detector_name), options)
        run_once(videos[0], clf, runners[label][1], options, tmp)  # warm-up
    print(f"{'video':42s} {'cfg':3s} {'frames':>6s} {'faces':>5s} {'decode':>6s} {'detect':>6s} {'track':>5s} "
          f"{'crop':>5s} {'classify':>8s} {'p50 s':>6s} {'p95 s':>6s} {'frames/s':>8s} {'old/new':>7s} "
          f"{'CPU s':>6s} {'old/new':>7s}")
    for video in videos:
        runs: dict[str, list[float]] = {k: [] for k in runners}
        cpu: dict[str, list[float]] = {k: [] for k in runners}
        last: dict[str, AnalysisOutput] = {}
        for _ in range(repeats):
            for label, (clf, det, options) in runners.items():
                seconds, cpu_s, out = timed_run(video, clf, det, options, tmp)
                runs[label].append(seconds)
                cpu[label].append(cpu_s)
                last[label] = out
        for label in runners:
            t = last[label].timings
            p50, c50 = pct(runs[label], 50), pct(cpu[label], 50)
            ratio = f"{pct(runs['old'], 50) / p50:6.1f}×" if label == "new" else ""
            cpu_ratio = f"{pct(cpu['old'], 50) / c50:6.1f}×" if label == "new" else ""
            print(f"{video.name[:42]:42s} {label:3s} {t.frames:6d} {t.faces:5d} {t.decode:6.2f} {t.detect:6.2f} "
                  f"{t.track:5.2f} {t.crop:5.2f} {t.classify:8.2f} {p50:6.2f} {pct(runs[label], 95):6.2f} "
                  f"{t.frames / p50:8.1f} {ratio:>7s} {c50:6.2f} {cpu_ratio:>7s}")
    for clf, _, _ in runners.values():
        clf.close()


def bench_every_frame(videos: list[Path], model: Path, settings: WorkerSettings, tmp: Path) -> None:
    print(f"\n## Every frame, one view ({settings.face_detector}, backend {settings.inference_backend})")
    clf = BatchingClassifier(EmotionClassifier.load(model, tta="none", backend=settings.inference_backend))
    det = create_detector(settings.face_detector)

    for video in videos:
        cap = cv2.VideoCapture(str(video))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        cap.release()
        options = settings.pipeline_options(fps)  # every frame, even past MAX_SAMPLE_FPS:
        options = replace(options, aggregate=replace(options.aggregate, sample_fps=fps))
        seconds, out = run_once(video, clf, det, options, tmp)
        t = out.timings
        print(f"{video.name:42s} {t.frames:5d} frames at {fps:4.1f} fps in {seconds:6.2f} s: "
              f"{t.frames / seconds:6.1f} frames/s (decode {t.decode:.2f}, detect {t.detect:.2f}, crop "
              f"{t.crop:.2f}, classify wait {t.classify:.2f}, {t.faces} faces)")
    clf.close()


def bench_concurrent(videos: list[Path], model: Path, settings: WorkerSettings, counts: list[int],
                     jobs_options: list[int], tmp: Path) -> None:
    print("\n## Queued videos through one worker process (WORKER_JOBS threads, one shared model and forward-pass "
          "thread, per-thread detectors), the shared videos in turn at 5 frames/s")
    clf = EmotionClassifier.load(model, tta=settings.inference_tta, backend=settings.inference_backend)
    options = settings.pipeline_options(5.0)
    print(f"{'videos':>6s} {'jobs':>4s} {'seconds':>8s} {'videos/min':>10s} {'faces per forward pass':>22s}")
    for jobs in jobs_options:
        for count in counts:
            batching = BatchingClassifier(clf, max_batch=settings.classifier_max_batch)
            queue = [videos[i % len(videos)] for i in range(count)]
            seconds = run_queue(queue, batching, settings.face_detector, options, jobs, tmp)
            batching.close()
            mean_batch = batching.faces / max(1, batching.passes)
            print(f"{count:6d} {jobs:4d} {seconds:8.1f} {60 * count / seconds:10.1f} {mean_batch:22.1f}")


def run_queue(queue: list[Path], batching: BatchingClassifier, detector_name: str, options: PipelineOptions,
              jobs: int, tmp: Path) -> float:
    """Seconds to analyse every video of ``queue`` on ``jobs`` threads sharing ``batching``."""
    local = threading.local()

    def job(video: Path) -> tuple[float, AnalysisOutput]:
        if not hasattr(local, "detector"):
            local.detector = create_detector(detector_name)
        return run_once(video, batching, local.detector, options, tmp)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(job, queue))
    return time.perf_counter() - t0


def bench_smoothing(videos: list[Path], model: Path, settings: WorkerSettings, tmp: Path) -> None:
    print("\n## Smoothing: the primary person's expression changes (dominant expression), same frames and "
          f"probabilities ({settings.face_detector}, {settings.inference_tta} TTA, 5 frames/s)")
    clf = BatchingClassifier(EmotionClassifier.load(model, tta=settings.inference_tta,
                                                    backend=settings.inference_backend))
    det = create_detector(settings.face_detector)
    base = settings.pipeline_options(5.0)
    smoothers = {
        "none": SmoothingOptions(method="none"),
        "gaussian 0.6 s": SmoothingOptions(method="gaussian", sigma_s=0.6),
        "hmm tau 1 s": SmoothingOptions(method="hmm", tau_s=1.0),
        "hmm tau 2 s": SmoothingOptions(method="hmm", tau_s=2.0),
        "hmm tau 4 s": SmoothingOptions(method="hmm", tau_s=4.0),
    }
    print(f"{'video':42s} {'length s':>8s} " + " ".join(f"{k:>14s}" for k in smoothers) + "   dominant (hmm 2 s)")
    for video in videos:
        cells, dominant, length = [], "", 0.0
        for label, smoothing in smoothers.items():
            _, out = run_once(video, clf, det, replace(base, aggregate=replace(base.aggregate, smoothing=smoothing)),
                              tmp)
            indicators = out.summary.indicators
            cells.append(str(indicators.expression_changes) if indicators else "—")
            length = out.duration_s
            if label == "hmm tau 2 s":
                dominant = str(out.summary.dominant_emotion)
        print(f"{video.name[:42]:42s} {length:8.1f} " + " ".join(f"{c:>14s}" for c in cells) + f"   {dominant}")
    clf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["detect", "e2e", "every-frame", "concurrent", "smoothing"])
    parser.add_argument("--detectors", nargs="+", default=["yunet", "mtcnn", "haar"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--counts", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2], help="WORKER_JOBS values to compare")
    parser.add_argument("--videos", nargs="+", default=None, help="only these shared videos (file names)")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the shipped model)")
    args = parser.parse_args()
    settings = WorkerSettings()
    model = args.model or settings.model_path or default_model_path()
    videos = sorted(VIDEOS.glob("*.mp4")) + sorted(VIDEOS.glob("*.avi"))
    if args.videos:
        videos = [v for v in videos if v.name in args.videos]
    if not videos:
        sys.exit(f"no videos under {VIDEOS}")
    print("# Bloomwell analysis engine: old default vs new")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at "
          f"start; model {model}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "detect" in args.sections:
            bench_detect(load_frames(videos, 5.0, settings.max_frame_pixels), args.detectors)
        if "e2e" in args.sections:
            bench_e2e(videos, model, settings, args.repeats, tmp)
        if "every-frame" in args.sections:
            bench_every_frame([VIDEOS / n for n in EVERY_FRAME_CLIPS], model, settings, tmp)
        if "concurrent" in args.sections:
            bench_concurrent(videos, model, settings, args.counts, args.jobs, tmp)
        if "smoothing" in args.sections:
            bench_smoothing(videos, model, settings, tmp)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

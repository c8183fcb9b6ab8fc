"""The light, fast runtime (issue 23): every frame in-process and through the API, side by side with PyPI ``fer``
25.10.3 in the same run, and the worker's cold start (prints figures, asserts nothing).

    .venv/bin/python bench/bench_runtime.py                                   # every section, ≈5 min on 2 cores
    .venv/bin/python bench/bench_runtime.py --sections inprocess fer --repeats 3
    .venv/bin/python bench/bench_runtime.py --sections api

Sections:

- ``inprocess``: every frame of each video (``--videos``, default ``fer_woman2.mp4``) through
  :func:`services.inference_worker.pipeline.analyze_video` with the worker's settings (one shared forward-pass
  thread, as a worker process runs it); frames/s = frames analysed / wall seconds, p50 over ``--repeats`` runs.
- ``fer``: the peer, PyPI ``fer`` 25.10.3 (``Video.analyze`` with MTCNN, its recommended detector) on the same
  video, in a scratch venv created on first use (``--fer-venv``, default ``~/.cache/bloomwell/bench-fer-25.10.3``;
  ≈6 GB: TensorFlow and PyTorch; never a dependency of Bloomwell). Its models are loaded before the timed runs.
- ``api``: the product as ``make run`` starts it (``scripts.run_stack``, fresh data dir): seconds to a ready stack,
  the first job on the fresh stack against warm jobs (``fer_woman2.mp4`` at the default 5 frames/s; seconds from the
  upload's first byte to the result fetched), then every frame through the API (``sample_fps`` = the video's rate):
  frames in the result / seconds from upload to result, p50 over ``--repeats``; with where the time went (upload
  answered, analysis to its terminal event, result fetched) and the CPU seconds each part of the stack used per job
  (gateway, worker, auth, Redis, and this process as the client: a measure of the work that the machine's load does
  not change much).
- ``segments`` (where the pipeline has ``DETECT_INTERVAL_S``): each person's smoothed segments on every shared
  video, every frame analysed, with the worker's default schedules (detection every ``DETECT_INTERVAL_S``, a face
  classified again when it changed or every ``CLASSIFY_INTERVAL_S``) against detection on every frame and
  classification of every face, listing any difference.

Compare only figures of one run: the machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the worker does

import cv2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bloomwell_ml.faces import create_detector  # noqa: E402
from services.inference_worker.batching import BatchingClassifier  # noqa: E402
from services.inference_worker.classifier import EmotionClassifier  # noqa: E402
from services.inference_worker.config import WorkerSettings  # noqa: E402
from services.inference_worker.pipeline import AnalysisOutput, PipelineOptions, Timings, analyze_video  # noqa: E402

VIDEOS = Path(os.environ.get("BLOOMWELL_SHARED_DATA", ROOT.parent / "shared" / "data")) / "videos"
FER_VERSION = "25.10.3"
DEFAULT_FER_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bloomwell" / \
    f"bench-fer-{FER_VERSION}"
# The peer's packages: fer without its dependencies (moviepy and ffmpeg-python serve audio only; tensorflow-cpu is
# the CPU build of its tensorflow), then what its Video.analyze with MTCNN imports (opencv-contrib-python, as it asks).
FER_PACKAGES = [["--no-deps", f"fer=={FER_VERSION}", "facenet-pytorch==2.6.0"],
                ["tensorflow-cpu==2.21.0", "torch==2.14.1", "torchvision==0.29.1", "pandas", "tqdm", "requests",
                 "pillow", "setuptools<81", "opencv-contrib-python==4.11.0.86"]]


def p50(values: list[float]) -> float:
    """The median (nan when empty)."""
    return statistics.median(values) if values else float("nan")


def video_fps(video: Path) -> float:
    """The container's frame rate (30 when it does not say)."""
    cap = cv2.VideoCapture(str(video))
    try:
        return float(cap.get(cv2.CAP_PROP_FPS) or 30.0)
    finally:
        cap.release()


def every_frame_options(settings: WorkerSettings, fps: float, **overrides: Any) -> PipelineOptions:
    """The worker's pipeline options with every frame of a ``fps`` video analysed."""
    options = settings.pipeline_options(fps)
    if options.sample_fps != fps:  # a rate above the API's limit
        options = replace(options, aggregate=replace(options.aggregate, sample_fps=fps))
    known = {f.name for f in fields(PipelineOptions)}
    return replace(options, **{k: v for k, v in overrides.items() if k in known})


def make_runner(settings: WorkerSettings) -> tuple[BatchingClassifier, Any]:
    """The classifier thread and a detector, made as a worker process makes them."""
    classifier = EmotionClassifier.load(settings.resolved_model_path, device=settings.inference_device,
                                        precision=settings.inference_precision, tta=settings.inference_tta,
                                        backend=settings.inference_backend, threads=settings.torch_num_threads,
                                        max_batch=settings.classifier_max_batch)
    detector = create_detector(settings.face_detector, max_faces=settings.max_faces_per_frame,
                               min_face_frac=settings.min_face_frac, min_face_px=settings.min_face_px,
                               max_side=settings.detector_max_side,
                               score_threshold=settings.detector_score_threshold)
    return BatchingClassifier(classifier, max_batch=settings.classifier_max_batch), detector


def run_pipeline(video: Path, runner: tuple[BatchingClassifier, Any], options: PipelineOptions,
                 tmp: Path) -> tuple[float, AnalysisOutput]:
    """Wall seconds of one analysis and its output."""
    classifier, detector = runner
    t0 = time.perf_counter()
    out = analyze_video(video, classifier=classifier, detector=detector, options=options,
                        crops_dir=tmp / f"crops-{uuid.uuid4().hex}")
    return time.perf_counter() - t0, out


def bench_inprocess(videos: list[Path], settings: WorkerSettings, repeats: int, tmp: Path) -> dict[str, float]:
    print(f"\n## Every frame in-process ({settings.face_detector}, backend {settings.inference_backend}, "
          f"TTA {settings.inference_tta}), p50 of {repeats} runs")
    runner = make_runner(settings)
    results: dict[str, float] = {}
    for video in videos:
        options = every_frame_options(settings, video_fps(video))
        run_pipeline(video, runner, options, tmp)  # warm-up: first-call allocations, page cache
        seconds: list[float] = []
        last = Timings()
        for _ in range(repeats):
            s, out = run_pipeline(video, runner, options, tmp)
            seconds.append(s)
            last = out.timings
        frames = last.frames
        fps = frames / p50(seconds)
        results[video.name] = fps
        print(f"{video.name:42s} {frames:4d} frames  p50 {p50(seconds):6.2f} s  {fps:7.1f} frames/s  "
              f"(runs {', '.join(f'{s:.2f}' for s in seconds)}; last run: {last.detections} frames "
              f"detected in {last.detect:.2f} s, {last.faces} faces classified, {last.reused} reused, "
              f"crop {last.crop:.2f} s, classify wait {last.classify:.2f} s)")
    runner[0].close()
    return results


def ensure_fer_venv(venv: Path) -> Path:
    """The scratch venv's python, created (from PyPI and this machine's wheel mirrors) when missing."""
    python = venv / "bin" / "python"
    stamp = venv / ".bench-ready"
    if stamp.exists():
        return python
    print(f"creating the peer's scratch venv {venv} (once; several minutes) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    for packages in FER_PACKAGES:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    stamp.write_text(FER_VERSION)
    return python


def bench_fer(videos: list[Path], venv: Path, repeats: int) -> dict[str, float]:
    python = ensure_fer_venv(venv)
    print(f"\n## PyPI fer {FER_VERSION}: Video.analyze(FER(mtcnn=True)), every frame, p50 of {repeats} runs "
          f"(scratch venv {venv})")
    results: dict[str, float] = {}
    env = {**os.environ, "TQDM_DISABLE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    for video in videos:
        proc = subprocess.run([str(python), str(ROOT / "bench" / "peer_fer.py"), str(video), "--repeats",
                               str(repeats)], capture_output=True, text=True, env=env, timeout=3600)
        runs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not runs:
            print(f"{video.name:42s} fer failed (exit {proc.returncode}): {proc.stderr[-1500:]}")
            continue
        seconds = [r["seconds"] for r in runs]
        frames = runs[-1]["frames"]
        results[video.name] = frames / p50(seconds)
        print(f"{video.name:42s} {frames:4d} frames  p50 {p50(seconds):6.2f} s  {results[video.name]:7.1f} frames/s  "
              f"(runs {', '.join(f'{s:.2f}' for s in seconds)}; {runs[-1]['faces']} frames with a face)")
    return results


@dataclass
class JobTimes:
    """One job through the API, in seconds from the upload's first byte: the upload answered (``202``, after the
    gateway's checks), the terminal event received, the result fetched; and the result's frame count."""

    accepted: float
    ended: float
    fetched: float
    frames: int


def _timed_job(client: Any, video: Path, sample_fps: float | None) -> JobTimes:
    """Upload ``video``, follow its events to the end and fetch the result (then delete it)."""
    t0 = time.perf_counter()
    created = client.upload(video, sample_fps=sample_fps)
    accepted = time.perf_counter() - t0
    client.wait(created.id, timeout_s=600)
    ended = time.perf_counter() - t0
    result = client.result_json(created.id)
    fetched = time.perf_counter() - t0
    client.delete(created.id)
    return JobTimes(accepted, ended, fetched, len(result.frames))


def _process_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each part of the stack this process started (its descendants,
    summed by role: gateway, worker, auth, redis) and by this process (the client)."""
    stats: dict[int, tuple[int, float, str]] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields_ = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stats[int(entry.name)] = (int(fields_[1]), (int(fields_[11]) + int(fields_[12])) / ticks, command)
    roles = (("services.api", "gateway"), ("celery", "worker"), ("services.auth", "auth"), ("redis-server", "redis"))
    usage: dict[str, float] = {}
    parents = [os.getpid()]
    while parents:
        parent = parents.pop()
        for pid, (ppid, cpu, command) in stats.items():
            if ppid == parent:
                parents.append(pid)
                role = next((name for key, name in roles if key in command), None)
                if role is not None:
                    usage[role] = usage.get(role, 0.0) + cpu
    own = os.times()
    usage["client"] = own.user + own.system
    return usage


def bench_api(videos: list[Path], repeats: int) -> dict[str, float]:
    from bloomwell_client.client import BloomwellClient, TokenStore
    from tests.browser.stack import running_stack

    print("\n## Through the API: the stack as `make run` starts it (scripts.run_stack, fresh data dir)")
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as config:
        t0 = time.perf_counter()
        with running_stack(Path(data)) as stack:
            results["ready_s"] = time.perf_counter() - t0
            print(f"stack ready (GET /readyz 200) {results['ready_s']:.1f} s after start")
            with BloomwellClient(stack.base_url, TokenStore(Path(config)), timeout_s=120) as client:
                email, password = f"bench-{uuid.uuid4().hex[:10]}@example.org", "bench-" + uuid.uuid4().hex
                client.signup(email, password, "Bench", "Runtime")
                client.login(email, password)
                first = videos[0]
                cold = _timed_job(client, first, None).fetched
                warm = [_timed_job(client, first, None).fetched for _ in range(max(2, repeats))]
                results["cold_s"], results["warm_s"] = cold, p50(warm)
                print(f"{first.name}, default rate: first job on the fresh stack {cold:.2f} s, warm jobs p50 "
                      f"{p50(warm):.2f} s (runs {', '.join(f'{s:.2f}' for s in warm)}): first/warm "
                      f"{cold / p50(warm):.2f}×")
                for video in videos:
                    fps = video_fps(video)
                    before = _process_cpu_s()
                    runs = [_timed_job(client, video, fps) for _ in range(repeats)]
                    after = _process_cpu_s()
                    seconds = [run.fetched for run in runs]
                    frames = runs[-1].frames
                    results[video.name] = frames / p50(seconds)
                    print(f"{video.name:42s} every frame ({fps:.2f}/s): {frames:4d} frames  p50 {p50(seconds):6.2f} s"
                          f"  {results[video.name]:7.1f} frames/s (runs {', '.join(f'{s:.2f}' for s in seconds)})")
                    print(f"    where the time went (p50 s): upload answered 202 "
                          f"{p50([r.accepted for r in runs]):.2f}, analysis to its terminal event "
                          f"{p50([r.ended - r.accepted for r in runs]):.2f}, result fetched "
                          f"{p50([r.fetched - r.ended for r in runs]):.2f}")
                    cpu = {role: (after.get(role, 0.0) - before.get(role, 0.0)) / repeats for role in after}
                    print("    CPU seconds per job: " + ", ".join(
                        f"{role} {value:.2f}" for role, value in sorted(cpu.items(), key=lambda kv: -kv[1])))
    return results


def person_segments(out: AnalysisOutput) -> dict[str, list[tuple[str, float, float]]]:
    """Each person's smoothed segments ``(emotion or gap reason, start s, end s)``, by person label."""
    people = out.document.model_dump(mode="json")["people"]
    segments: dict[str, list[tuple[str, float, float]]] = {}
    for person in people:
        segments[str(person.get("label"))] = [
            (str(s.get("emotion") or f"({s.get('gap_reason')})"), float(s["start_t"]), float(s["end_t"]))
            for s in person.get("segments") or []]
    return segments


def bench_segments(settings: WorkerSettings, tmp: Path) -> None:
    if "detect_interval_s" not in {f.name for f in fields(PipelineOptions)}:
        print("\n## Segments: this pipeline detects on every frame (no DETECT_INTERVAL_S): nothing to compare")
        return
    print("\n## Each person's smoothed segments, every frame analysed: the worker's schedule vs detection on every "
          "frame (and classification of every face)")
    runner = make_runner(settings)
    videos = sorted(VIDEOS.glob("*.mp4")) + sorted(VIDEOS.glob("*.avi"))
    for video in videos:
        fps = video_fps(video)
        _, fast = run_pipeline(video, runner, every_frame_options(settings, fps), tmp)
        _, full = run_pipeline(video, runner, every_frame_options(settings, fps, detect_interval_s=0.0,
                                                                            classify_interval_s=0.0),
                               tmp)
        a, b = person_segments(fast), person_segments(full)
        same = a == b
        print(f"{video.name:42s} people {len(a)} vs {len(b)}; detections {fast.timings.detections} vs "
              f"{full.timings.detections}, faces classified {fast.timings.faces} vs {full.timings.faces}: "
              f"{'segments identical' if same else 'DIFFERENT'}")
        if not same:
            for label in sorted(set(a) | set(b)):
                if a.get(label) != b.get(label):
                    print(f"    {label}: schedule {a.get(label)}\n    {' ' * len(label)}  full     {b.get(label)}")
    runner[0].close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["inprocess", "fer", "api", "segments"])
    parser.add_argument("--videos", nargs="+", default=["fer_woman2.mp4"], help="shared videos (file names)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fer-venv", type=Path, default=DEFAULT_FER_VENV)
    args = parser.parse_args()
    videos = [VIDEOS / name for name in args.videos]
    missing = [v for v in videos if not v.is_file()]
    if missing:
        sys.exit(f"missing videos: {missing}")
    settings = WorkerSettings()
    print("# Bloomwell runtime: every frame vs PyPI fer, cold start")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at "
          f"start; model {settings.resolved_model_path}")
    ours: dict[str, float] = {}
    peer: dict[str, float] = {}
    api: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if "inprocess" in args.sections:
            ours = bench_inprocess(videos, settings, args.repeats, tmp)
        if "fer" in args.sections:
            peer = bench_fer(videos, args.fer_venv, args.repeats)
        if "api" in args.sections:
            api = bench_api(videos, args.repeats)
        if "segments" in args.sections:
            bench_segments(settings, tmp)
    if peer:
        print("\n## Side by side (frames/s, every frame; same run)")
        for video in videos:
            row = [f"{video.name:42s}", f"fer {peer.get(video.name, float('nan')):7.1f}"]
            for label, figures in (("in-process", ours), ("API", api)):
                if video.name in figures:
                    ratio = figures[video.name] / peer[video.name] if video.name in peer else float("nan")
                    row.append(f"{label} {figures[video.name]:7.1f} ({ratio:4.1f}× fer)")
            print("  ".join(row))
    with contextlib.suppress(OSError):
        print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

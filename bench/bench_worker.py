"""Speed of the inference worker's pipeline on the shared real videos (prints figures, asserts nothing).

    .venv/bin/python bench/bench_worker.py                     # everything, default model if present
    .venv/bin/python bench/bench_worker.py --quick             # fewer repeats
    .venv/bin/python bench/bench_worker.py --model PATH --detectors haar mtcnn --threads 2

Sections: (1) decode + sample frames/s, (2) face detection ms/frame per detector (and how many sampled
frames got a face), (3) classifier faces/s, one forward pass per batch vs one crop at a time, fp32 vs
bf16 autocast, (4) end-to-end latency of the pipeline per video (decode → detect → classify →
aggregate → crops), p50/p95 over repeats, (5) what re-identification adds per video (off/on in the same run).
Other jobs on the machine slow everything down: the load
average is printed with the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the worker does (services/inference_worker/worker.py)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bloomwell_ml.arch import create_model  # noqa: E402
from bloomwell_ml.crop import crop_square  # noqa: E402
from bloomwell_ml.faces import create_detector  # noqa: E402
from bloomwell_ml.io import save_model  # noqa: E402
from bloomwell_ml.paths import default_model_path  # noqa: E402
from bloomwell_ml.spec import ModelSpec  # noqa: E402
from bloomwell_ml.tta import TTA_KINDS, TestTimeAugmentation, resolve_tta  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402
from services.common.video import decode_frames  # noqa: E402
from services.inference_worker.aggregate import AggregateOptions  # noqa: E402
from services.inference_worker.classifier import EmotionClassifier, Precision  # noqa: E402
from services.inference_worker.config import WorkerSettings  # noqa: E402
from services.inference_worker.frames import SampleClock  # noqa: E402
from services.inference_worker.pipeline import PipelineOptions, analyze_video  # noqa: E402
from services.inference_worker.torch_backend import cpu_supports_bf16  # noqa: E402

VIDEOS = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "videos"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (linear interpolation)."""
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def resolve_model(path: str | None, tmp: Path) -> tuple[Path, str]:
    """The model to measure: --model, else the shipped default, else an untrained model of the default
    training preset's architecture (same cost per face as the trained one)."""
    if path:
        return Path(path), "given"
    default = default_model_path()
    if default.is_file():
        return default, "shipped default"
    spec = ModelSpec(name="untrained-default-size", version="0")
    preset = REPO_ROOT / "training" / "configs" / "default.yaml"
    if preset.is_file():
        import yaml

        model_cfg = yaml.safe_load(preset.read_text())["model"]
        spec = ModelSpec(arch=model_cfg["arch"], arch_kwargs=dict(model_cfg.get("kwargs") or {}),
                         image_size=model_cfg["image_size"], in_chans=model_cfg.get("in_chans", 3),
                         grayscale=model_cfg.get("grayscale", True), name="untrained-default-preset", version="0")
    model = create_model(spec.arch, num_classes=spec.num_classes, **spec.arch_kwargs)
    origin = "untrained, default preset architecture (no shipped model yet)"
    return save_model(tmp / "untrained.pt", model, spec), origin


def bench_decode(videos: list[Path], sample_fps: float) -> None:
    print(f"\n## 1. Decode + sample ({sample_fps:g} frames/s kept; grab() to skip, retrieve() to keep)")
    print(f"{'video':48s} {'decoded':>8s} {'kept':>5s} {'seconds':>8s} {'decoded fps':>12s}")
    total_frames, total_s = 0, 0.0
    for video in videos:
        decoded = 0

        clock = SampleClock(sample_fps)

        def keep(t: float, clock: SampleClock = clock) -> bool:
            nonlocal decoded
            decoded += 1
            return clock(t)

        t0 = time.perf_counter()
        kept = sum(1 for _ in decode_frames(video, keep))
        dt = time.perf_counter() - t0
        total_frames += decoded
        total_s += dt
        print(f"{video.name:48s} {decoded:8d} {kept:5d} {dt:8.3f} {decoded / dt:12.0f}")
    print(f"{'all':48s} {total_frames:8d} {'':5s} {total_s:8.3f} {total_frames / total_s:12.0f}")


def sampled_frames(videos: list[Path], sample_fps: float, per_video: int) -> dict[Path, list[np.ndarray]]:
    out = {}
    for video in videos:
        clock = SampleClock(sample_fps, max_frames=per_video)
        out[video] = [f.image for f in decode_frames(video, clock)]
    return out


def bench_detectors(frames: dict[Path, list[np.ndarray]], names: list[str], batch: int) -> None:
    print(f"\n## 2. Face detection (frames scaled to ≤640 px; batches of {batch} frames per call; "
          "mtcnn:N = N torch threads)")
    print(f"{'detector':10s} {'video':48s} {'frames':>6s} {'ms/frame':>9s} {'with face':>10s} {'faces':>6s}")
    for label in names:
        name, _, threads = label.partition(":")
        if name == "mtcnn" and importlib.util.find_spec("facenet_pytorch") is None:
            print(f"{label:10s} (facenet-pytorch not installed: pip install --no-deps facenet-pytorch)")
            continue
        detector = create_detector(name, num_threads=int(threads or 1))
        detector.detect(next(iter(frames.values()))[:1])  # warm-up
        all_ms: list[float] = []
        total_frames = with_face_total = 0
        total_s = 0.0
        for video, images in frames.items():
            t0 = time.perf_counter()
            results = []
            for i in range(0, len(images), batch):
                results += detector.detect(images[i : i + batch])
            dt = time.perf_counter() - t0
            with_face = sum(1 for r in results if r)
            faces = sum(len(r) for r in results)
            all_ms.append(dt * 1000 / max(1, len(images)))
            total_frames += len(images)
            total_s += dt
            with_face_total += with_face
            print(f"{label:10s} {video.name:48s} {len(images):6d} {all_ms[-1]:9.1f} {with_face:4d}/{len(images):<5d} "
                  f"{faces:6d}")
        print(f"{label:10s} {'all frames':48s} {total_frames:6d} {total_s * 1000 / total_frames:9.1f} "
              f"{with_face_total:4d}/{total_frames:<5d}")


def bench_classifier(model_path: Path, crops: list[np.ndarray], repeats: int, thread_counts: list[int]) -> None:
    print(f"\n## 3. Classifier: {len(crops)} real face crops, faces/s (best of {repeats})")
    print(f"   CPU has native bf16: {cpu_supports_bf16()}; auto precision picks "
          f"{'bf16' if cpu_supports_bf16() else 'fp32'} on CPU")
    print(f"{'precision':10s} {'threads':>7s} {'all in one pass':>16s} {'batches of 16':>14s} {'one by one':>11s} "
          f"{'batched/one':>12s}")
    default_threads = torch.get_num_threads()
    configs: list[tuple[Precision, int]] = [("fp32", n) for n in thread_counts] + [("bf16", default_threads)]
    for precision, threads in configs:
        torch.set_num_threads(threads)
        clf = EmotionClassifier.load(model_path, device="cpu", precision=precision,
                                     backend="torch")
        clf.predict(crops[:16])
        clf.predict(crops[:1])
        whole, sixteen, single = [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            clf.predict(crops)
            whole.append(len(crops) / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for i in range(0, len(crops), 16):
                clf.predict(crops[i : i + 16])
            sixteen.append(len(crops) / (time.perf_counter() - t0))
            subset = crops[: min(len(crops), 48)]
            t0 = time.perf_counter()
            for crop in subset:
                clf.predict([crop])
            single.append(len(subset) / (time.perf_counter() - t0))
        b, m, s1 = max(whole), max(sixteen), max(single)
        print(f"{precision:10s} {threads:7d} {b:16.0f} {m:14.0f} {s1:11.0f} {b / s1:11.1f}×")
    torch.set_num_threads(default_threads)


def bench_end_to_end(videos: list[Path], model_path: Path, detector_name: str, sample_fps: float,
                     repeats: int, tta: TestTimeAugmentation) -> None:
    print(f"\n## 4. End to end per video (pipeline: decode → {detector_name} → batched classify, {tta} TTA → "
          f"aggregate → crops), {sample_fps:g} frames/s, {repeats} runs each")
    clf = EmotionClassifier.load(model_path, tta=tta)
    detector = create_detector(detector_name)
    options = PipelineOptions(aggregate=AggregateOptions(sample_fps=sample_fps))
    print(f"{'video':48s} {'frames':>6s} {'faces':>6s} {'p50 s':>7s} {'p95 s':>7s} {'decode':>7s} {'detect':>7s} "
          f"{'classify':>8s}")
    all_runs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for video in videos:
            runs = []
            timings = None
            for r in range(repeats):
                t0 = time.perf_counter()
                out = analyze_video(video, classifier=clf, detector=detector, options=options,
                                    crops_dir=Path(tmp) / f"{video.stem}-{r}")
                runs.append(time.perf_counter() - t0)
                timings = out.timings
            all_runs += runs
            assert timings is not None
            print(f"{video.name:48s} {timings.frames:6d} {timings.faces:6d} {percentile(runs, 50):7.2f} "
                  f"{percentile(runs, 95):7.2f} {timings.decode:7.2f} {timings.detect:7.2f} {timings.classify:8.2f}")
    print(f"{'all videos':48s} {'':6s} {'':6s} {percentile(all_runs, 50):7.2f} {percentile(all_runs, 95):7.2f}")


def bench_reid(videos: list[Path], model_path: Path, detector_name: str, sample_fps: float, repeats: int) -> None:
    """What re-identification adds per video: the pipeline with it off and on, alternated in the same run."""
    print(f"\n## 5. Re-identification cost per video ({detector_name}, {sample_fps:g} frames/s, {repeats} runs each, "
          "off/on alternated)")
    clf = EmotionClassifier.load(model_path, tta="none")
    detector = create_detector(detector_name)
    on = PipelineOptions(aggregate=AggregateOptions(sample_fps=sample_fps))
    off = PipelineOptions(aggregate=AggregateOptions(sample_fps=sample_fps), reid_faces_per_track=0)
    analyze_video(videos[0], classifier=clf, detector=detector, options=on)  # loads the embedder once
    print(f"{'video':48s} {'tracks':>6s} {'faces':>6s} {'people':>11s} {'off p50 s':>9s} {'on p50 s':>9s} "
          f"{'reid s':>7s} {'share':>6s} {'diff':>6s}")
    for video in videos:
        runs: dict[str, list[float]] = {"off": [], "on": []}
        reid: list[float] = []
        people: dict[str, int] = {}
        tracks = embedded = 0
        for _ in range(repeats):
            for name, options in (("off", off), ("on", on)):
                t0 = time.perf_counter()
                out = analyze_video(video, classifier=clf, detector=detector, options=options)
                runs[name].append(time.perf_counter() - t0)
                readable = sum(1 for p in out.document.people if p.assessable_frames > 0)
                people[name] = readable
                if name == "on":
                    reid.append(out.timings.reid)
                    tracks = len(out.track_frames)
                    embedded = sum(len(v) for v in out.face_descriptors.values())
        p_off, p_on = percentile(runs["off"], 50), percentile(runs["on"], 50)
        print(f"{video.name:48s} {tracks:6d} {embedded:6d} {people['off']:>4d} → {people['on']:<4d} {p_off:9.2f} "
              f"{p_on:9.2f} {percentile(reid, 50):7.3f} {100 * percentile(reid, 50) / p_on:5.1f}% "
              f"{100 * (p_on - p_off) / p_off:5.1f}%")
    print("people: readable people (the report's picker) without → with re-identification; reid s: the stage alone "
          "(cropping, embedding, merging), share: of the run with it; diff: end-to-end on vs off, which also carries "
          "the machine's noise")


def bench_queue(videos: list[Path], model_path: Path, detector_name: str, sample_fps: float, repeats: int,
                redis_url: str) -> None:
    """Latency through the real product path: Redis queue → Celery worker process → SQLite → Redis event."""
    import asyncio
    import json
    import shutil
    import subprocess
    import uuid

    import redis
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from services.common.celery_app import AnalysisQueue
    from services.common.db import Base, create_engine
    from services.common.events import channel_for
    from services.common.models import Analysis, User
    from services.common.settings import QueueSettings
    from services.common.storage import Storage

    print(f"\n## 5. Through the queue (send_task → Celery worker, prefork ×1, {detector_name} → SQLite → "
          f"terminal Redis event), {sample_fps:g} frames/s, {repeats} runs each")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db_url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
        storage = Storage(root / "storage")

        async def create_schema_and_user() -> uuid.UUID:
            engine = create_engine(db_url)
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            user = User(id=uuid.uuid4(), email="bench@bloomwell.dev", password_hash="x", first_name="B",
                        last_name="W")
            user_id = user.id
            async with async_sessionmaker(engine)() as session, session.begin():
                session.add(user)
            await engine.dispose()
            return user_id

        async def insert(row: Analysis) -> None:
            engine = create_engine(db_url)
            async with async_sessionmaker(engine)() as session, session.begin():
                session.add(row)
            await engine.dispose()

        def add_analysis(user_id: uuid.UUID, video: Path) -> uuid.UUID:
            aid = uuid.uuid4()
            target = storage.upload_path(aid, video.suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(video, target)  # the worker deletes its upload
            asyncio.run(insert(Analysis(id=aid, user_id=user_id, filename=video.name, container=video.suffix[1:],
                                        size_bytes=video.stat().st_size, video_path=storage.relative(target),
                                        sample_fps=sample_fps)))
            return aid

        user_id = asyncio.run(create_schema_and_user())
        queue_settings = QueueSettings(redis_url=redis_url, celery_broker_url=redis_url)
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
               "STORAGE_DIR": str(storage.root), "MODEL_PATH": str(model_path), "FACE_DETECTOR": detector_name}
        log = (root / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "services.inference_worker.worker", "worker", "-Q",
             queue_settings.inference_queue, "--concurrency", "1", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
             "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        queue = AnalysisQueue.for_settings(queue_settings)
        app = queue.app
        client = redis.Redis.from_url(redis_url)
        try:
            for _ in range(120):
                if app.control.ping(timeout=1.0):
                    break
            print(f"{'video':48s} {'p50 s':>7s} {'p95 s':>7s}")
            all_runs: list[float] = []
            for video in videos:
                runs = []
                for _ in range(repeats):
                    aid = add_analysis(user_id, video)
                    pubsub = client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(channel_for(aid))
                    t0 = time.perf_counter()
                    queue.enqueue(aid)
                    status = None
                    while status not in ("succeeded", "failed") and time.perf_counter() - t0 < 300:
                        message = pubsub.get_message(timeout=1.0)
                        if message:
                            status = json.loads(message["data"])["status"]
                    runs.append(time.perf_counter() - t0)
                    pubsub.close()
                    if status != "succeeded":
                        print(f"   {video.name}: ended {status}")
                all_runs += runs
                print(f"{video.name:48s} {percentile(runs, 50):7.2f} {percentile(runs, 95):7.2f}")
            print(f"{'all videos':48s} {percentile(all_runs, 50):7.2f} {percentile(all_runs, 95):7.2f}")
        finally:
            worker.terminate()
            worker.wait(30)
            client.close()
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="checkpoint to measure (default: the shipped model)")
    parser.add_argument("--detectors", nargs="+", default=["haar", "mtcnn:1", "mtcnn:2"],
                        help="NAME[:TORCH_THREADS] (threads apply to MTCNN)")
    parser.add_argument("--e2e-detectors", nargs="+", default=["mtcnn", "haar"])
    worker_tta = resolve_tta(WorkerSettings.model_fields["inference_tta"].default, "cpu")
    parser.add_argument("--e2e-tta", nargs="+", default=[worker_tta],
                        choices=TTA_KINDS, help="test-time augmentation(s) for section 4 (default: the worker's)")
    parser.add_argument("--sample-fps", type=float, default=5.0)
    parser.add_argument("--frames-per-video", type=int, default=40, help="sampled frames per video for section 2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 16 frames per video")
    parser.add_argument("--sections", nargs="+", default=["decode", "detect", "classify", "e2e", "reid", "queue"])
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="Redis for the queue section (a database number of its own)")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.frames_per_video = 1, 16
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    videos = sorted(VIDEOS.glob("*.mp4")) + sorted(VIDEOS.glob("*.avi"))
    if not videos:
        sys.exit(f"no videos under {VIDEOS}")
    with tempfile.TemporaryDirectory() as tmp:
        model_path, model_origin = resolve_model(args.model, Path(tmp))
        print("# Bloomwell inference worker benchmark")
        print(f"python {platform.python_version()}, torch {torch.__version__}, {torch.get_num_threads()} torch "
              f"threads, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        print(f"model: {model_path} ({model_origin})")
        if "decode" in args.sections:
            bench_decode(videos, args.sample_fps)
        frames = None
        if "detect" in args.sections or "classify" in args.sections:
            frames = sampled_frames(videos, args.sample_fps, args.frames_per_video)
        if "detect" in args.sections and frames:
            bench_detectors(frames, args.detectors, batch=16)
        if "classify" in args.sections and frames:
            detector = create_detector("haar")
            crops = [crop_square(image, box) for images in frames.values() for image in images
                     for box in detector.detect([image])[0]]
            while len(crops) < 128:
                crops += crops[: 128 - len(crops)]
            bench_classifier(model_path, crops[:256], args.repeats, sorted({1, torch.get_num_threads()}))
        if "e2e" in args.sections:
            for name in args.e2e_detectors:
                for tta in args.e2e_tta:
                    bench_end_to_end(videos, model_path, name, args.sample_fps, args.repeats, tta)
        if "reid" in args.sections:
            bench_reid(videos, model_path, "yunet", args.sample_fps, args.repeats)
        if "queue" in args.sections:
            bench_queue(videos, model_path, args.e2e_detectors[0], args.sample_fps, args.repeats, args.redis_url)
        print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""The CPU worker runs where importing torch fails (as in the CPU runtime and the ``bloomwell-worker-cpu`` image),
and its probabilities are the PyTorch path's on the shared videos.

A subprocess installs an import hook (``sys.meta_path``) that makes ``import torch`` (and torchvision, timm,
facenet-pytorch, triton) fail, imports the whole worker and analyses every shared video at the worker's default
rate with the shipped model on ONNX Runtime; this process analyses the same videos with the PyTorch backend. Every
face's probabilities are compared; the largest difference is printed (``pytest -s``) and must stay below 1e-4.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bloomwell_ml.bundle import read_bundle
from bloomwell_ml.faces import create_detector
from bloomwell_ml.paths import default_model_path
from services.common.settings import REPO_ROOT
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.config import WorkerSettings
from services.inference_worker.pipeline import analyze_video
from tests.fixtures.worker import write_tiny_model
from tests.worker.conftest import VIDEOS

BLOCKED = ("torch", "torchvision", "timm", "facenet_pytorch", "triton")

NO_TORCH = textwrap.dedent(f"""
    import importlib.abc, sys

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {BLOCKED!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: the torch-free CPU runtime)")
            return None

    sys.meta_path.insert(0, NoTorch())
""")

RECORDER = textwrap.dedent("""
    from concurrent.futures import Future
    import numpy as np

    class Recording:
        '''The classifier, keeping every batch of probabilities it returns (the pipeline's submit interface).'''

        def __init__(self, classifier):
            self.classifier, self.probs = classifier, []
            self.name, self.version, self.temperature = classifier.name, classifier.version, classifier.temperature
            self.model_image = classifier.model_image

        def submit(self, images):
            future = Future()
            probs = self.classifier.predict_images(images)
            self.probs.append(probs)
            future.set_result(probs)
            return future
""")

CPU_RUN = NO_TORCH + RECORDER + textwrap.dedent("""
    import json
    from pathlib import Path

    import services.inference_worker.worker  # the whole worker: Celery app, tasks, runtime, metrics
    from bloomwell_ml.faces import create_detector
    from services.inference_worker.classifier import EmotionClassifier
    from services.inference_worker.config import WorkerSettings
    from services.inference_worker.pipeline import analyze_video

    settings = WorkerSettings()
    classifier = EmotionClassifier.load(settings.resolved_model_path)
    out = {"backend": classifier.backend, "device": classifier.device, "videos": {}}
    for video in sys.argv[1:]:
        recording = Recording(classifier)
        analyze_video(video, classifier=recording, detector=create_detector("yunet"),
                      options=settings.pipeline_options(None))
        out["videos"][Path(video).name] = np.concatenate(recording.probs).tolist() if recording.probs else []
    out["torch_modules"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(json.dumps(out))
""").replace("BLOCKED)", f"{BLOCKED!r})")


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if k not in {"MODEL_PATH", "FACE_DETECTOR", "INFERENCE_BACKEND"}}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=900, env=full_env)


def _shared_videos() -> list[Path]:
    videos = sorted(VIDEOS.glob("*.mp4")) + sorted(VIDEOS.glob("*.avi"))
    if not videos:
        pytest.skip(f"no shared videos under {VIDEOS}")
    return videos


def test_cpu_pipeline_without_torch_gives_the_torch_probabilities_on_the_shared_videos() -> None:
    for member in read_bundle(default_model_path()).members:  # the shipped bundle's members, as ONNX files
        assert member.onnx_path.is_file(), f"{member.onnx_path} is missing: python -m training.export"
    videos = _shared_videos()
    proc = _run(CPU_RUN, *map(str, videos))
    assert proc.returncode == 0, proc.stderr[-4000:]
    cpu = json.loads(proc.stdout.strip().splitlines()[-1])
    assert cpu["torch_modules"] == [], cpu["torch_modules"]
    assert (cpu["backend"], cpu["device"]) == ("onnxruntime", "cpu")

    namespace: dict[str, object] = {}
    exec(RECORDER, namespace)  # the same recording wrapper, in this process
    settings = WorkerSettings()
    reference = EmotionClassifier.load(default_model_path(), device="cpu", precision="fp32", backend="torch",
                                       tta=settings.inference_tta)
    worst, faces = 0.0, 0
    for video in videos:
        recording = namespace["Recording"](reference)  # type: ignore[operator]
        analyze_video(video, classifier=recording, detector=create_detector("yunet"),
                      options=settings.pipeline_options(None))
        expected = np.concatenate(recording.probs) if recording.probs else np.zeros((0, 7))
        got = np.asarray(cpu["videos"][video.name], dtype=np.float32).reshape(-1, 7)
        assert got.shape == expected.shape, video.name
        if len(got):
            worst = max(worst, float(np.abs(got - expected).max()))
        faces += len(got)
    print(f"\ntorch-free CPU pipeline vs PyTorch on {len(videos)} shared videos: {faces} faces, "
          f"max abs probability difference {worst:.2g}")
    assert faces > 100
    assert worst < 1e-4


def test_without_torch_mtcnn_and_a_pt_without_onnx_stop_with_a_clear_message(tmp_path: Path) -> None:
    pt = write_tiny_model(tmp_path / "model.pt")
    code = NO_TORCH + textwrap.dedent("""
        import os, pydantic
        from services.inference_worker.classifier import EmotionClassifier, ModelUnavailable
        from services.inference_worker.config import WorkerSettings

        os.environ["FACE_DETECTOR"] = "mtcnn"
        try:
            WorkerSettings()
        except pydantic.ValidationError as exc:
            print("MTCNN:", exc.errors()[0]["msg"])
        del os.environ["FACE_DETECTOR"]
        try:
            EmotionClassifier.load(sys.argv[1])
        except ModelUnavailable as exc:
            print("PT:", exc)
        try:
            EmotionClassifier.load(sys.argv[1], backend="torch")
        except ModelUnavailable as exc:
            print("TORCH:", exc)
    """)
    proc = _run(code, str(pt))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {line.split(":", 1)[0]: line for line in proc.stdout.splitlines()}
    assert "FACE_DETECTOR=mtcnn needs PyTorch and facenet-pytorch" in lines["MTCNN"]
    assert "FACE_DETECTOR=yunet" in lines["MTCNN"]
    assert "has no model.onnx beside it and PyTorch is not installed" in lines["PT"]
    assert "training.export" in lines["PT"]
    assert "needs PyTorch" in lines["TORCH"]


def test_with_torch_installed_mtcnn_stays_selectable() -> None:
    pytest.importorskip("facenet_pytorch")
    settings = WorkerSettings(face_detector="mtcnn")
    assert create_detector(settings.face_detector).name == "mtcnn"

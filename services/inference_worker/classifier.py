"""Batched emotion classification of face crops with the shipped model (loaded once per process).

The model is a single model file or a model bundle (``bundle.json``, :mod:`bloomwell_ml.bundle`: the shipped 3.x
default, 2.2.0 and the two teachers mixed); a bundle's members each read their own input, resized from the one model
image cut from the face crop. Every prediction goes through :func:`bloomwell_ml.inference.predict_probs` with the
model's calibration temperature, on one of two backends:

* ``onnxruntime`` (a CPU worker; ``INFERENCE_BACKEND=auto`` on a CPU): the model folder's ``model.onnx``, written by
  ``training.export`` with the spec in its metadata and its checksum in the model card, run on numpy arrays. This
  path never imports torch, so the CPU runtime (``requirements.txt``) does not install it.
* ``torch`` (a CUDA worker, or ``INFERENCE_BACKEND=torch``): the ``.pt`` checkpoint on PyTorch
  (:mod:`services.inference_worker.torch_backend`, imported only then).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from bloomwell_ml.bundle import check_labels, check_member_file, is_bundle_path, read_bundle
from bloomwell_ml.inference import Ensemble, EnsembleMember, predict_probs
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.onnx_runtime import OnnxModule, load_onnx_model
from bloomwell_ml.paths import onnx_path_for, torch_path_for
from bloomwell_ml.preprocess import member_images, model_batch, to_model_image
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.tta import TestTimeAugmentation, TtaSetting, resolve_tta

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]
Backend = Literal["auto", "torch", "onnxruntime"]


class ModelUnavailable(RuntimeError):
    """The configured model cannot be run by this installation (the message says what to do)."""


def torch_installed() -> bool:
    """Whether PyTorch is installed here (found without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # an import hook that refuses torch counts as "not installed"
        return False


def nvidia_driver_present() -> bool:
    """Whether this host has an NVIDIA driver (checked without torch)."""
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()


def pick_device(requested: str = "auto") -> str:
    """``auto`` → ``cuda`` when torch is installed and sees a GPU, else ``cpu``; anything else is kept.

    Torch is imported only where an NVIDIA driver exists, so ``auto`` on a CPU host never loads it."""
    if requested != "auto":
        return requested
    if torch_installed() and nvidia_driver_present():
        from services.inference_worker.torch_backend import cuda_available

        if cuda_available():
            return "cuda"
    return "cpu"


def device_type(device: str) -> str:
    """``cuda:1`` → ``cuda``."""
    return device.split(":", 1)[0]


def pick_backend(requested: Backend, device: str) -> Literal["torch", "onnxruntime"]:
    """``auto``: ONNX Runtime on a CPU, PyTorch on an accelerator."""
    if requested != "auto":
        return requested
    return "onnxruntime" if device_type(device) == "cpu" else "torch"


class Runner(Protocol):
    """One backend's way from model images to probabilities (in the model's label order)."""

    @property
    def spec(self) -> ModelSpec: ...

    def probs(self, images: np.ndarray, tta: TestTimeAugmentation, temperature: float) -> np.ndarray: ...

    def describe(self) -> str: ...


@dataclass
class OnnxRunner:
    """The CPU backend: ONNX Runtime on numpy arrays (no torch)."""

    module: OnnxModule
    spec: ModelSpec
    source: str = ""

    def probs(self, images: np.ndarray, tta: TestTimeAugmentation, temperature: float) -> np.ndarray:
        """Probabilities in the model's label order for model images ``(N, H, W, C)`` uint8."""
        probs: np.ndarray = predict_probs(self.module, model_batch(images, self.spec), tta, temperature=temperature)
        return probs

    def describe(self) -> str:
        """How it runs, for the load log line."""
        return f"fp32, {self.source}" if self.source else "fp32"


@dataclass
class OnnxEnsembleRunner:
    """The CPU backend for a model bundle: each member's ONNX file on ONNX Runtime (no torch), each fed its own
    input resized from the bundle's model image, mixed by :func:`predict_probs`."""

    ensemble: Ensemble
    member_specs: tuple[ModelSpec, ...]
    spec: ModelSpec
    source: str = ""

    def probs(self, images: np.ndarray, tta: TestTimeAugmentation, temperature: float) -> np.ndarray:
        """Probabilities in the bundle's label order for its model images ``(N, H, W, C)`` uint8."""
        batches = [model_batch(member_images(images, self.spec, s), s) for s in self.member_specs]
        probs: np.ndarray = predict_probs(self.ensemble, batches, tta, temperature=temperature)
        return probs

    def describe(self) -> str:
        """How it runs, for the load log line."""
        return f"fp32, {self.source}"


def _onnx_bundle_runner(path: Path, threads: int) -> Runner:
    bundle = read_bundle(path)
    modules, specs = [], []
    for member in bundle.members:
        check_member_file(member, member.onnx_path)
        model = load_onnx_model(member.onnx_path, threads, check_card=False)  # the manifest's SHA-256 was checked
        modules.append(EnsembleMember(model.module, member.weight, member.temperature))
        specs.append(model.spec)
    check_labels(bundle, specs)
    source = " + ".join(f"{m.name} {m.weight:.2g}" for m in bundle.members)
    return OnnxEnsembleRunner(Ensemble(tuple(modules)), tuple(specs), bundle.spec, f"bundle of {source}")


def _onnx_runner(path: Path, threads: int) -> Runner:
    """The ONNX file of ``path`` (itself, or the ``.onnx`` beside a ``.pt``; a bundle's members' files); where none
    exists, the ``.pt`` exported in memory with torch at load (slow, logged) — or, where torch is not installed, a
    clear error."""
    if is_bundle_path(path):
        return _onnx_bundle_runner(path, threads)
    onnx_file = onnx_path_for(path)
    if onnx_file.is_file():
        model = load_onnx_model(onnx_file, threads)
        return OnnxRunner(model.module, model.spec, f"{onnx_file.name} sha256 {model.sha256[:12]}")
    if path.suffix == ".onnx" or not path.is_file():
        raise FileNotFoundError(f"emotion model {path} is missing")
    if not torch_installed():
        raise ModelUnavailable(
            f"{path} has no {onnx_file.name} beside it and PyTorch is not installed here (the CPU runtime runs ONNX "
            f"files only): write it with `python -m training.export --model {path} --out-dir {path.parent}` where "
            "the training requirements are installed, or set MODEL_PATH to an .onnx file")
    from services.inference_worker.torch_backend import TorchRunner, export_onnx_in_memory

    runner = TorchRunner.load(path, "cpu", "fp32", threads)
    if runner.scripted:  # a TorchScript file cannot be exported again: run it on PyTorch
        log.warning("%s is TorchScript with no %s beside it: running it on PyTorch", path, onnx_file.name)
        return runner
    log.warning("%s has no %s beside it: exporting it to ONNX with torch at load (slow); write it once with "
                "python -m training.export", path, onnx_file.name)
    return OnnxRunner(OnnxModule(export_onnx_in_memory(runner), threads), runner.model.spec, "exported at load")


def _torch_runner(path: Path, device: str, precision: Precision, threads: int) -> Runner:
    if not torch_installed():
        raise ModelUnavailable(
            "INFERENCE_BACKEND=torch (or a CUDA device) needs PyTorch, which this installation does not have (the "
            "CPU runtime): install requirements-torch.txt, or run INFERENCE_BACKEND=auto on the CPU")
    from services.inference_worker.torch_backend import TorchEnsembleRunner, TorchRunner

    if is_bundle_path(path):
        return TorchEnsembleRunner.load(path, device, precision, threads)
    torch_file = torch_path_for(path)
    if not torch_file.is_file():
        raise FileNotFoundError(f"emotion model {torch_file} is missing (the PyTorch backend runs .pt files)")
    return TorchRunner.load(torch_file, device, precision, threads)


@dataclass
class EmotionClassifier:
    """A loaded model plus how to run it; ``predict_images`` classifies any number of faces in few forward passes.

    Output columns are always in :data:`EMOTIONS` order, whatever label order the model stores.
    """

    runner: Runner
    device: str
    max_batch: int
    _columns: np.ndarray
    tta: TestTimeAugmentation = "none"
    backend: str = "onnxruntime"

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str = "auto",
        precision: Precision = "auto",
        max_batch: int = 256,
        tta: TtaSetting = "none",
        backend: Backend = "auto",
        threads: int = 0,
    ) -> EmotionClassifier:
        """Load the model at ``path`` (a model folder's ``model.pt`` or ``model.onnx``, or a bundle's
        ``bundle.json``) for inference.

        ``backend="auto"`` runs the ``.onnx`` file beside the model on ONNX Runtime on a CPU (``threads`` intra-op
        threads; 0 = its default) and the ``.pt`` on PyTorch on CUDA, where ``precision="auto"`` uses bf16 autocast
        when supported. ``tta="flip"`` averages each face and its mirror image; ``tta="five"`` the five views of
        ``training.evaluate --tta``; the views go through in one forward pass. ``tta="auto"`` is five views on CUDA,
        one on a CPU (:func:`bloomwell_ml.tta.resolve_tta`).
        """
        path = Path(path)
        dev = pick_device(device)
        chosen = pick_backend(backend, dev)
        if chosen == "onnxruntime" and device_type(dev) != "cpu":
            raise ValueError(f"INFERENCE_BACKEND=onnxruntime runs on the CPU; INFERENCE_DEVICE is {dev}")
        runner = _onnx_runner(path, threads) if chosen == "onnxruntime" else _torch_runner(path, dev, precision,
                                                                                             threads)
        if not isinstance(runner, OnnxRunner | OnnxEnsembleRunner):
            chosen = "torch"
        spec = runner.spec
        missing = [label for label in EMOTIONS if label not in spec.labels]
        if missing:
            raise ValueError(f"{path}: model labels {spec.labels} lack {missing}")
        columns = np.array([spec.labels.index(label) for label in EMOTIONS])
        clf = cls(runner, dev, max_batch, columns, resolve_tta(tta, device_type(dev)), chosen)
        log.info("emotion model %s %s loaded from %s on %s (%s, %s%s, temperature %.3g)", spec.name, spec.version,
                 path, dev, chosen, runner.describe(), f", {clf.tta} TTA" if clf.tta != "none" else "",
                 clf.temperature)
        return clf

    @property
    def spec(self) -> ModelSpec:
        """The model's spec (labels, input, calibration)."""
        return self.runner.spec

    @property
    def name(self) -> str:
        """Model name from its spec."""
        return self.spec.name

    @property
    def version(self) -> str:
        """Model version from its spec."""
        return self.spec.version

    @property
    def temperature(self) -> float:
        """The calibration temperature applied to every prediction: the model's value for this TTA kind."""
        return self.spec.temperature_for(self.tta)

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        """A BGR face crop of any size as the model's uint8 input image (H×W×C); for a bundle, the one image every
        member's input is resized from (the largest a member needs)."""
        spec = self.spec
        return to_model_image(crop, spec.image_size, spec.grayscale, spec.in_chans)

    def predict_images(self, images: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` (float32, rows sum to 1, :data:`EMOTIONS` order) for model images
        ``(N, H, W, C)`` uint8 (see :meth:`model_image`), in passes of at most ``max_batch`` faces."""
        if len(images) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        out = [self.runner.probs(images[start : start + self.max_batch], self.tta, self.temperature)
               for start in range(0, len(images), self.max_batch)]
        probs = np.concatenate(out)[:, self._columns]
        normalised: np.ndarray = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
        return normalised

    def submit(self, images: np.ndarray) -> Future[np.ndarray]:
        """:meth:`predict_images` run now, as an already completed future (the pipeline's interface; the worker
        uses the shared :class:`~services.inference_worker.batching.BatchingClassifier` instead)."""
        future: Future[np.ndarray] = Future()
        try:
            future.set_result(self.predict_images(images))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def predict(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities ``(N, 7)`` for BGR face crops of any size (see :meth:`predict_images`)."""
        if not crops:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        return self.predict_images(np.stack([self.model_image(c) for c in crops]))

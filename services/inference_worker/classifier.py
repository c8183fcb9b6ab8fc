"""Batched emotion classification of face crops with the ConvNeXt model (loaded once per process).

Every prediction goes through :func:`bloomwell_ml.inference.predict_probs` with the model's calibration
temperature; the backend is PyTorch (CUDA, or CPU) or ONNX Runtime (CPU, exported from the same weights at load).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from bloomwell_ml.inference import predict_probs
from bloomwell_ml.io import LoadedModel, load_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.preprocess import normalize, to_model_image
from bloomwell_ml.tta import TestTimeAugmentation, TtaSetting, resolve_tta

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]
Backend = Literal["auto", "torch", "onnxruntime"]


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 dot products (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    checker = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    with contextlib.suppress(Exception):
        if checker is not None and checker():
            return True
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
        flags = fh.read()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` → CUDA when present, else CPU; anything else is passed to :class:`torch.device`."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def pick_backend(requested: Backend, device: torch.device, module: object) -> Literal["torch", "onnxruntime"]:
    """``auto``: ONNX Runtime for a CPU model that can be exported (not a TorchScript file), else PyTorch."""
    if requested != "auto":
        return requested
    if device.type != "cpu" or isinstance(module, torch.jit.ScriptModule):
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnxruntime"


@dataclass
class EmotionClassifier:
    """A loaded model plus how to run it; ``predict_images`` classifies any number of faces in few forward passes.

    Output columns are always in :data:`EMOTIONS` order, whatever label order the checkpoint stores.
    """

    model: LoadedModel
    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool
    max_batch: int
    _columns: np.ndarray
    tta: TestTimeAugmentation = "none"
    backend: str = "torch"
    _forward: Callable[[torch.Tensor], torch.Tensor] | None = None

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
        """Load the model at ``path`` for inference.

        ``tta="flip"`` averages the probabilities of each face and its mirror image; ``tta="five"`` averages the
        five views of ``training.evaluate --tta`` (identity, mirror, 90 % zoom, zoom + mirror, 5 % shift). The
        views go through in one forward pass (2× or 5× the batch). ``tta="auto"`` is five views on CUDA, one on
        CPU (:func:`bloomwell_ml.tta.resolve_tta`).

        ``backend="auto"`` runs ONNX Runtime on CPU (exported from the weights at load time, ``threads`` intra-op
        threads; 0 = its default) and PyTorch on CUDA, where ``precision="auto"`` uses bf16 autocast when
        supported; PyTorch on a CPU with native bf16 uses bf16 autocast with channels_last.
        """
        torch.set_flush_denormal(True)  # ConvNeXt's tiny layer-scale values otherwise produce slow denormals
        dev = pick_device(device)
        loaded = load_model(path, dev)
        missing = [label for label in EMOTIONS if label not in loaded.spec.labels]
        if missing:
            raise ValueError(f"{path}: model labels {loaded.spec.labels} lack {missing}")
        columns = np.array([loaded.spec.labels.index(label) for label in EMOTIONS])
        chosen = pick_backend(backend, dev, loaded.module)
        forward: Callable[[torch.Tensor], torch.Tensor] | None = None
        use_bf16 = False
        if chosen == "onnxruntime":
            from bloomwell_ml.onnx_runtime import OnnxModule, onnx_bytes

            forward = OnnxModule(onnx_bytes(loaded.module, loaded.spec), threads)
        else:
            if precision == "auto":
                use_bf16 = torch.cuda.is_bf16_supported() if dev.type == "cuda" else cpu_supports_bf16()
            else:
                use_bf16 = precision == "bf16"
        scripted = isinstance(loaded.module, torch.jit.ScriptModule)
        channels_last = use_bf16 and dev.type == "cpu" and not scripted
        if channels_last:
            loaded.module.to(memory_format=torch.channels_last)
        clf = cls(loaded, dev, torch.bfloat16 if use_bf16 else None, channels_last, max_batch, columns,
                  resolve_tta(tta, dev.type), chosen, forward)
        log.info(
            "emotion model %s %s loaded from %s on %s (%s, %s%s%s, temperature %.3g)",
            loaded.spec.name, loaded.spec.version, path, dev, chosen,
            "bf16 autocast" if use_bf16 else "fp32", ", channels_last" if channels_last else "",
            f", {clf.tta} TTA" if clf.tta != "none" else "", clf.temperature,
        )
        return clf

    @property
    def name(self) -> str:
        """Model name from its spec."""
        return self.model.spec.name

    @property
    def version(self) -> str:
        """Model version from its spec."""
        return self.model.spec.version

    @property
    def temperature(self) -> float:
        """The calibration temperature applied to every prediction: the model's value for this TTA kind."""
        return self.model.spec.temperature_for(self.tta)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        """A BGR face crop of any size as the model's uint8 input image (H×W×C)."""
        spec = self.model.spec
        return to_model_image(crop, spec.image_size, spec.grayscale, spec.in_chans)

    def predict_images(self, images: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` (float32, rows sum to 1, :data:`EMOTIONS` order) for model images
        ``(N, H, W, C)`` uint8 (see :meth:`model_image`), in passes of at most ``max_batch`` faces."""
        if len(images) == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        module = self._forward or self.model.module
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), self.max_batch):
                chunk = torch.from_numpy(np.ascontiguousarray(images[start : start + self.max_batch]))
                x = normalize(chunk.permute(0, 3, 1, 2), self.model.spec).to(self.device, non_blocking=True)
                p = predict_probs(module, x, self.tta, self._autocast(), self.temperature,
                                  self.channels_last)
                out.append(p.cpu().numpy())
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

"""The worker's PyTorch backend (CUDA workers, ``INFERENCE_BACKEND=torch``): imported only then, so a CPU worker
runs without torch installed (``services.inference_worker.classifier`` picks the backend).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bloomwell_ml.bundle import check_labels, check_member_file, read_bundle
from bloomwell_ml.inference import Ensemble, EnsembleMember, predict_probs
from bloomwell_ml.io import LoadedModel, load_model
from bloomwell_ml.preprocess import member_images, normalize
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.tta import TestTimeAugmentation
from services.inference_worker.classifier import Precision


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


def cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    return torch.cuda.is_available()


@dataclass
class TorchRunner:
    """A PyTorch model on its device, with how to run it (bf16 autocast, channels_last)."""

    model: LoadedModel
    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool

    @classmethod
    def load(cls, path: Path, device: str, precision: Precision = "auto", threads: int = 0) -> TorchRunner:
        """Load a ``.pt`` checkpoint or TorchScript file; ``precision="auto"`` uses bf16 autocast where the device
        supports it natively (CUDA, or a CPU with AVX512-BF16/AMX, where channels_last pays off too)."""
        torch.set_flush_denormal(True)  # ConvNeXt's tiny layer-scale values otherwise produce slow denormals
        if threads:
            torch.set_num_threads(threads)
        dev = torch.device(device)
        loaded = load_model(path, dev)
        if precision == "auto":
            use_bf16 = torch.cuda.is_bf16_supported() if dev.type == "cuda" else cpu_supports_bf16()
        else:
            use_bf16 = precision == "bf16"
        scripted = isinstance(loaded.module, torch.jit.ScriptModule)
        channels_last = use_bf16 and dev.type == "cpu" and not scripted
        if channels_last:
            loaded.module.to(memory_format=torch.channels_last)
        return cls(loaded, dev, torch.bfloat16 if use_bf16 else None, channels_last)

    @property
    def spec(self) -> ModelSpec:
        """The model's spec."""
        return self.model.spec

    @property
    def scripted(self) -> bool:
        """A TorchScript file (which cannot be exported to ONNX at load)."""
        return isinstance(self.model.module, torch.jit.ScriptModule)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def probs(self, images: np.ndarray, tta: TestTimeAugmentation, temperature: float) -> np.ndarray:
        """Probabilities in the model's label order for model images ``(N, H, W, C)`` uint8."""
        with torch.inference_mode():
            chunk = torch.from_numpy(np.ascontiguousarray(images))
            x = normalize(chunk.permute(0, 3, 1, 2), self.model.spec).to(self.device, non_blocking=True)
            p = predict_probs(self.model.module, x, tta, self._autocast(), temperature, self.channels_last)
            probs: np.ndarray = p.cpu().numpy()
            return probs

    def describe(self) -> str:
        """How it runs, for the load log line."""
        return ("bf16 autocast" if self.autocast_dtype is not None else "fp32") + \
            (", channels_last" if self.channels_last else "")


@dataclass
class TorchEnsembleRunner:
    """A model bundle on PyTorch: each member's ``model.pt`` on the device, each fed its own input resized from the
    bundle's model image, mixed by :func:`predict_probs` (the CUDA worker; the CPU one runs the members' ONNX files)."""

    members: tuple[TorchRunner, ...]
    ensemble: Ensemble
    spec: ModelSpec
    device: torch.device

    @classmethod
    def load(cls, path: Path, device: str, precision: Precision = "auto", threads: int = 0) -> TorchEnsembleRunner:
        """Load every member of the bundle at ``path`` (SHA-256 of each ``model.pt`` checked against the manifest)."""
        bundle = read_bundle(path)
        runners = []
        for member in bundle.members:
            check_member_file(member, member.pt_path)
            runners.append(TorchRunner.load(member.pt_path, device, precision, threads))
        check_labels(bundle, [r.spec for r in runners])
        ensemble = Ensemble(tuple(EnsembleMember(r.model.module, m.weight, m.temperature)
                                  for r, m in zip(runners, bundle.members, strict=True)))
        return cls(tuple(runners), ensemble, bundle.spec, torch.device(device))

    def probs(self, images: np.ndarray, tta: TestTimeAugmentation, temperature: float) -> np.ndarray:
        """Probabilities in the bundle's label order for its model images ``(N, H, W, C)`` uint8."""
        first = self.members[0]
        with torch.inference_mode():
            batches = []
            for runner in self.members:
                chunk = torch.from_numpy(np.ascontiguousarray(member_images(images, self.spec, runner.spec)))
                batches.append(normalize(chunk.permute(0, 3, 1, 2), runner.spec).to(self.device, non_blocking=True))
            p = predict_probs(self.ensemble, batches, tta, first._autocast(), temperature, first.channels_last)
            probs: np.ndarray = p.cpu().numpy()
            return probs

    def describe(self) -> str:
        """How it runs, for the load log line."""
        return f"bundle of {len(self.members)} on PyTorch, " + self.members[0].describe()


def export_onnx_in_memory(runner: TorchRunner) -> bytes:
    """The model exported to ONNX in memory: the fallback for a ``.pt`` file without its ``.onnx`` beside it."""
    from bloomwell_ml.onnx_runtime import onnx_bytes

    return onnx_bytes(runner.model.module, runner.model.spec)

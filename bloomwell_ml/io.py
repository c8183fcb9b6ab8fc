"""Model file I/O: one self-describing file holding weights + `ModelSpec`.

`load_model` accepts three formats:

* a file written by `save_model` (dict with ``spec`` and ``state_dict``),
* a training checkpoint from ``training.train`` (dict with ``spec`` and ``model``),
* an exported TorchScript archive whose ``spec.json`` extra file holds the spec.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bloomwell_ml.arch import create_model
from bloomwell_ml.inference import predict_probs
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.spec import ModelSpec

FORMAT = "bloomwell-model/1"
SPEC_EXTRA_FILE = "spec.json"


@dataclass
class LoadedModel:
    """A model in eval mode on its device, with the spec describing its input and labels."""

    module: nn.Module
    spec: ModelSpec

    @torch.inference_mode()
    def predict_proba(self, crops: list[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Calibrated probabilities (N, num_classes) for BGR uint8 face crops, in the spec's label order."""
        if not crops:
            return np.zeros((0, self.spec.num_classes), dtype=np.float32)
        device = next((p.device for p in self.module.parameters()), torch.device("cpu"))
        out = []
        for i in range(0, len(crops), batch_size):
            x = preprocess_faces(crops[i : i + batch_size], self.spec).to(device)
            out.append(predict_probs(self.module, x, temperature=self.spec.temperature_for("none")).cpu())
        return torch.cat(out).numpy()


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip wrapper prefixes (`module.`, `_orig_mod.`) and SWA's `n_averaged` counter."""
    out = {}
    for k, v in state.items():
        if k == "n_averaged":
            continue
        for prefix in ("module.", "_orig_mod."):
            k = k.removeprefix(prefix)
        out[k] = v
    return out


def save_model(path: str | Path, model: nn.Module, spec: ModelSpec) -> Path:
    """Write `model`'s weights (float32, CPU) and `spec` to `path`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in clean_state_dict(model.state_dict()).items()}
    torch.save({"format": FORMAT, "spec": spec.to_dict(), "state_dict": state}, path)
    return path


def build_model(spec: ModelSpec) -> nn.Module:
    """An untrained module for `spec` (architecture only)."""
    kwargs = dict(spec.arch_kwargs)
    if spec.arch == "convnext_face" or spec.arch.startswith("timm/"):
        kwargs.setdefault("in_chans", spec.in_chans)
    return create_model(spec.arch, num_classes=spec.num_classes, **kwargs)


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.split("/", 2)[1:2] == ["code"] for n in zf.namelist())


def load_model(path: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """Load any of the three model formats onto `device`, in eval mode."""
    path = Path(path)
    device = torch.device(device)
    if _is_torchscript(path):
        extra = {SPEC_EXTRA_FILE: ""}
        module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
        if not extra[SPEC_EXTRA_FILE]:
            raise ValueError(f"{path}: TorchScript file has no {SPEC_EXTRA_FILE} extra file")
        spec = ModelSpec.from_dict(json.loads(extra[SPEC_EXTRA_FILE]))
        module.eval()
        return LoadedModel(module, spec)
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or "spec" not in blob:
        raise ValueError(f"{path}: not a Bloomwell model or training checkpoint")
    spec = ModelSpec.from_dict(blob["spec"])
    state = blob.get("state_dict") or blob.get("model")
    if state is None:
        raise ValueError(f"{path}: no weights found (expected 'state_dict' or 'model')")
    module = build_model(spec)
    module.load_state_dict(clean_state_dict(state))
    module.to(device).eval()
    return LoadedModel(module, spec)

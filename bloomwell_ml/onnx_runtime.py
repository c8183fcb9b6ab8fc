"""Classifier models as ONNX files, run with ONNX Runtime behind the same call as a torch module (for
:func:`bloomwell_ml.inference.predict_probs`). Nothing here imports torch except :func:`onnx_bytes` (the export).

Every classifier model the product ships (the default and any model that joins it later) follows one rule:

* ``models/<name>/model.onnx`` is written by ``python -m training.export`` from ``models/<name>/model.pt``;
* its :class:`~bloomwell_ml.spec.ModelSpec` (labels, input size, normalisation, per-TTA temperatures) is stored
  as JSON in the ONNX metadata under :data:`ONNX_SPEC_KEY`, so the file describes itself;
* its SHA-256 is recorded in ``models/<name>/model_card.json`` (``onnx.sha256``, also printed in
  ``MODEL_CARD.md``) and checked by :func:`load_onnx_model` at every load: a damaged or swapped file is refused;
* ``tests/training/test_onnx_models.py`` checks every shipped ``model.onnx`` against its ``model.pt`` (logits
  and probabilities, where torch is installed).

On these CPUs ONNX Runtime runs the 48 px ConvNeXt several times faster than eager PyTorch for the small batches a
worker sees (``bench/bench_model.py --backend``); on CUDA the worker keeps PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bloomwell_ml.spec import ModelSpec

if TYPE_CHECKING:
    from torch import nn

INPUT_NAME, OUTPUT_NAME = "input", "logits"
ONNX_SPEC_KEY = "bloomwell_spec"
"""Metadata key of the model's :class:`ModelSpec` (JSON) in an ONNX file written by ``training.export``."""
MODEL_CARD_JSON = "model_card.json"


def onnx_bytes(module: nn.Module, spec: ModelSpec, opset: int = 17) -> bytes:
    """``module`` exported to ONNX (float32, dynamic batch) in memory (needs torch)."""
    import torch

    x = torch.zeros(1, spec.in_chans, spec.image_size, spec.image_size)
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        path = Path(tmp) / "model.onnx"  # torch.onnx.export is typed for a path, not a file object
        torch.onnx.export(module.float().eval(), (x,), path, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}, opset_version=opset,
                          dynamo=False)
        return path.read_bytes()


class OnnxModule:
    """An ONNX Runtime session called like a module: a float32 NCHW batch in, logits out (CPU).

    A numpy array gives a numpy array; a torch tensor (training's robustness suite) gives a tensor."""

    def __init__(self, model: bytes | str | Path, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: the job's decode and detection threads need those cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = str(model) if isinstance(model, Path) else model
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])

    @property
    def metadata(self) -> dict[str, str]:
        """The model file's custom metadata (``training.export`` stores the spec there)."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return self.session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})[0]
        import torch

        out = self.session.run([OUTPUT_NAME], {INPUT_NAME: x.detach().float().contiguous().cpu().numpy()})[0]
        return torch.from_numpy(out)


@dataclass
class OnnxModel:
    """A classifier loaded from an ONNX file: the session and the spec its metadata holds."""

    module: OnnxModule
    spec: ModelSpec
    path: Path
    sha256: str


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_onnx_sha256(path: Path) -> str | None:
    """The SHA-256 that the model card beside ``path`` (``model_card.json``) records for it; None without a card.

    Raises ValueError when a card is there but records no checksum for this file (a model folder that breaks the
    rule above)."""
    card_path = path.parent / MODEL_CARD_JSON
    if not card_path.is_file():
        return None
    onnx = json.loads(card_path.read_text()).get("onnx") or {}
    if onnx.get("file") != path.name or not onnx.get("sha256"):
        raise ValueError(f"{card_path} records no SHA-256 for {path.name}: re-run python -m training.export")
    return str(onnx["sha256"])


def load_onnx_model(path: str | Path, threads: int = 0, *, check_card: bool = True) -> OnnxModel:
    """Load a classifier's ONNX file: its SHA-256 checked against the model card beside it (when there is one and
    ``check_card``), its spec read from the metadata (:data:`ONNX_SPEC_KEY`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"emotion model {path} is missing")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    expected = card_onnx_sha256(path) if check_card else None
    if expected is not None and digest != expected:
        raise ValueError(f"emotion model {path} does not match the SHA-256 of its model card ({expected})")
    module = OnnxModule(data, threads)
    spec_json = module.metadata.get(ONNX_SPEC_KEY)
    if not spec_json:
        raise ValueError(f"{path}: the ONNX file has no {ONNX_SPEC_KEY!r} metadata; export it with training.export")
    return OnnxModel(module, ModelSpec.from_dict(json.loads(spec_json)), path, digest)

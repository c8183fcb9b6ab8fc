"""Running a model with ONNX Runtime behind the same call as a torch module (for :func:`predict_probs`).

On these CPUs ONNX Runtime runs the 48 px ConvNeXt several times faster than eager PyTorch for the small
batches a worker sees (``bench/bench_model.py --backend``); on CUDA the worker keeps PyTorch.
"""

from __future__ import annotations

import io

import torch
from torch import nn

from bloomwell_ml.spec import ModelSpec

INPUT_NAME, OUTPUT_NAME = "input", "logits"


def onnx_bytes(module: nn.Module, spec: ModelSpec, opset: int = 17) -> bytes:
    """``module`` exported to ONNX (float32, dynamic batch) in memory."""
    x = torch.zeros(1, spec.in_chans, spec.image_size, spec.image_size)
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module.float().eval(), (x,), buffer, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}, opset_version=opset,
                          dynamo=False)
    return buffer.getvalue()


class OnnxModule:
    """An ONNX Runtime session called like a module: float32 NCHW tensor in, logits tensor out (CPU)."""

    def __init__(self, model: bytes, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: the job's decode and detection threads need those cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.session.run([OUTPUT_NAME], {INPUT_NAME: x.detach().float().contiguous().cpu().numpy()})[0]
        return torch.from_numpy(out)

"""Export a model to TorchScript and ONNX and check both numerically against the PyTorch model.

    python -m training.export --checkpoint runs/convnext-face48/checkpoints/best.pt --out-dir models/<name>

Writes `model.ts` (TorchScript; its `spec.json` extra file makes it loadable by `load_model`) and
`model.onnx` (spec JSON in the metadata), printing the max abs logit difference of each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bloomwell_ml.io import SPEC_EXTRA_FILE, load_model
from bloomwell_ml.paths import default_model_path


def export(model_path: str | Path, out_dir: str | Path, tol: float = 1e-4, batch: int = 8,
           opset: int = 17) -> dict[str, Any]:
    """Export to TorchScript + ONNX; returns paths and max abs differences; raises if above `tol`."""
    loaded = load_model(model_path, "cpu")
    model, spec = loaded.module.float().eval(), loaded.spec
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_json = json.dumps(spec.to_dict())
    x = torch.randn(batch, spec.in_chans, spec.image_size, spec.image_size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref = model(x).numpy()

    ts_path = out_dir / "model.ts"
    with torch.no_grad():
        traced = torch.jit.trace(model, x[:1])
    torch.jit.save(traced, str(ts_path), _extra_files={SPEC_EXTRA_FILE: spec_json})
    ts_loaded = load_model(ts_path, "cpu")
    with torch.inference_mode():
        ts_diff = float(np.abs(ts_loaded.module(x).numpy() - ref).max())

    import onnx
    import onnxruntime as ort

    onnx_path = out_dir / "model.onnx"
    torch.onnx.export(model, (x[:1],), str(onnx_path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                      dynamo=False)
    proto = onnx.load(str(onnx_path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "bloomwell_spec", spec_json
    onnx.save(proto, str(onnx_path))
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_diff = float(np.abs(sess.run(None, {"input": x.numpy()})[0] - ref).max())

    result = {"torchscript": str(ts_path), "onnx": str(onnx_path), "torchscript_max_abs_diff": ts_diff,
              "onnx_max_abs_diff": onnx_diff, "tolerance": tol}
    print(f"TorchScript max abs diff {ts_diff:.3g}; ONNX max abs diff {onnx_diff:.3g} (tolerance {tol:g})")
    if max(ts_diff, onnx_diff) > tol:
        raise RuntimeError(f"export parity failed: {result}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", help="'default' or a model file")
    g.add_argument("--checkpoint", help="training checkpoint or save_model file")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args(argv)
    path = default_model_path() if args.model == "default" else Path(args.model or args.checkpoint)
    return export(path, args.out_dir, args.tol, opset=args.opset)


if __name__ == "__main__":
    main()

"""Export a model to TorchScript and ONNX and check both numerically against the PyTorch model.

    python -m training.export --checkpoint runs/convnext-face48/checkpoints/best.pt --out-dir models/<name>
    python -m training.export --model models/<name>/model.pt --out-dir models/<name> --formats onnx

Writes `model.ts` (TorchScript; its `spec.json` extra file makes it loadable by `load_model`) and
`<stem>.onnx` (`model.pt` → `model.onnx`; the spec JSON — labels, input size, normalisation, per-TTA temperatures —
in the metadata under `bloomwell_spec`), printing the max abs logit difference of each. Where the output folder is
a model folder (it holds `model_card.json`), the ONNX file's SHA-256 and parity are recorded in the model card:
that is how every model the worker runs on ONNX Runtime is shipped (`bloomwell_ml.onnx_runtime`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bloomwell_ml.io import SPEC_EXTRA_FILE, load_model
from bloomwell_ml.paths import convnext_model_path


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

    onnx_result = export_onnx(model_path, out_dir, tol, batch, opset, name="model.onnx")
    result = {"torchscript": str(ts_path), "onnx": onnx_result["onnx"], "torchscript_max_abs_diff": ts_diff,
              "onnx_max_abs_diff": onnx_result["onnx_max_abs_diff"], "tolerance": tol}
    print(f"TorchScript max abs diff {ts_diff:.3g} (tolerance {tol:g})")
    if ts_diff > tol:
        raise RuntimeError(f"export parity failed: {result}")
    return result


def export_onnx(model_path: str | Path, out_dir: str | Path, tol: float = 1e-4, batch: int = 8, opset: int = 17,
                name: str | None = None) -> dict[str, Any]:
    """Write ``<out_dir>/<model stem>.onnx`` (or ``name``) with the spec in its metadata, check its logits against
    the PyTorch model (max abs difference ≤ ``tol``, else RuntimeError and no file), and record its SHA-256 in the
    model card when ``out_dir`` is a model folder. Returns path, checksum and difference."""
    import onnx

    from bloomwell_ml.onnx_runtime import ONNX_SPEC_KEY, OnnxModule, file_sha256, onnx_bytes
    from training.model_card import record_onnx

    model_path = Path(model_path)
    loaded = load_model(model_path, "cpu")
    model, spec = loaded.module.float().eval(), loaded.spec
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    x = torch.randn(batch, spec.in_chans, spec.image_size, spec.image_size, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref = model(x).numpy()
    proto = onnx.load_from_string(onnx_bytes(model, spec, opset))
    entry = proto.metadata_props.add()
    entry.key, entry.value = ONNX_SPEC_KEY, json.dumps(spec.to_dict())
    data = proto.SerializeToString()
    diff = float(np.abs(OnnxModule(data)(x.numpy()) - ref).max())
    print(f"ONNX max abs logit diff {diff:.3g} (tolerance {tol:g})")
    if diff > tol:
        raise RuntimeError(f"ONNX export parity failed for {model_path}: max abs logit diff {diff:.3g} > {tol:g}")
    onnx_path = out_dir / (name or f"{model_path.stem}.onnx")
    tmp = onnx_path.with_name(onnx_path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(onnx_path)
    info = {"file": onnx_path.name, "sha256": file_sha256(onnx_path), "size_bytes": onnx_path.stat().st_size,
            "opset": opset, "max_abs_logit_diff": diff, "tolerance": tol, "source": model_path.name,
            "metadata_key": ONNX_SPEC_KEY}
    if (out_dir / "model_card.json").is_file() and onnx_path.name == "model.onnx":
        record_onnx(out_dir, info)
    return {"onnx": str(onnx_path), "onnx_max_abs_diff": diff, "sha256": info["sha256"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", help="'default' or a model file")
    g.add_argument("--checkpoint", help="training checkpoint or save_model file")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--formats", nargs="+", choices=["torchscript", "onnx"], default=["torchscript", "onnx"],
                    help="onnx alone: the model folder's model.onnx (what CPU workers run), recorded in its card")
    args = ap.parse_args(argv)
    path = convnext_model_path() if args.model == "default" else Path(args.model or args.checkpoint)
    if args.formats == ["onnx"]:
        return export_onnx(path, args.out_dir, args.tol, opset=args.opset)
    return export(path, args.out_dir, args.tol, opset=args.opset)


if __name__ == "__main__":
    main()

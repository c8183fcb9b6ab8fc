"""TensorFlow.js weights: a ``*-weights_manifest.json`` (or a ``model.json`` with ``weightsManifest``) plus its
binary shards, read into named numpy arrays.

The format (tfjs ``io.decodeWeights``): the manifest is a list of *groups*; each group names its shard files
(``paths``, concatenated in order) and its tensors (``weights``: ``name``, ``shape``, ``dtype`` and optionally
``quantization``), which lie back to back in the concatenated bytes, little-endian. A quantized tensor is stored as
``uint8``/``uint16`` with ``scale`` and ``min`` (value = q · scale + min) or as ``float16``, and is returned as the
``dtype`` it declares (float32). This module knows nothing about any network: face-api's expression and recognition
nets, or any other tfjs model, map the names to their own layers.

    weights = read_tfjs_weights(Path("model/face_expression_model-weights_manifest.json"))
    weights["dense0/conv0/filters"].shape  # (3, 3, 3, 32), HWIO as TensorFlow stores it
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_DTYPES: dict[str, np.dtype] = {
    "float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1"), "uint8": np.dtype("u1"),
    "uint16": np.dtype("<u2"), "float16": np.dtype("<f2"), "int8": np.dtype("i1"), "int16": np.dtype("<i2"),
}


class TfjsWeightsError(ValueError):
    """A manifest or shard that does not describe the tensors it claims to hold."""


@dataclass(frozen=True)
class WeightSpec:
    """One tensor's entry in a manifest."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    quantization: Mapping[str, Any] | None = None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def stored_dtype(self) -> np.dtype:
        """The dtype of the bytes in the shard (the quantized one where quantized)."""
        name = self.quantization["dtype"] if self.quantization else self.dtype
        if name not in _DTYPES:
            raise TfjsWeightsError(f"{self.name}: unsupported dtype {name!r}")
        return _DTYPES[name]

    @property
    def nbytes(self) -> int:
        """Bytes this tensor takes in the shard."""
        return self.size * self.stored_dtype.itemsize


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The weight groups of a ``*-weights_manifest.json`` or of a tfjs ``model.json`` (``weightsManifest``)."""
    data = json.loads(Path(path).read_text())
    groups = data.get("weightsManifest") if isinstance(data, dict) else data
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "paths" in g and "weights" in g
                                               for g in groups):
        raise TfjsWeightsError(f"{path}: not a tfjs weights manifest (a list of {{paths, weights}} groups)")
    return groups


def weight_specs(group: Mapping[str, Any]) -> list[WeightSpec]:
    """The tensors of one manifest group, in storage order."""
    return [WeightSpec(w["name"], tuple(int(d) for d in w["shape"]), w.get("dtype", "float32"),
                       w.get("quantization")) for w in group["weights"]]


def decode_weights(buffer: bytes, specs: Sequence[WeightSpec], *, dequantize: bool = True) -> dict[str, np.ndarray]:
    """Named arrays from the concatenated bytes of one group (tfjs ``io.decodeWeights``); dequantized tensors
    come back as their declared dtype. ``dequantize=False`` returns every tensor as stored (a quantized one as its
    ``uint8``/``uint16`` codes; :func:`weight_specs` gives their ``scale`` and ``min``)."""
    out: dict[str, np.ndarray] = {}
    offset = 0
    for spec in specs:
        end = offset + spec.nbytes
        if end > len(buffer):
            raise TfjsWeightsError(f"{spec.name}: needs bytes {offset}..{end}, the shards hold {len(buffer)}")
        raw = np.frombuffer(buffer, dtype=spec.stored_dtype, count=spec.size, offset=offset)
        q = spec.quantization
        if not dequantize:
            values = raw
        elif q and q["dtype"] in ("uint8", "uint16"):
            if "scale" not in q or "min" not in q:
                raise TfjsWeightsError(f"{spec.name}: affine quantization without scale/min is not supported")
            values = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
        else:
            values = raw
        if spec.name in out:
            raise TfjsWeightsError(f"{spec.name}: named twice in the manifest")
        dtype = _DTYPES[spec.dtype] if dequantize else spec.stored_dtype
        out[spec.name] = np.asarray(values, dtype=dtype).reshape(spec.shape).copy()
        offset = end
    if offset != len(buffer):
        raise TfjsWeightsError(f"the shards hold {len(buffer)} bytes, the manifest describes {offset}")
    return out


def read_tfjs_weights(manifest: Path, shard_dir: Path | None = None, *,
                      dequantize: bool = True) -> dict[str, np.ndarray]:
    """Every tensor of a tfjs weights manifest, by name; shards are looked up beside the manifest unless
    ``shard_dir`` says where they are (``dequantize``: as :func:`decode_weights`)."""
    manifest = Path(manifest)
    base = shard_dir or manifest.parent
    weights: dict[str, np.ndarray] = {}
    for group in read_manifest(manifest):
        buffer = b"".join((base / p).read_bytes() for p in group["paths"])
        for name, array in decode_weights(buffer, weight_specs(group), dequantize=dequantize).items():
            if name in weights:
                raise TfjsWeightsError(f"{name}: named in two groups")
            weights[name] = array
    return weights

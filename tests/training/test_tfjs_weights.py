"""The generic tfjs weights reader: groups, shards, quantization, and refusal of inconsistent manifests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bloomwell_ml.convert.tfjs_weights import TfjsWeightsError, decode_weights, read_tfjs_weights, weight_specs


def _write(tmp_path: Path, groups: list[dict], shards: dict[str, bytes]) -> Path:
    for name, data in shards.items():
        (tmp_path / name).write_bytes(data)
    manifest = tmp_path / "net-weights_manifest.json"
    manifest.write_text(json.dumps(groups))
    return manifest


def test_reads_float_int_and_quantized_tensors_across_shards(tmp_path: Path) -> None:
    conv = np.arange(24, dtype="<f4").reshape(2, 3, 1, 4)
    idx = np.array([7, -2], dtype="<i4")
    q = np.array([0, 128, 255], dtype=np.uint8)  # value = q * 0.5 - 1
    q16 = np.array([1, 65535], dtype="<u2")
    half = np.array([0.5, -2.0], dtype="<f2")
    payload = conv.tobytes() + idx.tobytes() + q.tobytes() + q16.tobytes() + half.tobytes()
    groups = [{"paths": ["g1-shard1", "g1-shard2"], "weights": [
        {"name": "a/conv/filters", "shape": [2, 3, 1, 4], "dtype": "float32"},
        {"name": "a/index", "shape": [2], "dtype": "int32"},
        {"name": "a/q8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
        {"name": "a/q16", "shape": [2], "dtype": "float32",
         "quantization": {"dtype": "uint16", "scale": 0.001, "min": 0.0}},
        {"name": "a/half", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}}]},
        {"paths": ["g2"], "weights": [{"name": "fc/bias", "shape": [], "dtype": "float32"}]}]
    manifest = _write(tmp_path, groups, {"g1-shard1": payload[:50], "g1-shard2": payload[50:],
                                         "g2": np.array(3.25, dtype="<f4").tobytes()})
    w = read_tfjs_weights(manifest)
    assert list(w) == ["a/conv/filters", "a/index", "a/q8", "a/q16", "a/half", "fc/bias"]
    np.testing.assert_array_equal(w["a/conv/filters"], conv)
    assert w["a/index"].dtype == np.int32 and w["a/index"].tolist() == [7, -2]
    np.testing.assert_allclose(w["a/q8"], [-1.0, 63.0, 126.5])
    np.testing.assert_allclose(w["a/q16"], [0.001, 65.535], rtol=1e-6)
    assert w["a/half"].dtype == np.float32 and w["a/half"].tolist() == [0.5, -2.0]
    assert w["fc/bias"].shape == () and float(w["fc/bias"]) == 3.25


def test_model_json_with_weights_manifest_and_shard_dir(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "w.bin").write_bytes(np.ones(4, "<f4").tobytes())
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"modelTopology": {}, "weightsManifest": [
        {"paths": ["w.bin"], "weights": [{"name": "k", "shape": [2, 2], "dtype": "float32"}]}]}))
    assert read_tfjs_weights(model, shard_dir=shards)["k"].tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_inconsistent_manifests_are_refused(tmp_path: Path) -> None:
    specs = weight_specs({"paths": [], "weights": [{"name": "w", "shape": [3], "dtype": "float32"}]})
    with pytest.raises(TfjsWeightsError, match="needs bytes"):
        decode_weights(b"\0" * 8, specs)
    with pytest.raises(TfjsWeightsError, match="describes 12"):
        decode_weights(b"\0" * 16, specs)
    dup = weight_specs({"paths": [], "weights": [{"name": "w", "shape": [1], "dtype": "float32"}] * 2})
    with pytest.raises(TfjsWeightsError, match="named twice"):
        decode_weights(b"\0" * 8, dup)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"weights": []}))
    with pytest.raises(TfjsWeightsError, match="not a tfjs weights manifest"):
        read_tfjs_weights(bad)
    with pytest.raises(TfjsWeightsError, match="unsupported dtype"):
        decode_weights(b"", weight_specs({"paths": [], "weights": [{"name": "s", "shape": [0], "dtype": "string"}]}))

"""Unit tests of bloomwell_ml: factory, spec, save/load round trips, preprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bloomwell_ml.arch import create_model
from bloomwell_ml.io import SPEC_EXTRA_FILE, load_model, save_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.paths import convnext_model_path, default_model_path
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.spec import ModelSpec

TINY = {"dims": [8, 16], "depths": [1, 1], "head_hidden": 16}


def tiny_spec() -> ModelSpec:
    return ModelSpec(arch="convnext_face", arch_kwargs=dict(TINY), image_size=32, name="tiny", version="t")


def test_create_model_output_shape() -> None:
    for norm in ("bn", "ln"):
        model = create_model("convnext_face", norm=norm, **TINY).eval()
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, len(EMOTIONS))


def test_stem_and_downsample_variants_keep_the_stage_resolutions() -> None:
    for stem, ds in (("conv3", 2), ("deep", 3), ("patch", 2)):
        model = create_model("convnext_face", stem=stem, downsample_kernel=ds, **TINY).eval()
        features = model.forward_features(torch.randn(2, 3, 32, 32))
        assert features.shape == (2, TINY["dims"][-1], 1, 1)
        assert model.stages[1][1].kernel_size == (ds, ds)
        assert model.stages[1][:2](torch.randn(1, 8, 16, 16)).shape == (1, 16, 8, 8)


def test_create_model_rejects_unknown_arch() -> None:
    with pytest.raises(ValueError, match="unknown arch"):
        create_model("resnet50")


def test_spec_dict_round_trip() -> None:
    spec = tiny_spec()
    assert ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec.labels == EMOTIONS


def test_save_load_round_trip_same_outputs(tmp_path: Path) -> None:
    spec = tiny_spec()
    model = create_model(spec.arch, **spec.arch_kwargs).eval()
    path = save_model(tmp_path / "m.pt", model, spec)
    loaded = load_model(path, "cpu")
    assert loaded.spec == spec
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), model(x))


def test_load_torchscript_with_spec(tmp_path: Path) -> None:
    spec = tiny_spec()
    model = create_model(spec.arch, **spec.arch_kwargs).eval()
    scripted = torch.jit.trace(model, torch.randn(1, 3, 32, 32))
    path = tmp_path / "m.ts"
    torch.jit.save(scripted, str(path), _extra_files={SPEC_EXTRA_FILE: json.dumps(spec.to_dict())})
    loaded = load_model(path)
    assert loaded.spec == spec
    probs = loaded.predict_proba([np.zeros((40, 50, 3), np.uint8)])
    assert probs.shape == (1, 7)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_preprocess_faces_shape_and_grayscale() -> None:
    spec = tiny_spec()
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (60, 45, 3), dtype=np.uint8), rng.integers(0, 256, (20, 20), dtype=np.uint8)]
    x = preprocess_faces(crops, spec)
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32
    # grayscale: the three channels hold the same image (before per-channel normalisation)
    std = torch.tensor(spec.std).view(1, 3, 1, 1)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1)
    raw = x * std + mean
    torch.testing.assert_close(raw[:, 0], raw[:, 1], atol=1e-5, rtol=0)
    assert preprocess_faces([], spec).shape == (0, 3, 32, 32)


def test_default_model_path_layout() -> None:
    path = default_model_path()
    assert path.name == "bundle.json" and path.parent.parent.name == "models"
    assert path.is_file(), "the shipped model must be found where the worker looks for it"
    single = convnext_model_path()
    assert single.name == "model.pt" and single.is_file(), "2.2.0 stays selectable (MODEL_PATH)"


def test_predict_probs_applies_temperature_and_averages_views() -> None:
    """One forward pass of all views; logits divided by T before the softmax; mean over the views."""
    from bloomwell_ml.inference import predict_probs
    from bloomwell_ml.tta import tta_views

    torch.manual_seed(0)
    model = create_model("convnext_face", in_chans=1, **TINY).eval()
    x = torch.randn(3, 1, 48, 48)
    with torch.no_grad():
        plain = predict_probs(model, x)
        assert torch.allclose(plain, torch.softmax(model(x), 1), atol=1e-6)
        hot = predict_probs(model, x, temperature=4.0)
        assert torch.allclose(hot, torch.softmax(model(x) / 4.0, 1), atol=1e-6)
        assert hot.max() < plain.max()  # a higher temperature flattens the distribution
        views = tta_views(x, "flip")
        expected = torch.stack([torch.softmax(model(v) / 2.0, 1) for v in views]).mean(0)
        assert torch.allclose(predict_probs(model, x, "flip", temperature=2.0), expected, atol=1e-6)
    with pytest.raises(ValueError):
        predict_probs(model, x, temperature=0.0)


def test_old_model_files_load_with_temperature_one(tmp_path) -> None:
    spec = ModelSpec(arch="convnext_face", arch_kwargs=TINY, in_chans=1)
    path = save_model(tmp_path / "m.pt", create_model("convnext_face", in_chans=1, **TINY), spec)
    blob = torch.load(path, weights_only=True)
    del blob["spec"]["temperature"]
    torch.save(blob, path)
    assert load_model(path).spec.temperature == 1.0


def test_gateway_imports_no_ml_stack() -> None:
    """bloomwell_ml's __init__ and labels are torch-free, so the gateway and auth never load torch."""
    import subprocess
    import sys

    code = "import sys, services.api.main, services.auth.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Every shipped classifier model follows the ONNX rule (``bloomwell_ml.onnx_runtime``): each ``models/<name>/``
with a ``model.pt`` has the ``model.onnx`` that ``training.export`` writes, whose SHA-256 is the one in its model
card, whose metadata holds the ``.pt``'s spec, and whose logits and probabilities match the ``.pt`` on real faces.
A model added later (an ensemble member, a new version) is picked up here without a new test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bloomwell_ml.inference import predict_probs
from bloomwell_ml.io import load_model
from bloomwell_ml.onnx_runtime import ONNX_SPEC_KEY, file_sha256, load_onnx_model
from bloomwell_ml.paths import models_dir
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.tta import TTA_KINDS
from tests.conftest import SHARED_DATA

MODEL_FOLDERS = sorted(p.parent for p in models_dir().glob("*/model.pt"))


def _faces(n_per_class: int = 4) -> list[np.ndarray]:
    """FER2013 test faces (real), or seeded noise where the shared data is absent."""
    import cv2

    root = SHARED_DATA / "fer2013" / "test"
    paths = [p for d in sorted(root.glob("*")) for p in sorted(d.glob("*.jpg"))[:n_per_class]] if root.is_dir() else []
    if paths:
        return [cv2.imread(str(p)) for p in paths]
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8) for _ in range(16)]


def test_the_default_model_is_shipped_as_onnx_too() -> None:
    assert (models_dir() / "convnext-face48" / "model.onnx").is_file()
    assert MODEL_FOLDERS


@pytest.mark.parametrize("folder", MODEL_FOLDERS, ids=[p.name for p in MODEL_FOLDERS])
def test_model_onnx_matches_its_card_and_its_pt(folder: Path) -> None:
    onnx_path = folder / "model.onnx"
    assert onnx_path.is_file(), f"{folder.name}: run python -m training.export --model {folder}/model.pt " \
                                f"--out-dir {folder} --formats onnx"
    card = json.loads((folder / "model_card.json").read_text())
    assert card["onnx"]["file"] == "model.onnx"
    assert card["onnx"]["sha256"] == file_sha256(onnx_path)
    assert card["onnx"]["sha256"] in (folder / "MODEL_CARD.md").read_text()

    onnx_model = load_onnx_model(onnx_path)  # checks the card's SHA-256 itself
    loaded = load_model(folder / "model.pt", "cpu")
    assert onnx_model.spec == loaded.spec
    assert json.loads(onnx_model.module.metadata[ONNX_SPEC_KEY]) == loaded.spec.to_dict()

    x = preprocess_faces(_faces(), loaded.spec)
    with torch.inference_mode():
        ref_logits = loaded.module(x).numpy()
        got_logits = onnx_model.module(x.numpy())
        assert np.abs(got_logits - ref_logits).max() < 1e-4
        for tta in TTA_KINDS:
            temperature = loaded.spec.temperature_for(tta)
            ref = predict_probs(loaded.module, x, tta, temperature=temperature).numpy()
            got = predict_probs(onnx_model.module, x.numpy(), tta, temperature=temperature)
            assert isinstance(got, np.ndarray)
            assert np.abs(got - ref).max() < 1e-5, tta

"""Batched classification with a tiny real checkpoint through the real loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bloomwell_ml.io import load_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.preprocess import preprocess_faces
from bloomwell_ml.tta import resolve_tta, tta_views
from services.inference_worker.classifier import EmotionClassifier, pick_device
from tests.fixtures.worker import write_tiny_model


def crops(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(int(rng.integers(30, 120)),) * 2 + (3,), dtype=np.uint8) for _ in range(n)]


def test_predict_returns_one_probability_row_per_crop(tiny_model_path: Path) -> None:
    clf = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32")
    probs = clf.predict(crops(9))
    assert probs.shape == (9, len(EMOTIONS))
    assert probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()
    assert clf.name == "tiny-random-test"
    assert clf.predict([]).shape == (0, len(EMOTIONS))


def test_batched_equals_one_by_one(tiny_model_path: Path) -> None:
    clf = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32")
    batch = crops(6, seed=1)
    together = clf.predict(batch)
    alone = np.concatenate([clf.predict([c]) for c in batch])
    assert np.allclose(together, alone, atol=1e-5)


def test_chunks_larger_inputs_by_max_batch(tiny_model_path: Path) -> None:
    clf = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32", max_batch=4)
    full = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32")
    batch = crops(10, seed=2)
    assert np.allclose(clf.predict(batch), full.predict(batch), atol=1e-5)


def test_bf16_autocast_stays_close_to_fp32(tiny_model_path: Path) -> None:
    fp32 = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32", backend="torch")
    bf16 = EmotionClassifier.load(tiny_model_path, device="cpu", precision="bf16", backend="torch")
    assert bf16.runner.autocast_dtype == torch.bfloat16 and bf16.runner.channels_last  # type: ignore[attr-defined]
    batch = crops(4, seed=3)
    assert np.abs(fp32.predict(batch) - bf16.predict(batch)).max() < 0.05


def test_onnxruntime_backend_matches_pytorch(tiny_model_path: Path) -> None:
    """The CPU default (ONNX Runtime; this .pt has no .onnx beside it, so it is exported at load) gives PyTorch's
    probabilities, TTA and temperature too."""
    for tta in ("none", "five"):
        torch_clf = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32", backend="torch", tta=tta)
        ort_clf = EmotionClassifier.load(tiny_model_path, device="cpu", backend="auto", tta=tta)
        assert ort_clf.backend == "onnxruntime" and torch_clf.backend == "torch"
        batch = crops(6, seed=5)
        assert np.allclose(ort_clf.predict(batch), torch_clf.predict(batch), atol=1e-4)


def test_temperature_of_the_model_file_is_applied(tmp_path: Path) -> None:
    """A calibrated model file (spec.temperature) gives flatter probabilities through the one loader."""
    import dataclasses

    from bloomwell_ml.io import save_model

    plain_path = write_tiny_model(tmp_path / "plain.pt")
    loaded = load_model(plain_path, "cpu")
    hot_path = save_model(tmp_path / "hot.pt", loaded.module, dataclasses.replace(loaded.spec, temperature=3.0))
    batch = crops(5, seed=6)
    for backend in ("torch", "onnxruntime"):
        plain = EmotionClassifier.load(plain_path, device="cpu", precision="fp32", backend=backend)
        hot = EmotionClassifier.load(hot_path, device="cpu", precision="fp32", backend=backend)
        assert hot.temperature == 3.0
        assert (hot.predict(batch).max(axis=1) < plain.predict(batch).max(axis=1)).all()


def test_columns_follow_the_canonical_label_order(tmp_path: Path) -> None:
    shuffled = tuple(reversed(EMOTIONS))
    path = write_tiny_model(tmp_path / "reversed.pt", labels=shuffled)
    clf = EmotionClassifier.load(path, device="cpu", precision="fp32")
    batch = crops(3, seed=4)
    raw = load_model(path, "cpu").predict_proba(batch)  # columns in the checkpoint's (reversed) order
    assert np.allclose(clf.predict(batch), raw[:, ::-1], atol=1e-5)


def test_model_missing_a_label_is_refused(tmp_path: Path) -> None:
    path = write_tiny_model(tmp_path / "six.pt", labels=EMOTIONS[:6])
    with pytest.raises(ValueError, match="lack"):
        EmotionClassifier.load(path, device="cpu")


def test_auto_device_is_cuda_only_when_present() -> None:
    assert pick_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == "cpu" and pick_device("cuda:1") == "cuda:1"


def test_a_model_folder_runs_its_onnx_file_on_the_cpu(tmp_path: Path) -> None:
    """MODEL_PATH may name the .pt or the .onnx of a model folder: the CPU backend runs the .onnx (spec from its
    metadata, checksum from the card) and gives the .pt's probabilities on PyTorch."""
    from training.export import export_onnx

    pt = write_tiny_model(tmp_path / "model.pt", seed=3)
    export_onnx(pt, tmp_path)
    batch = crops(5, seed=9)
    expected = EmotionClassifier.load(pt, device="cpu", precision="fp32", backend="torch").predict(batch)
    for path in (pt, tmp_path / "model.onnx"):
        clf = EmotionClassifier.load(path, device="cpu")
        assert clf.backend == "onnxruntime" and "model.onnx" in clf.runner.describe()
        assert clf.name == "tiny-random-test"
        assert np.allclose(clf.predict(batch), expected, atol=1e-5)


def test_an_onnx_file_that_does_not_match_its_card_is_refused(tmp_path: Path) -> None:
    import json

    from training.export import export_onnx

    pt = write_tiny_model(tmp_path / "model.pt", seed=4)
    (tmp_path / "model_card.json").write_text(json.dumps({"name": "tiny"}))
    export_onnx(pt, tmp_path)  # records its SHA-256 in the card
    assert json.loads((tmp_path / "model_card.json").read_text())["onnx"]["file"] == "model.onnx"
    EmotionClassifier.load(pt, device="cpu")
    data = bytearray((tmp_path / "model.onnx").read_bytes())
    data[-1] ^= 1
    (tmp_path / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        EmotionClassifier.load(pt, device="cpu")


def test_flip_tta_averages_each_crop_with_its_mirror(tiny_model_path: Path) -> None:
    plain = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32")
    flip = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32", tta="flip")
    batch = crops(5, seed=6)
    mirrored = [np.ascontiguousarray(c[:, ::-1]) for c in batch]
    expected = (plain.predict(batch) + plain.predict(mirrored)) / 2
    got = flip.predict(batch)
    assert flip.tta == "flip" and plain.tta == "none"
    assert np.allclose(got, expected, atol=1e-5) and np.allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(got, plain.predict(batch), atol=1e-4)  # the mirror view changes the answer


def test_five_view_tta_matches_the_evaluation_views(tiny_model_path: Path) -> None:
    five = EmotionClassifier.load(tiny_model_path, device="cpu", precision="fp32", tta="five")
    batch = crops(4, seed=8)
    loaded = load_model(tiny_model_path, "cpu")
    x = preprocess_faces(batch, loaded.spec)
    with torch.inference_mode():
        expected = torch.stack([torch.softmax(loaded.module(v), 1) for v in tta_views(x, "five")]).mean(0)
    got = five.predict(batch)
    assert np.allclose(got, expected.numpy()[:, five._columns], atol=1e-5)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_unknown_tta_is_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="test-time augmentation"):
        EmotionClassifier.load(tiny_model_path, device="cpu", tta="ten")  # type: ignore[arg-type]


def test_auto_tta_is_one_view_on_cpu_and_five_on_an_accelerator(tiny_model_path: Path) -> None:
    assert resolve_tta("auto", "cpu") == "none"
    assert resolve_tta("auto", "cuda") == "five"
    assert resolve_tta("flip", "cuda") == "flip"
    assert EmotionClassifier.load(tiny_model_path, device="cpu", tta="auto").tta == "none"

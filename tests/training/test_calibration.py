"""Calibration maths and corruptions with known answers (pure functions, no data needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bloomwell_ml.inference import average_view_probs, predict_probs
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.tta import tta_views
from training.calibration import ece, fit_temperature, nll, reliability_bins, view_probs
from training.data import corruptions as c


def test_ece_of_a_hand_computed_case() -> None:
    # two predictions at confidence 0.9 (one right), two at 0.6 (both right): |0.5-0.9|/2 + |1.0-0.6|/2 = 0.4
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    labels = np.array([0, 1, 0, 1])
    assert ece(probs, labels) == pytest.approx(0.4)
    bins = reliability_bins(probs, labels)
    assert len(bins) == 15 and sum(b["count"] for b in bins) == 4
    full = [b for b in bins if b["count"]]
    assert [(b["count"], b["accuracy"]) for b in full] == [(2, 1.0), (2, 0.5)]


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    probs = np.tile([[0.75, 0.25]], (4, 1))
    assert ece(probs, np.array([0, 0, 0, 1])) == pytest.approx(0.0)


def test_nll_known_value() -> None:
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert nll(probs, np.array([0, 1])) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


def test_fit_temperature_recovers_the_generating_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (20000, 5)).astype(np.float32)
    true_t = 2.0
    p = torch.softmax(torch.from_numpy(logits) / true_t, 1).numpy()
    labels = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(logits[None], labels) == pytest.approx(true_t, rel=0.05)


def test_view_probs_is_predict_probs_and_flip_views_are_the_first_of_five() -> None:
    x = torch.randn(3, 3, 16, 16)
    five, flip = tta_views(x, "five"), tta_views(x, "flip")
    assert torch.equal(five[:2], flip) and torch.equal(five[:1], tta_views(x, "none"))
    weights = torch.randn(3 * 16 * 16, 7)

    def module(b: torch.Tensor) -> torch.Tensor:
        return b.flatten(1) @ weights

    logits = module(five.flatten(0, 1)).view(5, 3, 7)
    expected = predict_probs(module, x, "five", temperature=1.7)
    assert torch.allclose(average_view_probs(logits, 1.7), expected, atol=1e-6)
    assert np.allclose(view_probs(logits.numpy(), 1.7), expected.numpy(), atol=1e-6)


def test_spec_temperature_per_tta_kind_with_fallback_for_old_files() -> None:
    old = ModelSpec.from_dict({"temperature": 1.3})
    assert old.temperatures == {} and old.temperature_for("five") == 1.3
    new = ModelSpec.from_dict({"temperature": 1.5, "temperatures": {"none": 1.5, "five": 1.2}})
    assert new.temperature_for("five") == 1.2 and new.temperature_for("flip") == 1.5
    assert ModelSpec.from_dict(new.to_dict()) == new


IMG = (np.arange(48 * 48).reshape(48, 48) % 251).astype(np.uint8)


def test_photometric_corruptions_known_values() -> None:
    flat = np.full((4, 4), 100, np.uint8)
    assert (c.scale_intensity(flat, 0.5) == 50).all()
    assert (c.towards_white(np.zeros((2, 2), np.uint8), 80) == 80).all()
    assert (c.towards_white(np.full((2, 2), 255, np.uint8), 80) == 255).all()
    two = np.array([[50, 150]], np.uint8)
    assert c.contrast(two, 0.5).tolist() == [[75, 125]]
    assert c.gamma(np.array([[0, 255, 64]], np.uint8), 2.0).tolist() == [[0, 255, 16]]
    assert (c.gaussian_blur(flat, 2.0) == 100).all()


def test_geometric_and_random_corruptions_are_deterministic_and_keep_shape() -> None:
    for spec in c.FER2013_C:
        for level in spec.levels:
            a = c.corrupt_all(IMG[None], spec, level, seed=0)
            b = c.corrupt_all(IMG[None], spec, level, seed=0)
            assert a.shape == (1, 48, 48) and a.dtype == np.uint8
            assert np.array_equal(a, b), spec.name
    assert np.array_equal(c.rotate(IMG, 0.0), IMG)
    assert np.array_equal(c.crop_jitter(IMG, 0.0, np.random.default_rng(0)), IMG)
    occluded = c.occlude(np.zeros((48, 48), np.uint8), 0.25, np.random.default_rng(1))
    assert (occluded != 0).sum() in (0, 144)  # one 12×12 patch (grey level drawn; 0 leaves it unchanged)
    assert c.down_up(IMG, 24).shape == IMG.shape and c.jpeg(IMG, 20).shape == IMG.shape
    noisy = c.sensor_noise(np.full((100, 100), 128, np.uint8), 8, np.random.default_rng(0))
    assert abs(float(noisy.std()) - 8) < 0.5

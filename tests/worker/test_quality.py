"""The quality gate: measurements on real faces and the order of reasons."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bloomwell_ml.faces import Box, Landmarks, YuNetDetector
from bloomwell_ml.preprocess import to_model_image
from services.common.analysis import UnassessableReason, no_assessable_face_message
from services.common.schemas import FaceQuality
from services.inference_worker.quality import QualityThresholds, assess, estimate_yaw_deg, gate_image, measure
from tests.worker.conftest import SHARED_DATA


def marks(nose_x: float) -> Landmarks:
    return Landmarks((40, 50), (60, 50), (nose_x, 62), (44, 75), (56, 75))


def test_yaw_is_zero_for_a_frontal_face_and_signed_when_turned() -> None:
    assert estimate_yaw_deg(Box(0, 0, 100, 100, 1.0, marks(50))) == pytest.approx(0.0)
    right = estimate_yaw_deg(Box(0, 0, 100, 100, 1.0, marks(58)))
    left = estimate_yaw_deg(Box(0, 0, 100, 100, 1.0, marks(42)))
    assert right is not None and left is not None and right > 20 and left == pytest.approx(-right)
    assert estimate_yaw_deg(Box(0, 0, 100, 100)) is None


def good(**over: float) -> FaceQuality:
    base = {"face_px": 100, "sharpness": 500.0, "brightness": 120.0, "contrast": 50.0, "yaw_deg": 5.0,
            "roll_deg": 0.0}
    return FaceQuality(**{**base, **over})  # type: ignore[arg-type]


def test_reasons_come_in_the_order_a_person_can_act_on() -> None:
    t = QualityThresholds()
    assert assess(good(), t) is None
    assert assess(good(face_px=5, brightness=5), t) == UnassessableReason.too_small
    assert assess(good(brightness=5, sharpness=1), t) == UnassessableReason.too_dark
    assert assess(good(brightness=250), t) == UnassessableReason.overexposed
    assert assess(good(contrast=1), t) == UnassessableReason.low_contrast
    assert assess(good(sharpness=1), t) == UnassessableReason.blurred
    assert assess(good(yaw_deg=80), t) == UnassessableReason.turned_away
    assert assess(good(yaw_deg=None), t) is None  # no landmarks: pose unknown, not a reason


def test_real_face_degraded_on_purpose_is_measured_as_such() -> None:
    image = cv2.imread(str(SHARED_DATA / "samples_misc" / "fer_justin.jpg"))
    if image is None:
        pytest.skip("shared photo not available")
    ((face,),) = YuNetDetector().detect([image])
    crop = image[face.y : face.y + face.h, face.x : face.x + face.w]

    def q(img: np.ndarray) -> FaceQuality:
        return measure(to_model_image(img, 48, True, 1), face)

    clean = q(crop)
    assert assess(clean, QualityThresholds()) is None and clean.yaw_deg is not None
    assert q(cv2.GaussianBlur(crop, (0, 0), 6)).sharpness < clean.sharpness / 5
    assert q((crop * 0.15).astype(np.uint8)).brightness < clean.brightness / 4
    assert assess(q((crop * 0.1).astype(np.uint8)), QualityThresholds()) == UnassessableReason.too_dark


def test_the_no_assessable_face_message_names_the_commonest_reasons() -> None:
    text = no_assessable_face_message({"too_dark": 12, "too_small": 3, "blurred": 1})
    assert "too dark" in text and "too small" in text and "blurred" not in text
    assert "Please record again" in text


def test_the_worker_and_the_gateway_read_the_same_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """One definition: ``QUALITY__*`` sets the worker's gate and what the gateway publishes for the web app's check."""
    from services.api.config import ApiSettings
    from services.inference_worker.config import WorkerSettings

    monkeypatch.setenv("QUALITY__MIN_FACE_PX", "31")
    monkeypatch.setenv("QUALITY__MAX_YAW_DEG", "33.5")
    worker, gateway = WorkerSettings().quality, ApiSettings().quality
    assert worker == gateway
    assert (worker.min_face_px, worker.max_yaw_deg) == (31, 33.5)
    assert worker.min_sharpness == QualityThresholds().min_sharpness


def test_the_gate_measures_every_model_image_at_48_px_grey() -> None:
    """A 48 px grey model image (2.2.0) is measured as it is; a larger RGB one (the 3.x bundle's 112 px image) on its
    48 px grey version, so the thresholds measured at 48 px keep their meaning."""
    rng = np.random.default_rng(0)
    crop = cv2.GaussianBlur(rng.integers(0, 256, (150, 150, 3), dtype=np.uint8), (5, 5), 0)
    small = to_model_image(crop, 48, True, 3)
    assert np.array_equal(gate_image(small), small[:, :, 0])
    big = to_model_image(crop, 112, False, 3)
    gray = gate_image(big)
    assert gray.shape == (48, 48) and gray.dtype == np.uint8
    box = Box(0, 0, 150, 150)
    assert measure(big, box) == measure(gray, box)
    # close to measuring the crop at 48 px directly (two resizes instead of one)
    assert abs(measure(big, box).brightness - measure(small, box).brightness) < 2.0

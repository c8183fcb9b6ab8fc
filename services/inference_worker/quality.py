"""The quality gate: how readable each face is, and whether it is read at all.

Measured on the face as the classifier sees it (the model's input image, as grey levels at the 48 px the thresholds
were measured at: ``GATE_IMAGE_PX``) plus the detector's box and landmarks. The thresholds were chosen by
measurement — classifier accuracy per quality bin on FER2013 test faces degraded on purpose
(``bench/bench_quality.py``, figures in ``bench/README.md``): a face is assessable while the accuracy of its bin stays
within reach of clean faces.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from bloomwell_ml.crop import eye_roll_deg
from bloomwell_ml.faces import Box
from bloomwell_ml.preprocess import to_model_image
from services.common.analysis import UnassessableReason
from services.common.quality import GATE_IMAGE_PX, NOSE_DEPTH_RATIO, QualityThresholds
from services.common.schemas import FaceQuality

__all__ = ["NOSE_DEPTH_RATIO", "FaceQuality", "QualityThresholds", "assess", "estimate_yaw_deg", "gate_image",
           "measure"]


def estimate_yaw_deg(box: Box) -> float | None:
    """The head's turn in degrees (0 frontal, sign: towards the image's right), from the nose's offset from the
    eye midpoint relative to the eye distance; None without landmarks."""
    marks = box.landmarks
    if marks is None:
        return None
    (rx, ry), (lx, ly), (nx, ny) = marks.right_eye, marks.left_eye, marks.nose
    eye_distance = math.hypot(lx - rx, ly - ry)
    if eye_distance < 1e-6:
        return 90.0
    # offset of the nose along the eye line, from the eye midpoint
    ux, uy = (lx - rx) / eye_distance, (ly - ry) / eye_distance
    offset = (nx - (rx + lx) / 2.0) * ux + (ny - (ry + ly) / 2.0) * uy
    return math.degrees(math.atan((offset / eye_distance) / NOSE_DEPTH_RATIO))


def gate_image(model_image: np.ndarray) -> np.ndarray:
    """A model-input image (uint8, H×W or H×W×C; grey or RGB) as the grey ``GATE_IMAGE_PX`` square the quality
    thresholds and the pipeline's "face unchanged" test were measured on (the image itself for a 48 px grey model)."""
    gray = model_image if model_image.ndim == 2 else model_image[:, :, 0] if model_image.shape[2] == 1 else (
        cv2.cvtColor(model_image, cv2.COLOR_RGB2GRAY))
    if gray.shape[:2] != (GATE_IMAGE_PX, GATE_IMAGE_PX):
        gray = to_model_image(gray, GATE_IMAGE_PX, grayscale=True, in_chans=1)[:, :, 0]
    return np.ascontiguousarray(gray)


def measure(model_image: np.ndarray, box: Box) -> FaceQuality:
    """Quality of one face from its model-input image (uint8, H×W or H×W×C; grey or RGB; see :func:`gate_image`)
    and its detector box."""
    gray = gate_image(model_image)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    mean, std = cv2.meanStdDev(gray)
    return FaceQuality(
        face_px=box.short_side,
        sharpness=sharpness,
        brightness=float(mean[0][0]),
        contrast=float(std[0][0]),
        yaw_deg=estimate_yaw_deg(box),
        roll_deg=eye_roll_deg(box),
    )


def assess(quality: FaceQuality, thresholds: QualityThresholds) -> UnassessableReason | None:
    """The first reason this face cannot be read, in the order a person can act on (size, light, focus, pose);
    None when it is assessable."""
    t = thresholds
    if quality.face_px < t.min_face_px:
        return UnassessableReason.too_small
    if quality.brightness < t.min_brightness:
        return UnassessableReason.too_dark
    if quality.brightness > t.max_brightness:
        return UnassessableReason.overexposed
    if quality.contrast < t.min_contrast:
        return UnassessableReason.low_contrast
    if quality.sharpness < t.min_sharpness:
        return UnassessableReason.blurred
    if quality.yaw_deg is not None and abs(quality.yaw_deg) > t.max_yaw_deg:
        return UnassessableReason.turned_away
    return None

"""The one face-crop geometry, shared by the inference worker and training/evaluation.

A crop is the square of side ``max(w, h)`` centred on a detector's box, grown by ``margin`` of that side on
each edge; where it leaves the frame, edge pixels are repeated so the face is never stretched.
"""

from __future__ import annotations

import cv2
import numpy as np

from bloomwell_ml.faces import Box


def _square(box: Box, margin: float) -> tuple[int, int, int, int]:
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    half = max(box.w, box.h) * (0.5 + margin)
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    side = max(1, int(round(2 * half)))
    return x0, y0, x0 + side, y0 + side


def crop_region(box: Box, width: int, height: int, margin: float = 0.0) -> tuple[int, int, int, int]:
    """The square region ``(x0, y0, x1, y1)`` centred on ``box``, of side ``max(w, h)`` grown by ``margin`` of
    it on each side, clipped to the frame."""
    x0, y0, x1, y1 = _square(box, margin)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def eye_roll_deg(box: Box) -> float | None:
    """Angle of the eye line against the horizontal, degrees (positive: the subject's left eye is lower in the
    image); None without landmarks."""
    if box.landmarks is None:
        return None
    (rx, ry), (lx, ly) = box.landmarks.right_eye, box.landmarks.left_eye
    return float(np.degrees(np.arctan2(ly - ry, lx - rx)))


def crop_square(frame: np.ndarray, box: Box, margin: float = 0.0, align: bool = False,
                max_side: int | None = None) -> np.ndarray:
    """The square face crop of :func:`crop_region`; where the square leaves the frame (a face at an edge),
    the edge pixels are repeated so the crop stays square and the face is not stretched when resized.

    ``align``: when the box has landmarks, the square is rotated about the box's centre so the eye line is level
    (same centre and side as without alignment, so the framing the model was trained on is kept).
    ``max_side`` bounds the crop's size in pixels (it is resized to the model's input anyway): large faces are
    then sampled directly at that size instead of being copied at full resolution first.
    """
    roll = eye_roll_deg(box) if align else None
    if roll is not None or (max_side is not None and max(box.w, box.h) * (1 + 2 * margin) > max_side):
        return _warped_square(frame, box, margin, roll or 0.0, max_side)
    height, width = frame.shape[:2]
    sx0, sy0, sx1, sy1 = _square(box, margin)
    x0, y0, x1, y1 = crop_region(box, width, height, margin)
    crop = frame[y0:y1, x0:x1]
    top, left = y0 - sy0, x0 - sx0
    bottom, right = sy1 - y1, sx1 - x1
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, max(0, top), max(0, bottom), max(0, left), max(0, right), cv2.BORDER_REPLICATE)
    return crop


def _warped_square(frame: np.ndarray, box: Box, margin: float, roll_deg: float, max_side: int | None) -> np.ndarray:
    """The square of :func:`_square` rotated by ``roll_deg`` about its centre, sampled at ``max_side`` pixels at
    most, in one affine warp (edge pixels repeated outside the frame)."""
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    side = max(1.0, 2 * max(box.w, box.h) * (0.5 + margin))
    out = int(round(side)) if max_side is None else max(1, min(int(round(side)), max_side))
    scale = out / side
    # Output pixel (u, v) ↔ source point: centre + R(roll) · (u - out/2, v - out/2) / scale.
    rotation = cv2.getRotationMatrix2D((out / 2.0, out / 2.0), -roll_deg, 1.0 / scale)
    rotation[0, 2] += cx - out / 2.0
    rotation[1, 2] += cy - out / 2.0
    return cv2.warpAffine(frame, rotation, (out, out), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)

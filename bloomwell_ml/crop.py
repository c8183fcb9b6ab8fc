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


def crop_square(frame: np.ndarray, box: Box, margin: float = 0.0) -> np.ndarray:
    """The square face crop of :func:`crop_region`; where the square leaves the frame (a face at an edge),
    the edge pixels are repeated so the crop stays square and the face is not stretched when resized."""
    height, width = frame.shape[:2]
    sx0, sy0, sx1, sy1 = _square(box, margin)
    x0, y0, x1, y1 = crop_region(box, width, height, margin)
    crop = frame[y0:y1, x0:x1]
    top, left = y0 - sy0, x0 - sx0
    bottom, right = sy1 - y1, sx1 - x1
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, max(0, top), max(0, bottom), max(0, left), max(0, right), cv2.BORDER_REPLICATE)
    return crop

"""The quality gate's thresholds: where a face stops being readable.

One definition, read from the environment (``QUALITY__MIN_FACE_PX=24``, …) by both the worker, which marks faces
outside them as not assessable (``services.inference_worker.quality``), and the gateway, which publishes them in
``GET /v1/config`` so the web app's live face check holds the camera picture to the same standard.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field

NOSE_DEPTH_RATIO: Final[float] = 0.55
"""Depth of the nose tip in front of the eyes, as a share of the distance between the eyes (an adult average):
with it, the nose's sideways offset from the eye midpoint gives the head's turn."""


GATE_IMAGE_PX: Final[int] = 48
"""Side of the grey image the sharpness, brightness and contrast are measured on: the 48 px input the thresholds were
measured at (``bench/bench_quality.py`` with the 2.x ConvNeXt). A model with a larger input (the 3.x bundle's 112 px
RGB image) is measured on its image resized to this, so the thresholds keep their meaning."""


class QualityThresholds(BaseModel):
    """Where a face stops being readable: where one-view accuracy on degraded FER2013 test faces falls 10 points
    below clean faces (``bench/bench_quality.py``, interpolated between its levels; figures in ``bench/README.md``)."""

    min_face_px: int = Field(default=26, ge=0, description="shorter side of the face box, source pixels")
    min_sharpness: float = Field(default=140.0, ge=0, description="variance of the Laplacian of the 48 px grey face")
    min_brightness: float = Field(default=28.0, ge=0, le=255, description="mean grey level, 0-255")
    max_brightness: float = Field(default=215.0, ge=0, le=255)
    min_contrast: float = Field(default=10.5, ge=0, description="standard deviation of the grey levels")
    max_yaw_deg: float = Field(default=40.0, gt=0, le=90, description="estimated head turn from the landmarks")

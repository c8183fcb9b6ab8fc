"""The face check a client runs before recording: the worker's own detector settings and quality thresholds.

Nothing here is a copy: the detector's settings are the defaults of :class:`bloomwell_ml.faces.YuNetDetector` (the
worker's default detector), the model file is identified by the checksum the worker verifies, the face image size is
the model spec's, and the thresholds are the shared ``QUALITY__*`` settings.
"""

from __future__ import annotations

import inspect
from functools import cache

from bloomwell_ml.faces import YUNET_SHA256, YuNetDetector
from bloomwell_ml.spec import ModelSpec
from services.api.analyses.schemas import FaceCheckConfig, FaceDetectorConfig
from services.common.quality import NOSE_DEPTH_RATIO, QualityThresholds


@cache
def yunet_defaults() -> FaceDetectorConfig:
    """YuNet as the worker runs it by default."""
    params = inspect.signature(YuNetDetector.__init__).parameters
    return FaceDetectorConfig(
        name=YuNetDetector.name,
        model_sha256=YUNET_SHA256,
        max_side=params["max_side"].default,
        score_threshold=params["score_threshold"].default,
        nms_threshold=params["nms_threshold"].default,
        min_face_px=params["min_face_px"].default,
    )


def face_check_config(quality: QualityThresholds) -> FaceCheckConfig:
    """The ``face_check`` block of ``GET /v1/config``."""
    return FaceCheckConfig(
        quality=quality,
        image_px=ModelSpec().image_size,
        nose_depth_ratio=NOSE_DEPTH_RATIO,
        detector=yunet_defaults(),
    )

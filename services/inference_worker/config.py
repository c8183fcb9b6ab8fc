"""The inference worker's settings (environment variables, names upper-cased, e.g. ``FACE_DETECTOR``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from bloomwell_ml.paths import default_model_path
from bloomwell_ml.tta import TestTimeAugmentation
from services.common.settings import CommonSettings


class WorkerSettings(CommonSettings):
    """Configuration of the inference worker; shared fields (database, Redis, storage) come from the base."""

    model_path: Path | None = Field(default=None, description="checkpoint to load; default: the shipped model")
    inference_device: str = Field(default="auto", description="auto (CUDA if present, else CPU), cpu, cuda, cuda:1")
    inference_precision: Literal["auto", "fp32", "bf16"] = "auto"
    inference_tta: TestTimeAugmentation = Field(
        default="five",
        description="five: the paper's 5-view TTA of training.evaluate --tta (5x classifier compute; FER2013 test "
        "70.5 % with the default model); flip: each face and its mirror image (2x; 69.5 %); none: one view (68.6 %)",
    )
    classifier_max_batch: int = Field(default=256, ge=1, description="most crops in one forward pass")
    torch_num_threads: int = Field(default=0, ge=0, description="torch intra-op threads; 0 = torch default")

    face_detector: Literal["haar", "mtcnn"] = Field(
        default="mtcnn",
        description="mtcnn (facenet-pytorch, installed with --no-deps; falls back to haar when absent) or haar",
    )
    detector_num_threads: int = Field(default=1, ge=0, description="torch threads for MTCNN on CPU; 0 = as torch")
    max_faces_per_frame: int = Field(default=5, ge=1)
    min_face_frac: float = Field(default=0.1, gt=0, le=1, description="smallest face, share of the short side")
    crop_margin: float = Field(
        default=0.0, ge=-0.2, le=1.0,
        description="share of the face size added per side of the square crop the classifier sees; 0 matches "
        "FER2013's framing for both detectors (measured: MTCNN -0.03, Haar +0.01, on 300 FER2013 test faces)",
    )
    saved_crop_margin: float = Field(default=0.25, ge=0.0, le=1.0, description="margin of the stored JPEG crops")
    max_crops_kept: int = Field(default=48, ge=0, description="JPEG face crops kept per analysis")
    crop_jpeg_quality: int = Field(default=88, ge=10, le=100)

    frame_batch_size: int = Field(default=16, ge=1, description="sampled frames detected + classified together")
    max_duration_s: float = Field(default=60.0, gt=0, description="video time analysed at most")
    default_sample_fps: float = Field(default=5.0, gt=0)
    min_sample_fps: float = 0.5
    max_sample_fps: float = 30.0
    sustained_negative_s: float = Field(default=3.0, gt=0)
    fail_on_no_face: bool = Field(
        default=True, description="a video without any face fails with error_code no_face (else succeeds empty)"
    )

    progress_db_interval_s: float = Field(default=2.0, ge=0, description="least time between DB progress writes")
    task_max_retries: int = Field(default=8, ge=0, description="retries of transient (DB/Redis) failures (~4 min)")
    task_retry_backoff_max_s: int = Field(default=120, ge=1)
    task_max_attempts: int = Field(default=4, ge=1, description="deliveries before a job that kills workers fails")

    recovery_interval_s: float = Field(default=120.0, ge=0, description="sweep for lost jobs every N s; 0 = off")
    recovery_queued_grace_s: float = Field(default=120.0, gt=0, description="queued this long without a message")
    recovery_processing_grace_s: float = Field(
        default=420.0, gt=0, description="processing this long without a message (beyond the hard time limit)"
    )

    webhook_secret: str = Field(default="", description="HMAC-SHA256 key for X-Bloomwell-Signature")
    webhook_timeout_s: float = 5.0

    @property
    def resolved_model_path(self) -> Path:
        """``MODEL_PATH`` if set, else the shipped default model."""
        return self.model_path or default_model_path()

    def clamp_sample_fps(self, value: float | None) -> float:
        """The sampling rate to use for an analysis (its own, kept within the allowed range)."""
        fps = value if value and value > 0 else self.default_sample_fps
        return float(min(self.max_sample_fps, max(self.min_sample_fps, fps)))


@lru_cache(maxsize=1)
def get_settings() -> WorkerSettings:
    """The process's settings, read once."""
    return WorkerSettings()

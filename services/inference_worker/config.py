"""The inference worker's settings (environment variables, names upper-cased, e.g. ``FACE_DETECTOR``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from bloomwell_ml.faces import MTCNN_UNAVAILABLE, mtcnn_missing_packages
from bloomwell_ml.paths import default_model_path
from bloomwell_ml.tta import TtaSetting
from services.common.analysis import UNCLEAR_BELOW
from services.common.heartbeat import HeartbeatSettings
from services.common.settings import AnalysisLimits, QueueSettings, read_secret_file
from services.inference_worker.aggregate import AggregateOptions
from services.inference_worker.pipeline import PipelineOptions
from services.inference_worker.reid import FACES_PER_TRACK, MIN_SIMILARITY
from services.inference_worker.smoothing import Smoother, SmoothingOptions


class WorkerSettings(QueueSettings, AnalysisLimits, HeartbeatSettings):
    """Configuration of the inference worker; shared fields come from the bases (database, Redis, storage; the
    queue and time limits; what is analysed; the heartbeat)."""

    model_path: Path | None = Field(default=None, description="checkpoint to load; default: the shipped model")
    inference_device: str = Field(default="auto", description="auto (CUDA if present, else CPU), cpu, cuda, cuda:1")
    inference_precision: Literal["auto", "fp32", "bf16"] = "auto"
    inference_tta: TtaSetting = Field(
        default="auto",
        description="auto: five on CUDA, none on CPU (where each view is a whole forward pass per face; "
        "bench/README.md); five: the paper's 5-view TTA of training.evaluate --tta (5x classifier compute; "
        "FER2013 test 70.5 % with the default model); flip: each face and its mirror image (2x; 69.5 %); "
        "none: one view (68.6 %)",
    )
    classifier_max_batch: int = Field(default=256, ge=1, description="most crops in one forward pass")
    torch_num_threads: int = Field(
        default=0, ge=0, description="intra-op threads of the emotion model (ONNX Runtime on CPU, else torch); 0 = its "
        "default",
    )

    inference_backend: Literal["auto", "torch", "onnxruntime"] = Field(
        default="auto", description="auto: ONNX Runtime on CPU (the model folder's model.onnx; torch is not "
        "imported), PyTorch on CUDA; torch: PyTorch on any device (needs requirements-torch.txt)"
    )
    worker_jobs: int = Field(
        default=1, ge=1, le=64,
        description="videos one worker process analyses at once (threads sharing one model and one forward-pass "
        "thread; more than 1 keeps a GPU busy, see bench/README.md); the Celery concurrency of a threads pool",
    )

    face_detector: Literal["yunet", "mtcnn", "haar"] = Field(
        default="yunet",
        description="yunet (OpenCV FaceDetectorYN, models/face_detector/, landmarks), mtcnn (facenet-pytorch; needs "
        "PyTorch: the worker refuses to start without it) or haar (OpenCV cascade)",
    )
    detector_max_side: int | None = Field(
        default=None, ge=64, description="frames are scaled to this long side for detection (default: yunet 320, "
        "mtcnn/haar 640)"
    )
    detector_score_threshold: float | None = Field(
        default=None, gt=0, lt=1, description="least detector confidence (default: yunet 0.7, mtcnn 0.9)"
    )
    detector_num_threads: int = Field(default=1, ge=0, description="torch threads for MTCNN on CPU; 0 = as torch")
    max_faces_per_frame: int = Field(default=5, ge=1)
    min_face_frac: float = Field(
        default=0.1, gt=0, le=1, description="mtcnn/haar: smallest face looked for, share of the short side"
    )
    min_face_px: int = Field(default=12, ge=4, description="yunet: smallest face box kept (the gate judges size)")
    crop_margin: float = Field(
        default=0.0, ge=-0.2, le=1.0,
        description="share of the face size added per side of the square crop the classifier sees; 0 matches "
        "FER2013's framing (measured in bench/README.md: YuNet +0.02, MTCNN -0.03, Haar +0.01)",
    )
    align_faces: bool = Field(
        default=True, description="rotate each crop so the eye line is level (detectors with landmarks)"
    )
    saved_crop_margin: float = Field(default=0.25, ge=0.0, le=1.0, description="margin of the stored JPEG crops")
    max_crops_kept: int = Field(default=48, ge=0, description="JPEG face crops kept per analysis")
    crop_jpeg_quality: int = Field(default=88, ge=10, le=100)

    frame_batch_size: int = Field(default=16, ge=1, description="sampled frames detected + classified together")
    detect_interval_s: float = Field(
        default=0.2, ge=0, description="the face detector runs on one sampled frame per this much video (0: every "
        "frame) and the tracker carries the boxes in between; frames around a shot change, a face appearing or "
        "leaving, a confidence drop or fast motion are all detected (at 5 frames/s: every frame)",
    )
    classify_interval_s: float = Field(
        default=0.2, ge=0, description="a followed face is classified again at least this often (0: every frame); "
        "in between only when its model image changed by more than MAX_FACE_CHANGE (at 5 frames/s: every frame)",
    )
    max_face_change: float = Field(
        default=8.0, ge=0, description="mean grey-level difference of a track's 48 px model image from the one last "
        "classified above which it is classified again before CLASSIFY_INTERVAL_S",
    )
    carry_min_score: float = Field(
        default=0.8, ge=0, le=1, description="boxes are carried between two detections only where the detector's "
        "confidence is at least this at both",
    )
    carry_min_iou: float = Field(
        default=0.5, ge=0, le=1, description="... and each face's two boxes overlap at least this much (IoU)",
    )
    sustained_negative_s: float = Field(default=3.0, gt=0)
    min_track_s: float = Field(default=0.5, ge=0, description="shorter face tracks are not counted as a person")
    unclear_below: float = Field(
        default=UNCLEAR_BELOW, gt=0, lt=1,
        description="a stretch whose mean probability of its expression is under this is reported unclear; the default "
        "comes from the shipped model's calibration figures (services.common.analysis.UNCLEAR_BELOW, "
        "python -m training.unclear_threshold): set it from that script's output when serving another model",
    )
    track_lost_s: float = Field(default=1.0, gt=0, description="a track survives this long without its face")
    reid_min_similarity: float = Field(
        default=MIN_SIMILARITY, ge=-1, le=1, description="tracks never seen together are one person when every pair of "
        "their face descriptors has at least this cosine similarity (measured by scripts/measure_reid.py)",
    )
    reid_faces_per_track: int = Field(
        default=FACES_PER_TRACK, ge=0, description="clearest readable faces embedded per track; 0 turns "
        "re-identification off",
    )
    smoothing: Smoother = Field(default="hmm", description="hmm (sticky HMM), gaussian, or none")
    smoothing_tau_s: float = Field(default=2.0, gt=0, description="hmm: mean time an expression lasts")
    smoothing_sigma_s: float = Field(default=0.6, gt=0, description="gaussian: kernel width in seconds")
    smoothing_max_gap_s: float = Field(default=1.0, gt=0, description="a longer unreadable gap restarts smoothing")
    smoothing_evidence_s: float = Field(
        default=0.2, ge=0, description="hmm: frames closer together than this share one observation's weight, so "
        "a timeline does not depend on the frames analysed per second (0: every frame counts fully)",
    )
    fail_on_no_face: bool = Field(
        default=True, description="a video without any (readable) face fails with no_face / no_assessable_face"
    )
    progress_db_interval_s: float = Field(default=2.0, ge=0, description="least time between DB progress writes")
    progress_event_interval_s: float = Field(
        default=0.25, ge=0, description="least time between two progress events of one stage (a new stage is always "
        "published at once); 0 = an event after every batch of frames",
    )
    task_max_retries: int = Field(default=8, ge=0, description="retries of transient (DB/Redis) failures (~4 min)")
    task_retry_backoff_max_s: int = Field(default=120, ge=1)
    task_max_attempts: int = Field(default=4, ge=1, description="deliveries before a job that kills workers fails")

    recovery_interval_s: float = Field(default=120.0, ge=0, description="sweep for lost jobs every N s; 0 = off")
    recovery_queued_grace_s: float = Field(default=120.0, gt=0, description="queued this long without a message")
    recovery_processing_grace_s: float = Field(
        default=420.0, gt=0, description="processing this long without a message (beyond the hard time limit)"
    )

    orphan_part_grace_s: float = Field(
        default=900.0, gt=0, description="an incoming upload (.part) this old with no row is deleted"
    )
    orphan_file_grace_s: float = Field(
        default=60.0, gt=0,
        description="a video/crops with no row (or a .part whose row exists but was never published) this old "
        "is deleted (or published); below RECOVERY_QUEUED_GRACE_S so a video is in place before its job is re-queued",
    )

    webhook_secret: str = Field(default="", description="HMAC-SHA256 key for X-Bloomwell-Signature; required "
                                "when ENVIRONMENT=production")
    webhook_secret_file: Path | None = Field(
        default=None, description="file holding WEBHOOK_SECRET (a Docker secret); read at start-up"
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="how long one webhook attempt may take in all")
    webhook_max_attempts: int = Field(
        default=10, ge=1, description="attempts of one webhook delivery before it is given up (recorded as failed)"
    )
    webhook_retry_base_s: float = Field(
        default=10.0, gt=0, description="wait after the first failed attempt; doubled after each further one"
    )
    webhook_retry_max_s: float = Field(default=3600.0, gt=0, description="longest wait between two attempts")
    webhook_sweep_interval_s: float = Field(
        default=5.0, ge=0, description="how often each worker delivers due webhooks from the outbox; 0 = off"
    )
    webhook_retention_s: float = Field(
        default=7 * 24 * 3600.0, ge=0, description="ended webhook deliveries (delivered, or given up) are deleted "
        "from the outbox this long after they ended; 0 = kept",
    )

    worker_metrics_port: int = Field(
        default=9108, ge=0, le=65535,
        description="port of the worker's Prometheus /metrics (served by the main process for all pool processes); "
        "0 disables it",
    )
    worker_metrics_host: str = Field(default="0.0.0.0", description="address the metrics server binds to")
    prometheus_multiproc_dir: Path | None = Field(
        default=None, description="where pool processes keep their metric values (emptied at start); default: a "
        "fresh temporary folder, removed at shutdown"
    )

    @model_validator(mode="after")
    def _mtcnn_needs_torch(self) -> WorkerSettings:
        """A clear start-up error (not a failure per job) where MTCNN is chosen but cannot run."""
        if self.face_detector == "mtcnn" and (missing := mtcnn_missing_packages()):
            raise ValueError(MTCNN_UNAVAILABLE.format(missing=", ".join(missing)))
        return self

    @model_validator(mode="after")
    def _require_webhook_secret_in_production(self) -> WorkerSettings:
        if not self.webhook_secret and self.webhook_secret_file is not None:
            self.webhook_secret = read_secret_file("WEBHOOK_SECRET_FILE", self.webhook_secret_file).strip()
        self.require_configured("webhook_secret", self.webhook_secret)
        return self

    @property
    def resolved_model_path(self) -> Path:
        """``MODEL_PATH`` if set, else the shipped default model."""
        return self.model_path or default_model_path()

    def pipeline_options(self, sample_fps: float | None) -> PipelineOptions:
        """How to analyse a video asking for ``sample_fps`` (kept within the accepted range): the one conversion from
        settings to the pipeline's and the aggregation's options, each field under its setting's name."""
        aggregate = AggregateOptions(
            sample_fps=self.clamp_sample_fps(sample_fps),
            sustained_negative_s=self.sustained_negative_s,
            min_track_s=self.min_track_s,
            unclear_below=self.unclear_below,
            smoothing=SmoothingOptions(method=self.smoothing, tau_s=self.smoothing_tau_s,
                                       sigma_s=self.smoothing_sigma_s, max_gap_s=self.smoothing_max_gap_s,
                                       evidence_s=self.smoothing_evidence_s),
        )
        return PipelineOptions(
            aggregate=aggregate,
            max_duration_s=self.max_duration_s,
            frame_batch_size=self.frame_batch_size,
            crop_margin=self.crop_margin,
            align_faces=self.align_faces,
            saved_crop_margin=self.saved_crop_margin,
            max_crops_kept=self.max_crops_kept,
            crop_jpeg_quality=self.crop_jpeg_quality,
            track_lost_s=self.track_lost_s,
            quality=self.quality,
            max_frame_pixels=self.max_frame_pixels,
            detect_interval_s=self.detect_interval_s,
            classify_interval_s=self.classify_interval_s,
            max_face_change=self.max_face_change,
            carry_min_score=self.carry_min_score,
            carry_min_iou=self.carry_min_iou,
            reid_min_similarity=self.reid_min_similarity,
            reid_faces_per_track=self.reid_faces_per_track,
        )


@lru_cache(maxsize=1)
def get_settings() -> WorkerSettings:
    """The process's settings, read once."""
    return WorkerSettings()

"""The analysis pipeline without I/O to DB or queue: decode → sample → detect → batched classify → aggregate."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import FaceDetector
from services.common.video import DecodedFrame
from services.inference_worker.aggregate import FaceObservation, FrameObservation, build_summary, frames_document
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.frames import expected_samples, sample_frames


class NoFrames(Exception):
    """The video opened but not one frame could be decoded from it."""


ProgressCallback = Callable[[str, int, int], None]
"""Called with (stage, frames done, frames expected): ``classifying`` once a batch's faces are found,
``detecting`` once they are classified and the next batch is being decoded."""


@dataclass
class Timings:
    """Seconds spent per stage (decode includes sampling); for logs and the benchmark."""

    decode: float = 0.0
    detect: float = 0.0
    classify: float = 0.0
    frames: int = 0
    faces: int = 0
    batches: int = 0


@dataclass
class AnalysisOutput:
    """The result document's two parts plus what was measured on the way."""

    summary: dict[str, Any]
    frames: list[dict[str, Any]]
    duration_s: float
    timings: Timings = field(default_factory=Timings)


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How to analyse one video."""

    sample_fps: float = 5.0
    max_duration_s: float | None = 60.0
    frame_batch_size: int = 16
    crop_margin: float = 0.0
    saved_crop_margin: float = 0.25
    max_crops: int = 48
    jpeg_quality: int = 88
    sustained_negative_s: float = 3.0


class CropKeeper:
    """Writes a bounded, evenly spread selection of face crops as JPEG files.

    Every face of every ``stride``-th sampled frame is kept until ``max_crops`` files exist, with the
    stride chosen from the expected frame count so the kept crops span the whole video.
    """

    def __init__(self, directory: Path | None, max_crops: int, expected_frames: int, quality: int = 88) -> None:
        self.directory = directory
        self.max_crops = max_crops if directory is not None else 0
        self.stride = max(1, math.ceil(expected_frames / max(1, self.max_crops)))
        self.quality = quality
        self.written = 0

    def wants(self, frame_ordinal: int) -> bool:
        """Whether crops of this sampled frame are kept."""
        return self.directory is not None and self.written < self.max_crops and frame_ordinal % self.stride == 0

    def maybe_keep(self, frame_ordinal: int, face_index: int, crop: Any) -> str | None:
        """Write the crop if selected; returns its file name (``<frame>_<face>.jpg``) or None."""
        if not self.wants(frame_ordinal) or self.directory is None:
            return None
        name = f"{frame_ordinal}_{face_index}.jpg"
        self.directory.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return None
        (self.directory / name).write_bytes(data.tobytes())
        self.written += 1
        return name


def analyze_video(
    path: str | os.PathLike[str],
    *,
    classifier: EmotionClassifier,
    detector: FaceDetector,
    options: PipelineOptions,
    duration_hint_s: float | None = None,
    crops_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> AnalysisOutput:
    """Analyse one video file and return the result document.

    Frames are decoded straight through and sampled at ``options.sample_fps``; every
    ``frame_batch_size`` sampled frames, faces are detected and *all* their crops are classified in one
    forward pass. Raises :class:`services.common.video.VideoError` for unreadable files and
    :class:`NoFrames` when nothing could be decoded.
    """
    timings = Timings()
    duration_guess = min(duration_hint_s or options.max_duration_s or 60.0, options.max_duration_s or math.inf)
    expected = expected_samples(duration_guess, options.sample_fps)
    keeper = CropKeeper(crops_dir, options.max_crops, expected, options.jpeg_quality)
    observations: list[FrameObservation] = []
    batch: list[DecodedFrame] = []

    def flush() -> None:
        t0 = time.perf_counter()
        boxes_per_frame = detector.detect([f.image for f in batch])
        t_detected = time.perf_counter()
        if on_progress is not None:
            on_progress("classifying", len(observations) + len(batch) // 2, max(expected, len(observations)))
        t1 = time.perf_counter()
        crops = [crop_square(f.image, box, options.crop_margin) for f, boxes in zip(batch, boxes_per_frame, strict=True)
                 for box in boxes]
        probs = classifier.predict(crops)
        t2 = time.perf_counter()
        timings.detect += t_detected - t0
        timings.classify += t2 - t1
        timings.batches += 1
        row = 0
        for frame, boxes in zip(batch, boxes_per_frame, strict=True):
            ordinal = len(observations)
            faces = []
            for face_index, box in enumerate(boxes):
                name = None
                if keeper.wants(ordinal):
                    saved = crop_square(frame.image, box, options.saved_crop_margin)
                    name = keeper.maybe_keep(ordinal, face_index, saved)
                faces.append(FaceObservation(box=box.as_list(), probabilities=probs[row], crop=name))
                row += 1
            observations.append(FrameObservation(t=frame.t, faces=faces))
        timings.faces += len(crops)
        batch.clear()
        if on_progress is not None:
            on_progress("detecting", len(observations), max(expected, len(observations)))

    # closing(): the capture is released at once even when a callback aborts the job mid-video.
    with contextlib.closing(sample_frames(path, options.sample_fps, max_duration_s=options.max_duration_s)) as frames:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            timings.decode += time.perf_counter() - t0
            if frame is None:
                break
            batch.append(frame)
            if len(batch) >= options.frame_batch_size:
                flush()
        if batch:
            flush()
    timings.frames = len(observations)
    if not observations:
        raise NoFrames("No video frame could be decoded from this file.")
    last_t = observations[-1].t
    interval = 1.0 / options.sample_fps
    duration = duration_hint_s if duration_hint_s else last_t + interval
    if options.max_duration_s:
        duration = min(duration, options.max_duration_s)
    summary = build_summary(
        observations,
        duration_s=duration,
        sample_fps=options.sample_fps,
        model_name=classifier.name,
        model_version=classifier.version,
        sustained_negative_s=options.sustained_negative_s,
    )
    return AnalysisOutput(summary=summary, frames=frames_document(observations), duration_s=duration, timings=timings)

"""The analysis pipeline, without I/O to DB or queue, as stages:

decode + sample → detect (faces with landmarks) → track (a person per face track) → crop (eye-aligned) + quality →
classify (batched, on the shared forward-pass thread) → aggregate (people, smoothed timelines, indicators).

Frames flow in batches of ``frame_batch_size``: each batch is detected, tracked and cropped in the job's thread,
and its faces are handed to the classifier as one request, so the next batch is decoded and detected while the
previous one is classified.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import Box, FaceDetector
from services.common.analysis import DEFAULT_MAX_FRAME_PIXELS, Stage
from services.common.schemas import FaceQuality, ModelInfo, ResultDocument, Summary
from services.common.video import DecodedFrame
from services.inference_worker.aggregate import (
    AggregateOptions,
    FaceObservation,
    FrameObservation,
    build_document,
    unassessable_counts,
)
from services.inference_worker.frames import Prefetcher, expected_samples, sample_frames
from services.inference_worker.quality import QualityThresholds, assess, measure
from services.inference_worker.tracking import FaceTracker


class NoFrames(Exception):
    """The video opened but not one frame could be decoded from it."""


class Classifier(Protocol):
    """What the pipeline needs of the emotion model (an ``EmotionClassifier`` or the shared batching thread)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def temperature(self) -> float: ...

    def model_image(self, crop: np.ndarray) -> np.ndarray: ...

    def submit(self, images: np.ndarray) -> Future[np.ndarray]: ...


ProgressCallback = Callable[[Stage, int, int], None]
"""Called with (stage, frames done, frames expected) after each batch of frames."""


@dataclass
class Timings:
    """Seconds spent per stage in the job's thread (``classify``: waiting for the classifier at the end)."""

    decode: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    crop: float = 0.0
    classify: float = 0.0
    aggregate: float = 0.0
    frames: int = 0
    faces: int = 0
    batches: int = 0

    @property
    def total(self) -> float:
        """All stages together."""
        return self.decode + self.detect + self.track + self.crop + self.classify + self.aggregate


@dataclass
class AnalysisOutput:
    """The result document plus what was measured on the way."""

    document: ResultDocument
    duration_s: float
    unassessable: dict[str, int]
    timings: Timings = field(default_factory=Timings)

    @property
    def summary(self) -> Summary:
        """The document's summary."""
        return self.document.summary


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How to analyse one video (``WorkerSettings.pipeline_options()`` builds it from the settings; each field has
    the name and the default of the setting it comes from). The face detector is passed beside them, built from
    ``FACE_DETECTOR`` (the result names the detector that ran)."""

    aggregate: AggregateOptions = field(default_factory=AggregateOptions)
    max_duration_s: float | None = 60.0
    frame_batch_size: int = 16
    crop_margin: float = 0.0
    align_faces: bool = True
    saved_crop_margin: float = 0.25
    max_crops_kept: int = 48
    crop_jpeg_quality: int = 88
    track_lost_s: float = 1.0
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS

    @property
    def sample_fps(self) -> float:
        """Frames analysed per second of video (the aggregation's too)."""
        return self.aggregate.sample_fps


def encode_jpeg(image: np.ndarray, quality: int) -> bytes | None:
    """JPEG bytes of a BGR image, or None if OpenCV cannot encode it."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes() if ok else None


class CropKeeper:
    """Writes a bounded, evenly spread selection of face crops as JPEG files, plus one per person.

    Every face of every ``stride``-th sampled frame is kept until ``max_crops`` files exist, with the stride chosen
    from the expected frame count so the kept crops span the whole video (``<frame>_<face>.jpg``). For each track
    the clearest readable face seen is held in memory and written at the end (``track_<id>.jpg``).
    """

    def __init__(self, directory: Path | None, max_crops: int, expected_frames: int, quality: int = 88) -> None:
        self.directory = directory
        self.max_crops = max_crops if directory is not None else 0
        self.stride = max(1, math.ceil(expected_frames / max(1, self.max_crops)))
        self.quality = quality
        self.written = 0
        self._best: dict[int, tuple[float, np.ndarray]] = {}

    def wants(self, frame_ordinal: int) -> bool:
        """Whether crops of this sampled frame are kept."""
        return self.directory is not None and self.written < self.max_crops and frame_ordinal % self.stride == 0

    def _write(self, name: str, crop: np.ndarray) -> str | None:
        if self.directory is None:
            return None
        data = encode_jpeg(crop, self.quality)
        if data is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_bytes(data)
        return name

    def maybe_keep(self, frame_ordinal: int, face_index: int, crop: np.ndarray) -> str | None:
        """Write the crop if selected; returns its file name or None."""
        if not self.wants(frame_ordinal):
            return None
        name = self._write(f"{frame_ordinal}_{face_index}.jpg", crop)
        if name is not None:
            self.written += 1
        return name

    def offer_person(self, track: int, clarity: float, crop_factory: Callable[[], np.ndarray]) -> None:
        """Keep this face as the track's picture if it is the clearest so far (the crop is made only then)."""
        if self.directory is None:
            return
        best = self._best.get(track)
        if best is None or clarity > best[0]:
            self._best[track] = (clarity, crop_factory())

    def write_person(self, track: int) -> str | None:
        """Write the held picture of ``track``; returns its file name (None if there is none)."""
        held = self._best.pop(track, None)
        return self._write(f"track_{track}.jpg", held[1]) if held is not None else None


@dataclass
class _PendingFrame:
    t: float
    boxes: list[Box]
    ids: list[int | None]  # completed in place by the tracker's back-fill
    qualities: list[FaceQuality]
    reasons: list[Any]
    crops: list[str | None]
    future: Future[np.ndarray] | None
    row: int  # first row of this frame's faces in its batch's result
    scale: float = 1.0  # decoded pixels per source pixel (< 1 for frames shrunk after decoding)

    def source_box(self, box: Box) -> Box:
        """``box`` in source-frame pixels."""
        if self.scale == 1.0:
            return box
        s = self.scale
        return Box(round(box.x / s), round(box.y / s), round(box.w / s), round(box.h / s), box.score, None)


def analyze_video(
    path: str | os.PathLike[str],
    *,
    classifier: Classifier,
    detector: FaceDetector,
    options: PipelineOptions,
    duration_hint_s: float | None = None,
    crops_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> AnalysisOutput:
    """Analyse one video file and return the version-2 result document.

    Raises :class:`services.common.video.VideoError` for unreadable files and :class:`NoFrames` when nothing could
    be decoded. The classifier's result for the last batch is awaited before aggregation.
    """
    timings = Timings()
    duration_guess = min(duration_hint_s or options.max_duration_s or 60.0, options.max_duration_s or math.inf)
    expected = expected_samples(duration_guess, options.sample_fps)
    keeper = CropKeeper(crops_dir, options.max_crops_kept, expected, options.crop_jpeg_quality)
    tracker = FaceTracker(options.sample_fps, lost_s=options.track_lost_s)
    pending: list[_PendingFrame] = []
    batch: list[DecodedFrame] = []

    def flush() -> None:
        t0 = time.perf_counter()
        boxes_per_frame = detector.detect([f.image for f in batch])
        t1 = time.perf_counter()
        ids_per_frame = [tracker.update(f.t, boxes, f.image) for f, boxes in zip(batch, boxes_per_frame, strict=True)]
        t2 = time.perf_counter()
        images: list[np.ndarray] = []
        staged: list[_PendingFrame] = []
        for frame, boxes, ids in zip(batch, boxes_per_frame, ids_per_frame, strict=True):
            ordinal = len(pending) + len(staged)
            entry = _PendingFrame(frame.t, boxes, ids, [], [], [], None, len(images), frame.scale)
            for face_index, box in enumerate(boxes):
                crop = crop_square(frame.image, box, options.crop_margin, align=options.align_faces,
                                   max_side=192)
                model_image = classifier.model_image(crop)
                quality = measure(model_image, box)
                reason = assess(quality, options.quality)
                images.append(model_image)
                entry.qualities.append(quality)
                entry.reasons.append(reason)
                saved = None
                if keeper.wants(ordinal):
                    saved = keeper.maybe_keep(ordinal, face_index,
                                              crop_square(frame.image, box, options.saved_crop_margin, max_side=256))
                entry.crops.append(saved)
                track = ids[face_index]
                if reason is None and track is not None:
                    keeper.offer_person(track, quality.sharpness * quality.face_px,
                                        partial(crop_square, frame.image, box, options.saved_crop_margin, max_side=256))
            staged.append(entry)
        future = classifier.submit(np.stack(images)) if images else None
        for entry in staged:
            entry.future = future
        pending.extend(staged)
        t3 = time.perf_counter()
        timings.detect += t1 - t0
        timings.track += t2 - t1
        timings.crop += t3 - t2
        timings.faces += len(images)
        timings.batches += 1
        batch.clear()
        if on_progress is not None:
            on_progress(Stage.analyzing, len(pending), max(expected, len(pending)))

    # Decoded ahead on a thread of its own; leaving the block stops it and releases the capture at once, even when
    # a callback aborts the job mid-video.
    with Prefetcher(sample_frames(path, options.sample_fps, max_duration_s=options.max_duration_s,
                                  max_pixels=options.max_frame_pixels), depth=2 * options.frame_batch_size) as frames:
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
    timings.frames = len(pending)
    if not pending:
        raise NoFrames("No video frame could be decoded from this file.")

    t0 = time.perf_counter()
    results: dict[int, np.ndarray] = {}
    for entry in pending:
        if entry.future is not None and id(entry.future) not in results:
            results[id(entry.future)] = entry.future.result()
    timings.classify = time.perf_counter() - t0
    if on_progress is not None:
        on_progress(Stage.summarizing, len(pending), len(pending))

    t0 = time.perf_counter()
    observations = []
    for entry in pending:
        probs = results[id(entry.future)] if entry.future is not None else np.empty(0)  # no future: no faces
        faces = [
            FaceObservation(box=entry.source_box(box), track=entry.ids[j], probabilities=probs[entry.row + j],
                            quality=entry.qualities[j], reason=entry.reasons[j], crop=entry.crops[j])
            for j, box in enumerate(entry.boxes)
        ]
        observations.append(FrameObservation(t=entry.t, faces=faces))
    last_t = observations[-1].t
    duration = duration_hint_s if duration_hint_s else last_t + 1.0 / options.sample_fps
    if options.max_duration_s:
        duration = min(duration, options.max_duration_s)
    model = ModelInfo(name=classifier.name, version=classifier.version, temperature=classifier.temperature,
                      detector=detector.name)
    document = build_document(observations, duration_s=duration, options=options.aggregate, model=model,
                              person_crop=keeper.write_person)
    timings.aggregate = time.perf_counter() - t0
    return AnalysisOutput(document=document, duration_s=duration, unassessable=unassessable_counts(observations),
                          timings=timings)

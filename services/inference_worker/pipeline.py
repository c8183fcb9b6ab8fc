"""The analysis pipeline, without I/O to DB or queue, as stages:

decode + sample → detect (faces with landmarks) → track (a person per face track) → crop (eye-aligned) + quality →
classify (batched, on the shared forward-pass thread) → re-identify (tracks merged into persons across shot cuts and
track gaps by face embeddings of a few readable faces per track, ``reid``) → aggregate (people, smoothed timelines,
indicators).

Frames flow in batches of ``frame_batch_size``: each batch is detected, tracked and cropped in the job's thread,
and its faces are handed to the classifier as one request, so the next batch is decoded and detected while the
previous one is classified (with the faces of other jobs of the process, on the shared forward-pass thread).

At high sampling rates (every frame) two schedules keep the work per frame small without changing what a person is
shown: the detector runs on every ``detect_interval_s`` of video and the tracker carries the boxes in between
(:func:`~services.inference_worker.tracking.track_faces`, which re-detects at shot changes and wherever a track is
not continued confidently), and a track's face is classified again only when its model image changed by more than
``max_face_change`` grey levels on average, or ``classify_interval_s`` after it was last classified; in between it
keeps the probabilities of its last classification. At the default 5 frames/s both intervals are one frame: every
frame is detected and every face classified.
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
from bloomwell_ml.face_embedding import FaceEmbedder, embedding_crop
from bloomwell_ml.faces import Box, FaceDetector
from services.common.analysis import DEFAULT_MAX_FRAME_PIXELS, Stage
from services.common.schemas import FaceQuality, ModelInfo, ResultDocument, Summary
from services.inference_worker.aggregate import (
    AggregateOptions,
    FaceObservation,
    FrameObservation,
    build_document,
    unassessable_counts,
)
from services.inference_worker.frames import Prefetcher, expected_samples, sample_frames
from services.inference_worker.quality import QualityThresholds, assess, gate_image, measure
from services.inference_worker.reid import (
    FACES_PER_TRACK,
    MIN_SIMILARITY,
    FaceSampler,
    merge_tracks,
    shared_embedder,
    track_descriptor,
    track_frames,
)
from services.inference_worker.tracking import (
    FaceTracker,
    TrackedFrame,
    TrackSchedule,
    TrackStats,
    frames_per_interval,
    track_faces,
)


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
    reid: float = 0.0
    """Cropping and embedding the sampled faces of each track, and merging tracks into persons."""
    frames: int = 0
    faces: int = 0
    """Faces classified (sent to the model)."""
    reused: int = 0
    """Faces that kept their track's last probabilities (unchanged since, within ``classify_interval_s``)."""
    detections: int = 0
    """Frames the detector ran on (the others' boxes were carried by the tracker)."""
    rollbacks: int = 0
    batches: int = 0

    @property
    def total(self) -> float:
        """All stages together."""
        return self.decode + self.detect + self.track + self.crop + self.classify + self.aggregate + self.reid


@dataclass
class AnalysisOutput:
    """The result document plus what was measured on the way."""

    document: ResultDocument
    duration_s: float
    unassessable: dict[str, int]
    timings: Timings = field(default_factory=Timings)
    persons: dict[int, int] = field(default_factory=dict)
    """Re-identification: the person (its first-appearing track) of every raw track."""
    face_descriptors: dict[int, np.ndarray] = field(default_factory=dict)
    """Re-identification: the unit descriptors of the faces sampled from every raw track with readable faces."""
    track_frames: dict[int, set[int]] = field(default_factory=dict)
    """The sampled-frame indices of every raw track."""

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
    detect_interval_s: float = 0.2
    classify_interval_s: float = 0.2
    max_face_change: float = 8.0
    carry_min_score: float = 0.8
    carry_min_iou: float = 0.5
    reid_min_similarity: float = MIN_SIMILARITY
    reid_faces_per_track: int = FACES_PER_TRACK

    def track_schedule(self) -> TrackSchedule:
        """When the tracking stage detects, at this sampling rate."""
        return TrackSchedule.for_rate(self.sample_fps, self.detect_interval_s, min_score=self.carry_min_score,
                                      min_iou=self.carry_min_iou)

    @property
    def classify_every(self) -> int:
        """A track's face is classified at least every this many sampled frames."""
        return frames_per_interval(self.classify_interval_s, self.sample_fps)

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
        self.kept: set[str] = set()
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
            self.kept.add(name)
        return name

    def offer_person(self, track: int, clarity: float, crop_factory: Callable[[], np.ndarray]) -> None:
        """Keep this face as the track's picture if it is the clearest so far (the crop is made only then)."""
        if self.directory is None:
            return
        best = self._best.get(track)
        if best is None or clarity > best[0]:
            self._best[track] = (clarity, crop_factory())

    def keep_only(self, names: set[str]) -> None:
        """Delete the kept frame crops not in ``names`` (faces found too brief to read once tracks were judged)."""
        for name in self.kept - names:
            if self.directory is not None:
                (self.directory / name).unlink(missing_ok=True)
        self.kept &= names

    def write_person(self, track: int) -> str | None:
        """Write the held picture of ``track``; returns its file name (None if there is none)."""
        held = self._best.pop(track, None)
        return self._write(f"track_{track}.jpg", held[1]) if held is not None else None

    def merge(self, person_of: dict[int, int]) -> None:
        """Hold one picture per person (the clearest of its tracks'), under the person's key."""
        best: dict[int, tuple[float, np.ndarray]] = {}
        for track, held in self._best.items():
            key = person_of.get(track, track)
            if key not in best or held[0] > best[key][0]:
                best[key] = held
        self._best = best


@dataclass
class _PendingFrame:
    t: float
    boxes: list[Box]
    ids: list[int | None]  # completed in place by the tracker's back-fill
    qualities: list[FaceQuality]
    reasons: list[Any]
    crops: list[str | None]
    probs: list[tuple[Future[np.ndarray], int]]  # per face: the classifier request holding its row, and the row
    reused: list[bool]  # per face: it kept its track's last classification (interpolated at the end)
    scale: float = 1.0  # decoded pixels per source pixel (< 1 for frames shrunk after decoding)

    def source_box(self, box: Box) -> Box:
        """``box`` in source-frame pixels."""
        if self.scale == 1.0:
            return box
        s = self.scale
        return Box(round(box.x / s), round(box.y / s), round(box.w / s), round(box.h / s), box.score, None)


def _chain(source: Future[np.ndarray], target: Future[np.ndarray]) -> None:
    """Complete ``target`` with ``source``'s outcome once it has one."""
    def done(f: Future[np.ndarray]) -> None:
        exc = f.exception()
        if exc is not None:
            target.set_exception(exc)
        else:
            target.set_result(f.result())

    source.add_done_callback(done)


class _ClassifyReuse:
    """Which faces keep their track's last probabilities instead of being classified again.

    A followed face (a track id) is classified when its track has not been, when ``every`` sampled frames have gone
    by since, or when its grey gate image (:func:`~services.inference_worker.quality.gate_image`: 48 px) differs from
    the one last classified by more than ``max_change`` grey levels on average; otherwise it takes that
    classification's probabilities (the face looks the same to the model)."""

    def __init__(self, every: int, max_change: float) -> None:
        self.every = every
        self.max_change = max_change
        self._last: dict[int, tuple[np.ndarray, int, Future[np.ndarray], int]] = {}
        self._counts: dict[int, int] = {}  # faces of each track seen so far

    def earlier(self, track: int | None, image: np.ndarray) -> tuple[Future[np.ndarray], int] | None:
        """The classification this face can reuse (request, row), or None when it must be classified (call once
        per face, in order)."""
        if self.every <= 1 or track is None:
            return None
        count = self._counts[track] = self._counts.get(track, 0) + 1
        last = self._last.get(track)
        if last is None:
            return None
        seen, at, future, row = last
        if count - at >= self.every:
            return None
        change = float(np.abs(image.astype(np.int16) - seen).mean())
        return (future, row) if change <= self.max_change else None

    def classified(self, track: int | None, image: np.ndarray, future: Future[np.ndarray], row: int) -> None:
        """Remember that ``track``'s face ``image`` was sent as ``row`` of ``future``."""
        if self.every > 1 and track is not None:
            self._last[track] = (image.astype(np.int16), self._counts.get(track, 0), future, row)


def _face_probabilities(pending: list[_PendingFrame]) -> dict[tuple[int, int], np.ndarray]:
    """Every face's probabilities, by (frame, face), once the classifier has answered (waits for it).

    A face that kept its track's last classification gets the probabilities interpolated in time between that
    classification and the track's next one (its last ones keep the last classification)."""
    results: dict[int, np.ndarray] = {}
    out: dict[tuple[int, int], np.ndarray] = {}
    by_track: dict[int, list[tuple[float, tuple[int, int], bool]]] = {}
    for i, entry in enumerate(pending):
        for j, (future, row) in enumerate(entry.probs):
            if id(future) not in results:
                results[id(future)] = future.result()
            out[i, j] = results[id(future)][row]
            track = entry.ids[j]
            if track is not None:
                by_track.setdefault(track, []).append((entry.t, (i, j), entry.reused[j]))
    for faces in by_track.values():
        own = [(t, key) for t, key, reused in faces if not reused]
        k = 0
        for t, key, reused in faces:
            while k < len(own) and own[k][0] <= t:
                k += 1
            if reused and 0 < k < len(own):
                (t0, before), (t1, after) = own[k - 1], own[k]
                w = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                out[key] = ((1.0 - w) * out[before] + w * out[after]).astype(np.float32)
    return out


def _person(person_of: dict[int, int], track: int | None) -> int | None:
    return None if track is None else person_of.get(track, track)


def analyze_video(
    path: str | os.PathLike[str],
    *,
    classifier: Classifier,
    detector: FaceDetector,
    options: PipelineOptions,
    duration_hint_s: float | None = None,
    crops_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    embedder: FaceEmbedder | None = None,
    embed_lone_track: bool = False,
) -> AnalysisOutput:
    """Analyse one video file and return the version-2 result document.

    Raises :class:`services.common.video.VideoError` for unreadable files and :class:`NoFrames` when nothing could
    be decoded. The classifier's result for the last batch is awaited before aggregation. Tracks are merged into
    persons (``reid``) with ``embedder`` (default: the process's shared one) before aggregation; where only one
    track has readable faces there is nothing to merge and the embedder is not run, unless ``embed_lone_track``
    (for measuring descriptors: ``scripts/measure_reid.py``).
    """
    timings = Timings()
    duration_guess = min(duration_hint_s or options.max_duration_s or 60.0, options.max_duration_s or math.inf)
    expected = expected_samples(duration_guess, options.sample_fps)
    keeper = CropKeeper(crops_dir, options.max_crops_kept, expected, options.crop_jpeg_quality)
    tracker = FaceTracker(options.sample_fps, lost_s=options.track_lost_s)
    reuse = _ClassifyReuse(options.classify_every, options.max_face_change)
    sampler = FaceSampler(options.reid_faces_per_track)
    pending: list[_PendingFrame] = []
    batch: list[TrackedFrame] = []

    def flush() -> None:
        t0 = time.perf_counter()
        images: list[np.ndarray] = []
        staged: list[_PendingFrame] = []
        future: Future[np.ndarray] = Future()
        for tracked in batch:
            frame, boxes, ids = tracked.frame, tracked.boxes, tracked.ids
            ordinal = len(pending) + len(staged)
            entry = _PendingFrame(frame.t, boxes, ids, [], [], [], [], [], frame.scale)
            for face_index, box in enumerate(boxes):
                crop = crop_square(frame.image, box, options.crop_margin, align=options.align_faces,
                                   max_side=192)
                model_image = classifier.model_image(crop)
                gray = gate_image(model_image)  # what the gate and the "face unchanged" test look at
                quality = measure(gray, box)
                reason = assess(quality, options.quality)
                earlier = reuse.earlier(ids[face_index], gray)
                if earlier is None:
                    reuse.classified(ids[face_index], gray, future, len(images))
                    entry.probs.append((future, len(images)))
                    images.append(model_image)
                else:
                    entry.probs.append(earlier)
                    timings.reused += 1
                entry.reused.append(earlier is not None)
                entry.qualities.append(quality)
                entry.reasons.append(reason)
                saved = None
                if reason is None and keeper.wants(ordinal):  # only readable faces are pictured
                    saved = keeper.maybe_keep(ordinal, face_index,
                                              crop_square(frame.image, box, options.saved_crop_margin, max_side=256))
                entry.crops.append(saved)
                track = ids[face_index]
                if reason is None and track is not None:
                    clarity = quality.sharpness * quality.face_px
                    keeper.offer_person(track, clarity,
                                        partial(crop_square, frame.image, box, options.saved_crop_margin, max_side=256))
                    sampler.offer(track, clarity, partial(embedding_crop, frame.image, box))
            staged.append(entry)
        if images:
            _chain(classifier.submit(np.stack(images)), future)
        pending.extend(staged)
        timings.crop += time.perf_counter() - t0
        timings.faces += len(images)
        timings.batches += 1
        batch.clear()
        if on_progress is not None:
            on_progress(Stage.analyzing, len(pending), max(expected, len(pending)))

    stats = TrackStats()
    waited = 0.0
    # Decoded ahead on a thread of its own; leaving the block stops it and releases the capture at once, even when
    # a callback aborts the job mid-video.
    with Prefetcher(sample_frames(path, options.sample_fps, max_duration_s=options.max_duration_s,
                                  max_pixels=options.max_frame_pixels), depth=2 * options.frame_batch_size) as frames:
        tracked_frames = track_faces(frames, detector, tracker, options.track_schedule(), stats)
        while True:
            t0 = time.perf_counter()
            tracked = next(tracked_frames, None)
            waited += time.perf_counter() - t0
            if tracked is None:
                break
            batch.append(tracked)
            if len(batch) >= options.frame_batch_size:
                flush()
        if batch:
            flush()
    timings.detect, timings.track = stats.detect_s, stats.track_s
    timings.decode = max(0.0, waited - stats.detect_s - stats.track_s)
    timings.detections, timings.rollbacks = stats.detected, stats.rollbacks
    timings.frames = len(pending)
    if not pending:
        raise NoFrames("No video frame could be decoded from this file.")

    t0 = time.perf_counter()
    probabilities = _face_probabilities(pending)
    timings.classify = time.perf_counter() - t0
    if on_progress is not None:
        on_progress(Stage.summarizing, len(pending), len(pending))

    t0 = time.perf_counter()
    faces_of: dict[int, np.ndarray] = {}
    if options.reid_faces_per_track > 0 and (sampler.tracks_sampled() >= 2 or embed_lone_track):
        faces_of = sampler.face_descriptors(embedder or shared_embedder())
    frames_of = track_frames([entry.ids for entry in pending])
    person_of = merge_tracks(frames_of, {t: track_descriptor(v) for t, v in faces_of.items()},
                             options.reid_min_similarity)
    keeper.merge(person_of)
    timings.reid = time.perf_counter() - t0 + sampler.crop_s
    timings.crop -= sampler.crop_s

    t0 = time.perf_counter()
    observations = []
    for i, entry in enumerate(pending):
        faces = [
            FaceObservation(box=entry.source_box(box), track=_person(person_of, entry.ids[j]),
                            probabilities=probabilities[i, j],
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
    keeper.keep_only({face.crop for frame in document.frames for face in frame.faces if face.crop})
    timings.aggregate = time.perf_counter() - t0
    return AnalysisOutput(document=document, duration_s=duration, unassessable=unassessable_counts(observations),
                          timings=timings, persons=person_of, face_descriptors=faces_of,
                          track_frames=frames_of)

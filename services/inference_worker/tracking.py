"""Face tracks: which faces of successive sampled frames belong to the same person.

Association is ByteTrack (Zhang et al. 2022) from Roboflow's maintained ``trackers`` package: a Kalman motion model
per face and two-stage IoU matching (confident boxes first, then the rest), timestamp-aware so a sampled rate of a
few frames per second is handled. ``trackers`` is installed without its dependencies (it asks for ``opencv-python``,
which would clash with the ``opencv-python-headless`` every service uses; both provide the same ``cv2``).

Two things are added around it:

* ByteTrack gives a new face its id only on its second matched frame; the first frame is back-filled here with the
  id of the track that continued from it, so no face of a person is left out.
* A shot change (the stage clip cuts between cameras) resets the tracker: a face right after a cut is never
  continued from a face before it just because the boxes overlap. Cuts are found by comparing colour histograms
  of consecutive sampled frames.

The tracking stage (:func:`track_faces`) runs the detector on a schedule instead of on every frame: every
``detect_every``-th sampled frame is a key frame; where the tracker continues every face of the previous key frame
there (same tracks, confident boxes, small motion, no shot change in between), the frames in between get the
boxes carried by the tracker (each track's box and landmarks interpolated between its two detections); anywhere
else (a cut, a face appearing, leaving or dropping in confidence, fast motion) the tracker is rolled back and every
frame in between is detected. Its output, one :class:`TrackedFrame` per sampled frame in order, is the interface
later stages build on (crop → classify → aggregate, and re-identification of people across cuts, which merges
track ids into persons after this stage).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from bloomwell_ml.faces import Box, FaceDetector, Landmarks
from services.common.video import DecodedFrame


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def frame_histogram(frame: np.ndarray) -> np.ndarray:
    """A normalised hue/saturation histogram of a frame (for shot-change detection)."""
    step = max(1, min(frame.shape[:2]) // 72)  # every step-th pixel first: the histogram needs few of them
    small = cv2.resize(frame[::step, ::step], (64, 36), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return cv2.normalize(hist, hist).flatten()


CUT_CORRELATION = 0.8
"""Histogram correlation below which two consecutive sampled frames (5 frames/s) are different shots. Measured on
the shared videos: the stage clip's three cuts give 0.61, 0.52 and 0.44; every other pair of consecutive frames
(camera pans, people moving, all videos) 0.92 or more. At 0.5 the cut at 2.8 s was missed and one track carried a
face of the previous shot into the performer's."""


class ShotChangeDetector:
    """Finds shot changes (cuts) between consecutive frames by the correlation of their colour histograms."""

    def __init__(self, cut_correlation: float = CUT_CORRELATION) -> None:
        self.cut_correlation = cut_correlation
        self._previous: np.ndarray | None = None

    def is_cut(self, frame: np.ndarray) -> bool:
        """Whether ``frame`` starts a new shot (call once per frame, in order; the first frame is no cut)."""
        hist = frame_histogram(frame)
        previous, self._previous = self._previous, hist
        if previous is None:
            return False
        return float(cv2.compareHist(previous, hist, cv2.HISTCMP_CORREL)) < self.cut_correlation


@dataclass
class _Checkpoint:
    tracker: ByteTrackTracker
    offset: int
    max_id: int
    cuts: int
    pending: list[tuple[Box, list[int | None], int]]
    filled: int


class FaceTracker:
    """Assigns a track id to every face of each sampled frame, in order.

    ``lost_s``: how long a track survives without a matching face (a turned head, a hand in front of the face);
    ``cut_correlation``: histogram correlation below which two consecutive frames are different shots.
    """

    def __init__(self, sample_fps: float, *, lost_s: float = 1.0, min_iou: float = 0.1,
                 cut_correlation: float = CUT_CORRELATION) -> None:
        self.sample_fps = sample_fps
        self.lost_s = lost_s
        self.min_iou = min_iou
        self.cut_correlation = cut_correlation
        self.cuts = 0
        self._offset = 0
        self._max_id = -1
        self._tracker = self._new_tracker()
        self._shots = ShotChangeDetector(cut_correlation)
        self._pending: list[tuple[Box, list[int | None], int]] = []  # first-frame faces awaiting their id
        self._filled: list[tuple[list[int | None], int]] = []  # back-fills done, so a rollback can undo them

    def checkpoint(self) -> _Checkpoint:
        """The tracker's state now, to :meth:`rollback` to (the tracking stage tries a key frame with it)."""
        return _Checkpoint(copy.deepcopy(self._tracker), self._offset, self._max_id, self.cuts, list(self._pending),
                           len(self._filled))

    def rollback(self, checkpoint: _Checkpoint) -> None:
        """Return to ``checkpoint``, undoing the updates and back-fills made since (a checkpoint is used once)."""
        for ids, index in self._filled[checkpoint.filled:]:
            ids[index] = None
        del self._filled[checkpoint.filled:]
        self._tracker, self._offset, self._max_id = checkpoint.tracker, checkpoint.offset, checkpoint.max_id
        self.cuts, self._pending = checkpoint.cuts, checkpoint.pending

    def _new_tracker(self) -> ByteTrackTracker:
        return ByteTrackTracker(
            lost_track_buffer=max(1, round(30 * self.lost_s)),  # counted in 1/30 s by the library
            frame_rate=self.sample_fps,
            track_activation_threshold=0.0,
            minimum_consecutive_frames=1,
            minimum_iou_threshold=self.min_iou,
            high_conf_det_threshold=0.5,
        )

    def update(self, t: float, boxes: Sequence[Box], frame: np.ndarray | None = None, *,
               cut: bool | None = None) -> list[int | None]:
        """Track ids for ``boxes`` (one sampled frame at ``t`` seconds); None for a face not (yet) followed.

        ``cut``: whether a shot change comes right before this frame; None finds it from ``frame`` (compared with
        the previous frame given). Ids returned for a frame may be completed later: a face seen for the first time
        is back-filled in the list returned for its frame once the next frame continues it (in place).
        """
        if cut is None:
            cut = frame is not None and self._shots.is_cut(frame)
        if cut:
            self.cuts += 1
            self._offset = self._max_id + 1
            self._tracker = self._new_tracker()
            self._pending.clear()
        ids: list[int | None] = [None] * len(boxes)
        if boxes:
            detections = sv.Detections(
                xyxy=np.array([[b.x, b.y, b.x + b.w, b.y + b.h] for b in boxes], dtype=float),
                confidence=np.array([b.score for b in boxes], dtype=float),
                data={"index": np.arange(len(boxes))},
            )
        else:
            detections = sv.Detections.empty()
        result = self._tracker.update(detections, timestamp=t)
        new_pending: list[tuple[Box, list[int | None], int]] = []
        tracker_ids = np.empty(0, dtype=int) if result.tracker_id is None else result.tracker_id
        for raw_id, index in zip(tracker_ids, result.data.get("index", []), strict=False):
            i = int(index)
            if raw_id >= 0:
                ids[i] = self._offset + int(raw_id)
            else:
                new_pending.append((boxes[i], ids, i))
        self._backfill(boxes, ids)
        self._pending = new_pending
        self._max_id = max([self._max_id, *[i for i in ids if i is not None]])
        return ids

    def _backfill(self, boxes: Sequence[Box], ids: list[int | None]) -> None:
        """Give last frame's new faces the id of the track that continued from them (best overlap)."""
        for box, their_ids, their_index in self._pending:
            best, best_iou = None, self.min_iou
            for j, other in enumerate(boxes):
                if ids[j] is None:
                    continue
                overlap = box_iou(box, other)
                if overlap > best_iou and ids[j] not in their_ids:
                    best, best_iou = ids[j], overlap
            if best is not None:
                their_ids[their_index] = best
                self._filled.append((their_ids, their_index))


@dataclass
class TrackedFrame:
    """One sampled frame after the tracking stage — the interface the later stages build on.

    ``boxes`` are the frame's faces in decoded-frame pixels (largest first where detected); ``ids`` their track ids
    (None: a face not followed). ``ids`` may still be completed in place until the video ends (a face seen for the
    first time is back-filled once the next frame continues it); an id never changes once set. ``detected`` says
    whether the detector ran on this frame (False: the boxes were carried by the tracker between two detections).
    """

    frame: DecodedFrame
    boxes: list[Box]
    ids: list[int | None]
    detected: bool = True
    cut: bool = False

    @property
    def t(self) -> float:
        """Seconds from the first frame."""
        return self.frame.t


def frames_per_interval(interval_s: float, sample_fps: float) -> int:
    """How many sampled frames make ``interval_s`` of video at ``sample_fps`` (at least 1; 0 s: 1)."""
    return max(1, int(round(interval_s * sample_fps))) if interval_s > 0 else 1


@dataclass(frozen=True, slots=True)
class TrackSchedule:
    """When the tracking stage runs the detector.

    ``detect_every``: every N-th sampled frame is detected (1: all of them); between two detections the tracker
    carries the boxes, but only where every face of the earlier key frame is continued at the later one by the same
    track with a box whose detector confidence is at least ``min_score`` and whose overlap with its earlier box is at
    least ``min_iou``, with no shot change in between — anywhere else every frame in between is detected.
    """

    detect_every: int = 1
    min_score: float = 0.8
    min_iou: float = 0.5

    @classmethod
    def for_rate(cls, sample_fps: float, detect_interval_s: float, **kwargs: float) -> TrackSchedule:
        """Detection every ``detect_interval_s`` seconds of video at ``sample_fps`` sampled frames per second
        (at least every frame)."""
        return cls(detect_every=frames_per_interval(detect_interval_s, sample_fps), **kwargs)


@dataclass
class TrackStats:
    """What the tracking stage did: frames detected, frames whose boxes were carried, key frames rolled back."""

    detected: int = 0
    carried: int = 0
    rollbacks: int = 0
    detect_s: float = 0.0
    track_s: float = 0.0


def _lerp(a: float, b: float, w: float) -> float:
    return a + (b - a) * w


def _lerp_landmarks(a: Landmarks | None, b: Landmarks | None, w: float) -> Landmarks | None:
    if a is None or b is None:
        return None
    points = [(_lerp(p[0], q[0], w), _lerp(p[1], q[1], w)) for p, q in zip(
        (a.right_eye, a.left_eye, a.nose, a.mouth_right, a.mouth_left),
        (b.right_eye, b.left_eye, b.nose, b.mouth_right, b.mouth_left), strict=True)]
    return Landmarks(*points)


def interpolate_box(a: Box, b: Box, w: float) -> Box:
    """The box (and landmarks) a fraction ``w`` of the way from ``a`` to ``b``."""
    x0, y0 = _lerp(a.x, b.x, w), _lerp(a.y, b.y, w)
    x1, y1 = _lerp(a.x + a.w, b.x + b.w, w), _lerp(a.y + a.h, b.y + b.h, w)
    ix, iy = int(round(x0)), int(round(y0))
    return Box(ix, iy, max(1, int(round(x1)) - ix), max(1, int(round(y1)) - iy), min(a.score, b.score),
               _lerp_landmarks(a.landmarks, b.landmarks, w))


@dataclass
class _Stage:
    detector: FaceDetector
    tracker: FaceTracker
    schedule: TrackSchedule
    stats: TrackStats
    clock: Callable[[], float]
    key: TrackedFrame | None = None
    waiting: list[tuple[DecodedFrame, bool]] = field(default_factory=list)

    def detect(self, frames: list[DecodedFrame]) -> list[list[Box]]:
        t0 = self.clock()
        boxes = self.detector.detect([f.image for f in frames])
        self.stats.detect_s += self.clock() - t0
        self.stats.detected += len(frames)
        return boxes

    def feed(self, frame: DecodedFrame, boxes: list[Box], cut: bool) -> TrackedFrame:
        t0 = self.clock()
        ids = self.tracker.update(frame.t, boxes, cut=cut)
        self.stats.track_s += self.clock() - t0
        return TrackedFrame(frame, boxes, ids, True, cut)

    def carried(self, earlier: TrackedFrame, later: TrackedFrame) -> list[tuple[Box, Box, int]] | None:
        """Each face of ``earlier`` with its box at ``later`` and its track, where the tracker continued all of
        them confidently; None where it did not (the frames in between are then detected)."""
        s = self.schedule
        if len(earlier.boxes) != len(later.boxes) or None in earlier.ids or None in later.ids:
            return None
        at_later = dict(zip(later.ids, later.boxes, strict=True))
        pairs: list[tuple[Box, Box, int]] = []
        for track, box in zip(earlier.ids, earlier.boxes, strict=True):
            other = at_later.get(track)
            if track is None or other is None or min(box.score, other.score) < s.min_score \
                    or box_iou(box, other) < s.min_iou:
                return None
            pairs.append((box, other, track))
        return pairs

    def segment(self) -> Iterator[TrackedFrame]:
        """Track the waiting frames (the last one is the next key frame) and yield them in order."""
        frames = [f for f, _ in self.waiting]
        cuts = [c for _, c in self.waiting]
        self.waiting = []
        earlier = self.key
        if earlier is not None and len(frames) > 1 and not any(cuts):
            (key_boxes,) = self.detect(frames[-1:])
            checkpoint = self.tracker.checkpoint()
            later = self.feed(frames[-1], key_boxes, False)
            pairs = self.carried(earlier, later)
            if pairs is not None:
                span = later.t - earlier.t
                for frame in frames[:-1]:
                    w = (frame.t - earlier.t) / span if span > 0 else 0.0
                    yield TrackedFrame(frame, [interpolate_box(a, b, w) for a, b, _ in pairs],
                                       [track for _, _, track in pairs], False, False)
                self.stats.carried += len(frames) - 1
                self.key = later
                yield later
                return
            self.tracker.rollback(checkpoint)
            self.stats.rollbacks += 1
            boxes = self.detect(frames[:-1]) + [key_boxes]
            self.stats.detected -= 1  # the key frame was counted when it was detected above
        else:
            boxes = self.detect(frames)
        for frame, found, cut in zip(frames, boxes, cuts, strict=True):
            self.key = self.feed(frame, found, cut)
            yield self.key


def track_faces(frames: Iterable[DecodedFrame], detector: FaceDetector, tracker: FaceTracker,
                schedule: TrackSchedule, stats: TrackStats | None = None,
                clock: Callable[[], float] | None = None) -> Iterator[TrackedFrame]:
    """The tracking stage: each sampled frame of ``frames`` as a :class:`TrackedFrame`, in order, detecting on
    ``schedule`` and carrying boxes with ``tracker`` in between (see the module docstring)."""
    import time

    stage = _Stage(detector, tracker, schedule, stats if stats is not None else TrackStats(),
                   clock or time.perf_counter)
    shots = ShotChangeDetector(tracker.cut_correlation)
    for frame in frames:
        cut = shots.is_cut(frame.image)
        if cut and stage.waiting:  # the frames before a cut are tracked on their own
            yield from stage.segment()
        stage.waiting.append((frame, cut))
        if stage.key is None or len(stage.waiting) >= schedule.detect_every:
            yield from stage.segment()
    if stage.waiting:
        yield from stage.segment()


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
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from bloomwell_ml.faces import Box


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


class FaceTracker:
    """Assigns a track id to every face of each sampled frame, in order.

    ``lost_s``: how long a track survives without a matching face (a turned head, a hand in front of the face);
    ``cut_correlation``: histogram correlation below which two consecutive frames are different shots.
    """

    def __init__(self, sample_fps: float, *, lost_s: float = 1.0, min_iou: float = 0.1,
                 cut_correlation: float = 0.5) -> None:
        self.sample_fps = sample_fps
        self.lost_s = lost_s
        self.min_iou = min_iou
        self.cut_correlation = cut_correlation
        self.cuts = 0
        self._offset = 0
        self._max_id = -1
        self._tracker = self._new_tracker()
        self._previous_hist: np.ndarray | None = None
        self._pending: list[tuple[Box, list[int | None], int]] = []  # first-frame faces awaiting their id

    def _new_tracker(self) -> ByteTrackTracker:
        return ByteTrackTracker(
            lost_track_buffer=max(1, round(30 * self.lost_s)),  # counted in 1/30 s by the library
            frame_rate=self.sample_fps,
            track_activation_threshold=0.0,
            minimum_consecutive_frames=1,
            minimum_iou_threshold=self.min_iou,
            high_conf_det_threshold=0.5,
        )

    def _is_cut(self, frame: np.ndarray | None) -> bool:
        if frame is None:
            return False
        hist = frame_histogram(frame)
        previous, self._previous_hist = self._previous_hist, hist
        if previous is None:
            return False
        return float(cv2.compareHist(previous, hist, cv2.HISTCMP_CORREL)) < self.cut_correlation

    def update(self, t: float, boxes: Sequence[Box], frame: np.ndarray | None = None) -> list[int | None]:
        """Track ids for ``boxes`` (one sampled frame at ``t`` seconds); None for a face not (yet) followed.

        Ids returned for a frame may be completed later: a face seen for the first time is back-filled in the
        list returned for its frame once the next frame continues it (the lists are updated in place).
        """
        if self._is_cut(frame):
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

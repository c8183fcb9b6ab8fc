"""Face tracks: ids follow a face across frames, first frames are back-filled, shot changes start new tracks."""

from __future__ import annotations

import numpy as np

from bloomwell_ml.faces import Box, YuNetDetector
from services.inference_worker.frames import sample_frames
from services.inference_worker.tracking import FaceTracker, box_iou
from tests.worker.conftest import shared_video


def test_box_iou() -> None:
    assert box_iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert box_iou(Box(0, 0, 10, 10), Box(5, 0, 10, 10)) == 50 / 150
    assert box_iou(Box(0, 0, 10, 10), Box(20, 20, 5, 5)) == 0.0


def test_two_moving_faces_keep_their_ids_from_the_first_frame_on() -> None:
    tracker = FaceTracker(5.0)
    rows = []
    for k in range(8):
        boxes = [Box(10 + 3 * k, 10, 40, 40, 0.9), Box(200 - 2 * k, 50, 50, 50, 0.9)]
        rows.append(tracker.update(k * 0.2, boxes))
    first = rows[0]
    assert None not in first and len(set(first)) == 2  # back-filled once the next frame continued them
    assert all(row == first for row in rows)


def test_a_face_reappearing_after_a_short_gap_keeps_its_track() -> None:
    tracker = FaceTracker(5.0, lost_s=1.0)
    ids = [tracker.update(k * 0.2, [Box(50, 50, 40, 40, 0.9)] if k not in (3, 4) else []) for k in range(8)]
    seen = {i for row in ids for i in row}
    assert len(seen) == 1


def test_a_one_frame_face_gets_no_id() -> None:
    tracker = FaceTracker(5.0)
    rows = [tracker.update(0.0, [Box(0, 0, 30, 30, 0.9)]), tracker.update(0.2, [Box(300, 300, 30, 30, 0.9)])]
    tracker.update(0.4, [])
    assert rows[0] == [None]


def test_a_shot_change_starts_new_tracks_even_where_boxes_overlap() -> None:
    tracker = FaceTracker(5.0)
    dark, bright = np.zeros((90, 160, 3), np.uint8), np.full((90, 160, 3), (40, 200, 90), np.uint8)
    box = Box(50, 20, 40, 40, 0.9)
    before = [tracker.update(k * 0.2, [box], dark) for k in range(3)]
    after = [tracker.update(0.6 + k * 0.2, [box], bright) for k in range(3)]
    assert tracker.cuts == 1
    assert before[0][0] is not None and after[0][0] is not None and before[0][0] != after[0][0]


def test_real_videos_one_track_for_one_person_several_on_the_stage_clip() -> None:
    detector = YuNetDetector()
    for name, at_least, at_most in (("fer_woman2.mp4", 1, 1), ("face_recognition_short_hamilton_clip.mp4", 4, 20)):
        tracker = FaceTracker(5.0)
        ids = [i for f in sample_frames(shared_video(name), 5.0)
               for i in tracker.update(f.t, detector.detect([f.image])[0], f.image)]
        tracks = {i for i in ids if i is not None}
        assert at_least <= len(tracks) <= at_most, (name, tracks)
        if name.startswith("face_recognition"):
            assert tracker.cuts >= 1

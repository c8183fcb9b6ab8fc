"""Face boxes, crops with margin, and the detectors on real photos."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from bloomwell_ml.crop import crop_region, crop_square
from bloomwell_ml.faces import Box, HaarDetector, clip_box, create_detector, largest_first
from tests.worker.conftest import SHARED_DATA


def photo(name: str) -> np.ndarray:
    path = SHARED_DATA / "samples_misc" / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    image = cv2.imread(str(path))
    assert image is not None
    return image


def test_crop_region_is_a_square_grown_by_the_margin() -> None:
    assert crop_region(Box(100, 100, 40, 60), 400, 400, margin=0.25) == (75, 85, 165, 175)


def test_crop_region_is_clipped_at_the_frame_edges() -> None:
    x0, y0, x1, y1 = crop_region(Box(0, 5, 50, 50), 60, 55, margin=0.2)
    assert (x0, y0) == (0, 0)
    assert (x1, y1) == (60, 55)


def test_crop_face_returns_the_region_pixels() -> None:
    frame = np.arange(200 * 300 * 3, dtype=np.uint32).reshape(200, 300, 3).astype(np.uint8)
    crop = crop_square(frame, Box(100, 50, 40, 40), margin=0.5)
    assert crop.shape == (80, 80, 3)
    assert np.array_equal(crop, frame[30:110, 80:160])


def test_crop_at_the_frame_edge_stays_square_by_repeating_edge_pixels() -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :5] = 255  # a white stripe on the left edge
    crop = crop_square(frame, Box(0, 30, 20, 40), margin=0.0)  # square of 40 centred at x=10 leaves the frame
    assert crop.shape == (40, 40, 3)
    assert (crop[:, :15] == 255).all() and (crop[:, 15:] == 0).all()  # 10 repeated + 5 real white columns


def test_default_margin_is_the_tight_square_around_the_box() -> None:
    assert crop_region(Box(10, 20, 30, 40), 200, 200) == (5, 20, 45, 60)


def test_clip_box_drops_degenerate_boxes() -> None:
    assert clip_box(-10, -5, 30, 40, 100, 100, 0.9) == Box(0, 0, 30, 40, 0.9)
    assert clip_box(99, 10, 130, 50, 100, 100, 0.9) is None


def test_largest_first_keeps_the_biggest_faces() -> None:
    boxes = [Box(0, 0, 10, 10), Box(50, 0, 30, 30), Box(20, 0, 20, 20)]
    assert largest_first(boxes, 2) == [Box(50, 0, 30, 30), Box(20, 0, 20, 20)]


def test_haar_finds_one_face_in_a_portrait_and_none_in_a_landscape() -> None:
    detector = HaarDetector()
    portrait, landscape = photo("fer_justin.jpg"), photo("fer_no-faces.jpg")
    faces, none = detector.detect([portrait, landscape])
    assert len(faces) == 1
    box = faces[0]
    h, w = portrait.shape[:2]
    assert box.x >= 0 and box.x + box.w <= w and box.y >= 0 and box.y + box.h <= h
    assert box.w > 0.1 * min(h, w)
    assert none == []


def test_haar_finds_several_faces_largest_first() -> None:
    faces = HaarDetector(max_faces=10).detect([photo("faceapijs_bbt1.jpg")])[0]
    assert len(faces) >= 3
    assert [b.area for b in faces] == sorted((b.area for b in faces), reverse=True)


@pytest.mark.skipif(importlib.util.find_spec("facenet_pytorch") is None, reason="facenet-pytorch not installed")
def test_mtcnn_agrees_with_haar_on_a_portrait() -> None:
    image = photo("fer_justin.jpg")
    mtcnn = create_detector("mtcnn").detect([image])[0]
    haar = HaarDetector().detect([image])[0]
    assert len(mtcnn) == 1 and mtcnn[0].score >= 0.9
    # The two boxes overlap substantially (IoU).
    a, b = mtcnn[0], haar[0]
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    assert inter / (a.area + b.area - inter) > 0.4


def test_unknown_detector_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown face detector"):
        create_detector("yolo")

"""Face boxes, crops with margin, and the detectors on real photos."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from bloomwell_ml.crop import crop_region, crop_square, eye_roll_deg
from bloomwell_ml.faces import (
    YUNET_PATH,
    YUNET_SHA256,
    Box,
    FaceDetector,
    HaarDetector,
    Landmarks,
    YuNetDetector,
    clip_box,
    create_detector,
    file_sha256,
    largest_first,
)
from tests.worker.conftest import SHARED_DATA


def photo(name: str) -> np.ndarray:
    return photo_at(SHARED_DATA / "samples_misc" / name)


def photo_at(path: Path) -> np.ndarray:
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


def test_yunet_finds_faces_with_landmarks_largest_first() -> None:
    detector = YuNetDetector(max_faces=10)
    portrait, crowd, landscape = photo("fer_justin.jpg"), photo("faceapijs_bbt1.jpg"), photo("fer_no-faces.jpg")
    (face,), several, none = detector.detect([portrait, crowd, landscape])
    assert face.score >= 0.7 and face.landmarks is not None
    marks = face.landmarks
    # the subject's right eye is left of the left eye in the image, both above the nose, the mouth below it
    assert marks.right_eye[0] < marks.left_eye[0]
    assert max(marks.right_eye[1], marks.left_eye[1]) < marks.nose[1] < min(marks.mouth_left[1], marks.mouth_right[1])
    assert face.x <= marks.nose[0] <= face.x + face.w
    assert len(several) >= 3 and [b.area for b in several] == sorted((b.area for b in several), reverse=True)
    assert none == []


def test_yunet_model_file_is_checked_against_its_checksum(tmp_path: Path) -> None:
    assert file_sha256(YUNET_PATH) == YUNET_SHA256
    damaged = tmp_path / "yunet.onnx"
    damaged.write_bytes(YUNET_PATH.read_bytes()[:-1] + b"\0")
    with pytest.raises(ValueError, match="SHA-256"):
        YuNetDetector(model_path=damaged)
    with pytest.raises(FileNotFoundError):
        YuNetDetector(model_path=tmp_path / "missing.onnx")


@pytest.mark.parametrize(("make", "share"), [(lambda: HaarDetector(), 0.65), (lambda: YuNetDetector(), 0.9)],
                         ids=["haar", "yunet"])
def test_tight_face_photos_are_found(make: Callable[[], FaceDetector], share: float) -> None:
    """Faces filling the whole picture (cropped portraits, FER-style images): Haar finds them once it pads the
    frame (on 150 FER2013 test faces at 192 px: 49 % without padding, 73 % with); YuNet needs no padding (99 %)."""
    tight = [photo_at(SHARED_DATA / "samples_faceapijs" / "all" / c / n) for c, n in
             [("angry", "test_angry_cropped.jpg"), ("surprise", "test_surprised_cropped.jpg")]]
    fer = sorted((SHARED_DATA / "fer2013" / "test" / "happy").glob("*.jpg"))[:20]
    tight += [cv2.resize(photo_at(p), (192, 192), interpolation=cv2.INTER_CUBIC) for p in fer]
    found = sum(1 for faces in make().detect(tight) if faces)
    assert found >= share * len(tight)


def test_detectors_return_nothing_for_tiny_frames() -> None:
    frames = [np.zeros((s, s, 3), np.uint8) for s in (1, 2, 7)]
    for detector in (YuNetDetector(), HaarDetector()):
        assert detector.detect(frames) == [[], [], []]


def test_aligned_crop_levels_the_eye_line_and_keeps_the_framing() -> None:
    """Two marks on a 27° line (where the landmarks say the eyes are) come out level, same centre and side."""
    frame = np.zeros((200, 200, 3), np.uint8)
    cv2.circle(frame, (80, 100), 4, (255, 255, 255), -1)
    cv2.circle(frame, (120, 120), 4, (0, 0, 255), -1)
    marks = Landmarks((80, 100), (120, 120), (100, 120), (90, 140), (110, 140))
    box = Box(60, 80, 80, 80, 1.0, marks)
    assert eye_roll_deg(box) == pytest.approx(26.57, abs=0.01)
    aligned = crop_square(frame, box, align=True)
    assert aligned.shape == crop_square(frame, box).shape == (80, 80, 3)
    white = np.argwhere(aligned[:, :, 0] > 128).mean(axis=0)
    red = np.argwhere((aligned[:, :, 2] > 128) & (aligned[:, :, 0] < 64)).mean(axis=0)
    assert abs(white[0] - red[0]) < 1.0  # same row: the eye line is level
    level = Box(60, 80, 80, 80, 1.0, Landmarks((80, 100), (120, 100), (0, 0), (0, 0), (0, 0)))
    assert np.array_equal(crop_square(frame, level, align=True), crop_square(frame, level))
    assert crop_square(frame, box, max_side=40).shape == (40, 40, 3)


def test_alignment_reduces_the_tilt_of_a_real_tilted_face() -> None:
    image = photo("fer_justin.jpg")
    ((face,),) = YuNetDetector().detect([image])
    centre = (face.x + face.w / 2, face.y + face.h / 2)
    tilted = cv2.warpAffine(image, cv2.getRotationMatrix2D(centre, 20, 1.0), (image.shape[1], image.shape[0]),
                            borderMode=cv2.BORDER_REPLICATE)
    ((turned,),) = YuNetDetector().detect([tilted])
    ((again,),) = YuNetDetector(pad_frac=0.3).detect([crop_square(tilted, turned, margin=0.3, align=True)])
    assert abs(eye_roll_deg(again) or 99) < abs(eye_roll_deg(turned) or 0)


def test_non_finite_detector_coordinates_give_no_box() -> None:
    """YuNet has returned inf/nan boxes on frames of a few pixels: they are dropped, never an error."""
    assert clip_box(float("-inf"), -1e31, float("nan"), -1e31, 8, 8, 1.0) is None
    assert clip_box(1.0, 1.0, 6.0, 6.0, 8, 8, 0.9) is not None

"""The live face check on the webcam tab: Chromium's fake camera shows a known picture — a frame of a shared face
video, or a photo with no face — and the check must react to it as the worker would: the same face box as the worker's
own YuNet detector finds on that frame, the readable verdict, "No face found" without one, and at Stop how much of the
recording was readable, with a retake offered when too little was."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIDEOS, Stack, launch_chromium, write_still_y4m
from tests.browser.helpers import shot, sign_up, unique_email

pytestmark = pytest.mark.browser

SAMPLES = VIDEOS.parent / "samples_misc"
CAMERA = (640, 480)
FACE_FRAME = 60  # fer_woman2.mp4: the woman facing the camera


def face_picture():  # noqa: ANN201 - a BGR numpy image
    import cv2

    capture = cv2.VideoCapture(str(VIDEOS / "fer_woman2.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, FACE_FRAME)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def as_camera_shows(picture):  # noqa: ANN001, ANN201
    """The picture as the fake camera delivers it: resized, then through I420 and back, like the .y4m."""
    import cv2

    resized = cv2.resize(picture, CAMERA, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(cv2.cvtColor(resized, cv2.COLOR_BGR2YUV_I420), cv2.COLOR_YUV2BGR_I420)


def camera_browser(playwright_session, tmp_path: Path, name: str, picture) -> Iterator[Browser]:  # noqa: ANN001
    browser = launch_chromium(playwright_session, write_still_y4m(picture, tmp_path / f"{name}.y4m", *CAMERA))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def face_browser(playwright_session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:  # noqa: ANN001
    yield from camera_browser(playwright_session, tmp_path_factory.mktemp("face"), "face", face_picture())


@pytest.fixture(scope="module")
def empty_browser(playwright_session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:  # noqa: ANN001
    import cv2

    picture = cv2.imread(str(SAMPLES / "fer_no-faces.jpg"))
    assert picture is not None
    yield from camera_browser(playwright_session, tmp_path_factory.mktemp("empty"), "empty", picture)


def open_camera(browser: Browser, stack: Stack) -> Page:
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(base_url=stack.base_url, viewport=viewport, permissions=["camera"])
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    sign_up(page, unique_email("facecheck"))
    page.get_by_role("button", name="Turn on camera").click()
    expect(page.get_by_role("heading", name="Camera is on")).to_be_visible()
    return page


def verdict(page: Page, state: str) -> None:
    """Wait (generously: the first check loads ONNX Runtime's WebAssembly) until the hint shows ``state``."""
    expect(page.get_by_test_id("face-hint")).to_have_attribute("data-state", state, timeout=90_000)


def record(page: Page) -> None:
    page.get_by_role("button", name="Start recording").click()
    stop = page.get_by_role("button", name="Stop recording")
    expect(stop).to_be_enabled(timeout=20_000)
    stop.click()
    expect(page.get_by_role("heading", name="Your recording")).to_be_visible(timeout=20_000)


def test_a_face_is_found_where_the_worker_finds_it_and_reads_as_readable(face_browser: Browser, stack: Stack) -> None:
    from bloomwell_ml.faces import YuNetDetector
    from services.common.quality import QualityThresholds

    page = open_camera(face_browser, stack)
    verdict(page, "ok")
    hint = page.get_by_test_id("face-hint")
    expect(hint).to_contain_text("Your face is readable")
    box = page.get_by_test_id("face-box")
    expect(box).to_have_attribute("data-frame", f"{CAMERA[0]}x{CAMERA[1]}")
    x, y, w, h = (int(v) for v in (box.get_attribute("data-box") or "").split(","))
    score = float(box.get_attribute("data-score") or 0)

    # the worker's detector on the same frame: same box (within the colour conversion's few pixels), same confidence
    [worker] = YuNetDetector().detect([as_camera_shows(face_picture())])[:1]
    assert worker, "the worker's detector found no face on the test frame"
    ref = worker[0]
    tolerance = max(3, round(0.04 * ref.w))
    assert abs(x - ref.x) <= tolerance and abs(y - ref.y) <= tolerance, ((x, y, w, h), ref)
    assert abs(w - ref.w) <= tolerance and abs(h - ref.h) <= tolerance, ((x, y, w, h), ref)
    assert abs(score - ref.score) < 0.03, (score, ref.score)
    assert min(w, h) >= QualityThresholds().min_face_px
    shot(page, "24-face-check-readable", full_page=False)

    record(page)
    summary = page.get_by_test_id("readable-summary")
    expect(summary).to_contain_text(re.compile(r"Your face was readable for (\d+(\.\d)?) of \d+ seconds\."))
    readable = float(re.search(r"readable for (\d+(?:\.\d)?)", summary.inner_text()).group(1))  # type: ignore[union-attr]
    assert readable >= 4, summary.inner_text()
    expect(page.get_by_role("button", name="Analyse this recording")).to_be_visible()
    shot(page, "25-face-check-recorded-readable", full_page=False)
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]
    page.context.close()


def test_no_face_is_said_before_recording_and_a_retake_offered_after(empty_browser: Browser, stack: Stack) -> None:
    page = open_camera(empty_browser, stack)
    verdict(page, "no_face")
    expect(page.get_by_test_id("face-hint")).to_contain_text("No face found")
    expect(page.get_by_test_id("face-box")).to_have_count(0)
    expect(page.locator(".face-badge")).to_have_text("No face found")
    shot(page, "26-face-check-no-face", full_page=False)

    record(page)
    summary = page.get_by_test_id("readable-summary")
    expect(summary).to_contain_text("Your face couldn't be read in this recording")
    # the retake is the suggested step; sending is still possible, said plainly
    expect(page.get_by_role("button", name="Retake")).to_have_class(re.compile(r"btn--primary"))
    expect(page.get_by_role("button", name="Analyse it anyway")).to_be_visible()
    shot(page, "27-face-check-recorded-no-face", full_page=False)
    page.get_by_role("button", name="Retake").click()
    verdict(page, "no_face")
    assert not page.console_errors, page.console_errors  # type: ignore[attr-defined]
    page.context.close()

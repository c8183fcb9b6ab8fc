"""Uploads and failures that help: a clip outside the suggested length is explained before anything is sent, and a
failed analysis says what happened (its own heading per error code), why (the main sentence) and what to do (a button
that can help) — for every error code of the contract."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from services.common.analysis import ErrorCode
from tests.browser.conftest import VIDEOS
from tests.browser.helpers import shot, sign_up, unique_email

pytestmark = pytest.mark.browser

GENERIC = "The analysis didn't finish"


def short_clip(path: Path, seconds: float = 0.3) -> Path:
    """The first ``seconds`` of a shared face video, written as VP8 WebM (which Chromium decodes, so it can read the
    length): a blink of a clip, as in the issue."""
    import cv2

    capture = cv2.VideoCapture(str(VIDEOS / "fer_woman2.mp4"))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, size)
    for _ in range(max(1, round(fps * seconds))):
        ok, frame = capture.read()
        assert ok
        writer.write(frame)
    writer.release()
    capture.release()
    return path


def test_a_clip_outside_the_suggested_length_is_explained_before_it_is_sent(page: Page, tmp_path: Path) -> None:
    sign_up(page, unique_email("short"))
    config = page.request.get("/v1/config").json()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/v1/analyses" in r.url else None)
    page.get_by_role("tab", name="Upload a video").click()
    page.get_by_test_id("file-input").set_input_files(str(short_clip(tmp_path / "blink.webm")))
    note = page.get_by_test_id("duration-note")
    expect(note).to_contain_text(re.compile(r"only 0\.\d s long"), timeout=15_000)
    expect(note).to_contain_text(f"at least {config['min_record_s']:g} seconds")
    # sending it is a deliberate choice, not the suggested step
    expect(page.get_by_role("button", name="Analyse this video")).to_have_count(0)
    expect(page.get_by_role("button", name="Analyse it anyway")).to_be_visible()
    shot(page, "19a-upload-too-short")
    # a clip within the range goes through the same check without a word
    page.get_by_test_id("file-input").set_input_files(str(VIDEOS / "fer_woman2.mp4"))
    expect(page.get_by_test_id("file-card")).to_contain_text("fer_woman2.mp4")
    expect(page.get_by_test_id("duration-note")).to_have_count(0)
    expect(page.get_by_role("button", name="Analyse this video")).to_be_visible()
    assert posts == [], posts


def failed_analysis(code: str, error: str) -> dict:
    now = "2026-11-24T10:00:00Z"
    return {
        "id": str(uuid.uuid4()), "status": "failed", "progress": 1.0, "stage": "failed", "error": error,
        "error_code": code, "created_at": now, "started_at": now, "finished_at": now, "filename": "clip.mp4",
        "duration_s": 0.3, "sample_fps": 5.0, "keep_video": False, "dominant_emotion": None,
    }


def fulfil_with(body: dict) -> Callable[[Route], None]:
    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    return answer


def test_every_error_code_has_its_own_heading_reason_and_next_step(page: Page) -> None:
    """The gateway's answer for the analysis is replaced by a failed one per error code (the real stack cannot be made
    to time out or fail internally on demand); everything else — the app, the session — is the real thing."""
    sign_up(page, unique_email("failures"))
    worker_sentence = "We found a face but could not read its expression: the face was visible only for a moment."
    headings: dict[str, str] = {}
    for code in [*(c.value for c in ErrorCode), "invalid_result"]:
        body = failed_analysis(code, worker_sentence)
        page.route(f"**/v1/analyses/{body['id']}", fulfil_with(body))
        page.goto(f"/analyses/{body['id']}")
        failure = page.get_by_test_id("failure")
        expect(failure).to_be_visible()
        expect(failure).to_have_attribute("data-code", code)
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading and heading != GENERIC, (code, heading)
        headings[code] = heading
        reason = page.get_by_test_id("failure-reason").inner_text()
        assert len(reason) > 20, (code, reason)
        if code == "no_assessable_face":  # the worker's sentence names the actual reason: it is the main sentence
            assert heading == "We couldn't read a face"
            assert reason == worker_sentence
        else:
            expect(failure).to_contain_text(f"Details: {worker_sentence}")
        expect(page.get_by_test_id("failure-next")).to_contain_text(re.compile(r"^What to do: .{20,}"))
        action = failure.get_by_role("link")
        expect(action).to_have_attribute("href", "/new")
        assert "try again" not in action.inner_text().lower() or code == "internal"
        shot(page, f"50-failure-{code}", full_page=False)
        page.unroute(f"**/v1/analyses/{body['id']}")
    assert len(set(headings.values())) == len(headings), headings  # no two codes read alike
    assert headings["timeout"] != headings["internal"]

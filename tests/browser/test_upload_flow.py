"""The main journey on the real stack: sign up → log in → upload a real face video → live progress →
report with charts and face crops → export JSON/CSV → history → delete."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import VIDEOS
from tests.browser.helpers import PASSWORD, analysis_id_from_url, log_in, shot, sign_up, unique_email, wait_for_report

pytestmark = pytest.mark.browser

EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def wait_until(page: Page, predicate: str, timeout_s: float = 30.0) -> None:
    """Poll a JS function until it returns true. (``page.wait_for_function`` evaluates its predicate with
    ``eval``, which the gateway's Content-Security-Policy forbids; ``page.evaluate`` of a function is not.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.1)


def test_signup_login_upload_report_export_delete(page: Page, tmp_path: Path) -> None:
    email = unique_email("upload")

    # Sign up: client-side validation first, shown inline.
    page.goto("/")
    page.get_by_role("link", name="Create a free account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Example")
    page.get_by_label("E-mail").fill("robin@")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("different")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Enter a valid e-mail address, like name@example.com.")).to_be_visible()
    expect(page.get_by_text("Use at least 8 characters.")).to_be_visible()
    expect(page.get_by_text("The passwords do not match.")).to_be_visible()
    expect(page.get_by_label("E-mail")).to_be_focused()
    shot(page, "10-signup-validation")

    sign_up(page, email)
    expect(page.get_by_text("Welcome, Robin.")).to_be_visible()
    shot(page, "11-new-analysis-record-tab")

    # Log out, then a wrong password is refused inline, then log in.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("don't match an account")
    shot(page, "12-login-error")
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/history$"))
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    shot(page, "13-history-empty")

    # Upload: the wrong type is refused before anything is sent.
    page.get_by_role("link", name="New analysis").first.click()
    page.get_by_role("tab", name="Upload a video").click()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.get_by_test_id("file-input").set_input_files(str(notes))
    expect(page.get_by_test_id("upload-error")).to_contain_text("isn't supported")

    video = VIDEOS / "fer_woman2.mp4"
    page.get_by_test_id("file-input").set_input_files(str(video))
    card = page.get_by_test_id("file-card")
    expect(card).to_contain_text("fer_woman2.mp4")
    expect(card).to_contain_text("MB")
    shot(page, "14-upload-selected")

    # Slow the upload down (Chrome DevTools network emulation) so the XHR progress bar can be seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    page.get_by_role("button", name="Analyse this video").click()
    progress = page.get_by_test_id("upload-progress")
    expect(progress).to_be_visible()
    wait_until(
        page,
        "() => { const p = document.querySelector('[data-testid=upload-progress]');"
        " return !p || Number(p.getAttribute('aria-valuenow')) > 0; }",
    )
    if progress.is_visible():
        shot(page, "14b-upload-progress", full_page=False)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # Live status page (progress pushed over SSE), then the report.
    expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=60_000)
    analysis_id = analysis_id_from_url(page)
    status = page.get_by_test_id("status-panel")
    if status.is_visible():
        shot(page, "15-analysis-progress")
    wait_for_report(page)
    # "your report is ready": the title says so and focus lands on the page heading (the state change replaced it)
    expect(page).to_have_title("Your report is ready — Bloomwell")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    # Summary first: one plain sentence about the person, the key figures with their explanation.
    plain = re.compile(r"^(Mostly|Often|A mix of expressions|We could not tell|The expression was unclear)")
    expect(page.get_by_test_id("summary-text")).to_have_text(plain)
    # an expression, or "Unclear" where the model was unsure most of the time (services.common.analysis.UNCLEAR_BELOW)
    expect(page.get_by_test_id("dominant-emotion")).to_have_text(
        re.compile("|".join([*(e.capitalize() for e in EMOTIONS), "Unclear"])))
    expect(page.get_by_test_id("people-picker")).to_have_count(0)  # one person: no picker
    # The timeline band: at least one labelled expression stretch.
    ribbon = page.get_by_test_id("ribbon")
    expect(ribbon.locator(".ribbon__band").first).to_be_visible()
    assert ribbon.locator(".ribbon__band:not(.ribbon__band--gap)").count() >= 1
    track = ribbon.locator(".ribbon__track")
    expect(track).to_have_attribute("aria-label", re.compile("^Most likely expression over time"))
    # Distribution bars carry their values.
    values = page.get_by_test_id("distribution-chart").get_by_test_id("bar-value")
    expect(values).to_have_count(7)
    for text in values.all_inner_texts():
        assert re.search(r"\d+\s?%", text), text
    expect(page.get_by_test_id("observations").get_by_role("listitem")).to_have_count(4)
    expect(page.get_by_test_id("result").get_by_test_id("disclaimer").first).to_contain_text("not a diagnosis")
    # Developer figures live in the folded "Details".
    expect(page.get_by_test_id("frames-analyzed")).to_be_hidden()
    page.get_by_test_id("report-details").locator("summary").click()
    expect(page.get_by_test_id("frames-analyzed")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_test_id("model-info")).not_to_be_empty()
    page.get_by_test_id("report-details").locator("summary").click()
    # The seven probability lines only on demand (a lazily loaded chunk).
    page.get_by_role("button", name="Show the seven probability lines").click()
    timeline = page.get_by_test_id("timeline-chart")
    expect(timeline.locator(".recharts-line")).to_have_count(7)
    expect(timeline.locator(".recharts-line-curve").first).to_be_visible()
    crops = page.get_by_test_id("face-crops").get_by_role("img", name=re.compile("^Face at"))
    expect(crops.first).to_be_visible(timeout=30_000)
    wait_until(
        page,
        "() => [...document.querySelectorAll('[data-testid=face-crops] img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
    )
    assert crops.first.get_attribute("src").startswith("blob:")
    shot(page, "16-report")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(timeline.locator(".recharts-line")).to_have_count(7)
    # charts re-measure through ResizeObserver after the viewport change: wait for the layout to settle
    wait_until(page, "() => document.documentElement.scrollWidth <= window.innerWidth + 1", timeout_s=10)
    shot(page, "16b-report-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Export JSON and CSV: named by date and file, carrying the notice.
    name = re.compile(r"^bloomwell-\d{4}-\d{2}-\d{2}-fer_woman2\.(json|csv)$")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download JSON").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert name.match(dl.value.suggested_filename), dl.value.suggested_filename
    assert dl.value.suggested_filename.endswith(".json")
    assert exported["schema_version"] == 2
    assert {"summary", "people", "primary_track_id", "frames", "export"} <= set(exported)
    assert "not a diagnosis" in exported["export"]["disclaimer"]
    assert exported["export"]["analysis_id"] == analysis_id
    assert exported["export"]["filename"] == "fer_woman2.mp4"
    assert exported["summary"]["frames_analyzed"] >= exported["summary"]["frames_with_face"] > 0
    assert list(exported["summary"]["distribution"]) == EMOTIONS
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download CSV").click()
    assert name.match(dl.value.suggested_filename), dl.value.suggested_filename
    assert dl.value.suggested_filename.endswith(".csv")
    text = Path(dl.value.path()).read_text()
    preamble = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# disclaimer:") and "not a diagnosis" in line for line in preamble), preamble
    assert f"# analysis_id: {analysis_id}" in preamble
    rows = list(csv.reader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert rows[0][:11] == ["t", "span_s", "track_id", "face", "x", "y", "w", "h", "assessable", "unassessable_reason",
                            "emotion"]
    assert rows[0][11:] == EMOTIONS
    assert len(rows) > 1

    # A reload keeps the session (the refresh token in sessionStorage buys a new access token).
    page.reload()
    wait_for_report(page)

    # History lists it, newest first, with status and dominant emotion.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    item = page.get_by_test_id("history-item").first
    expect(item).to_have_attribute("data-id", analysis_id)
    expect(item).to_contain_text("Ready")
    expect(item).to_contain_text("fer_woman2.mp4")
    expect(page).to_have_title("Your analyses — Bloomwell")
    shot(page, "17-history")

    # Open it again from the history and delete it (with confirmation).
    item.get_by_role("link", name=re.compile("^Open analysis")).click()
    wait_for_report(page)
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete this analysis?")
    expect(dialog).to_be_visible()
    shot(page, "18-delete-confirm", full_page=False)
    dialog.get_by_role("button", name="Delete analysis").click()
    expect(page).to_have_url(re.compile(r"/history$"))
    expect(page.get_by_test_id("history-notice")).to_contain_text("deleted")
    expect(page.get_by_role("heading", name="Your analyses")).to_be_focused()
    expect(page.get_by_test_id("history-empty")).to_be_visible()

    # The API agrees it is gone.
    token_check = page.request.get(f"/v1/analyses/{analysis_id}")
    assert token_check.status == 401  # no Bearer header from a bare request
    assert not [e for e in page.console_errors if "Failed to load resource" not in e], page.console_errors  # type: ignore[attr-defined]


def test_video_without_a_face_and_unreadable_file_are_explained(page: Page, tmp_path: Path) -> None:
    """No face in the video → a plain "no face found" message (the worker may fail with ``no_face`` or
    succeed with zero faces; both read the same). A file the server cannot decode → an inline upload error."""
    import cv2
    import numpy as np

    path = tmp_path / "no-face.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(30):
        frame = np.full((240, 320, 3), 40 + i * 3, np.uint8)
        frame[rng.integers(0, 240, 200), rng.integers(0, 320, 200)] = 255
        writer.write(frame)
    writer.release()

    sign_up(page, unique_email("noface"), PASSWORD)
    page.get_by_role("tab", name="Upload a video").click()

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    page.get_by_test_id("file-input").set_input_files(str(broken))
    page.get_by_role("button", name=re.compile(r"^Analyse (this video|it anyway)$")).click()
    upload_error = page.get_by_test_id("upload-error")
    expect(upload_error).to_be_visible(timeout=60_000)
    expect(upload_error).to_contain_text("The video wasn't sent")
    expect(page).to_have_url(re.compile(r"/new$"))
    shot(page, "19-upload-rejected")

    page.get_by_test_id("file-input").set_input_files(str(path))
    page.get_by_role("button", name=re.compile(r"^Analyse (this video|it anyway)$")).click()
    expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=60_000)
    message = page.get_by_test_id("no-face").or_(page.get_by_test_id("failure"))
    expect(message).to_be_visible(timeout=180_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find a face in this video")
    expect(message).to_contain_text("What to do:")
    expect(message.get_by_role("link", name="Record again")).to_have_attribute("href", "/new")
    shot(page, "19-no-face")

"""Webcam path: Chromium's fake camera plays a real face video → record 5 s → play back → report."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import shot, sign_up, unique_email, wait_for_report

pytestmark = pytest.mark.browser


def test_record_with_webcam_then_get_a_report(page: Page) -> None:
    sign_up(page, unique_email("webcam"))
    expect(page).to_have_title("New analysis — Bloomwell")
    expect(page.get_by_role("heading", name="New analysis")).to_be_focused()  # after the sign-up redirect
    expect(page.get_by_role("tab", name="Record with webcam")).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Turn on camera").click()
    expect(page.get_by_role("heading", name="Camera is on")).to_be_focused()  # focus follows the new state

    preview = page.get_by_test_id("live-preview")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=live-preview]');"
        " return v && v.readyState >= 2 && v.videoWidth > 0; }"
    )
    # the live face check (the worker's YuNet in the browser) read the preview: a face, readable
    expect(page.get_by_test_id("face-hint")).to_have_attribute("data-state", "ok", timeout=90_000)
    shot(page, "20-webcam-preview")

    page.get_by_role("button", name="Start recording").click()
    expect(page.get_by_role("heading", name="Recording", exact=True)).to_be_focused()
    timer = page.get_by_test_id("record-timer")
    expect(timer).to_contain_text("/ 0:30")
    # Stopping is not possible before the minimum length.
    expect(page.get_by_role("button", name=re.compile(r"^Keep going"))).to_be_disabled()
    expect(timer).to_contain_text("0:02", timeout=10_000)
    shot(page, "21-webcam-recording")
    stop = page.get_by_role("button", name="Stop recording")
    expect(stop).to_be_enabled(timeout=15_000)
    expect(timer).to_contain_text("0:05")
    stop.click()

    playback = page.get_by_test_id("playback")
    expect(playback).to_be_visible()
    expect(page.get_by_role("heading", name="Your recording")).to_be_focused()
    expect(page.get_by_test_id("recording-summary")).to_contain_text(re.compile(r"0:0[5-9] long"))
    readable = re.compile(r"^Your face was readable for [\d.]+ of \d+ seconds\.$")
    expect(page.get_by_test_id("readable-summary")).to_contain_text(readable)
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=playback]');"
        " return v && v.readyState >= 1 && v.videoWidth > 0; }"
    )
    # fix-webm-duration wrote the length into the WebM: the player knows it and can seek
    duration = page.evaluate("() => document.querySelector('[data-testid=playback]').duration")
    assert 4.5 < duration < 15, duration
    expect(page.get_by_test_id("playback-seek")).to_have_attribute("max", re.compile(r"^([5-9]|1[0-4])(\.\d+)?$"))
    # mirrored like the live preview
    for testid in ("playback",):
        transform = page.evaluate(f"() => getComputedStyle(document.querySelector('[data-testid={testid}]')).transform")
        assert transform.startswith("matrix(-1"), transform
    shot(page, "22-webcam-playback")

    # Retake goes back to the live camera; record again, after a 3-2-1 countdown, and send it.
    page.get_by_role("button", name="Retake").click()
    page.get_by_role("checkbox", name=re.compile("Count down 3, 2, 1")).check()
    page.get_by_role("button", name="Start recording").click()
    expect(page.get_by_test_id("countdown")).to_be_visible()
    shot(page, "21b-webcam-countdown", full_page=False)
    expect(page.get_by_role("heading", name="Recording", exact=True)).to_be_focused(timeout=10_000)
    expect(page.get_by_role("button", name="Stop recording")).to_be_enabled(timeout=15_000)
    page.get_by_role("button", name="Stop recording").click()
    page.get_by_role("button", name="Analyse this recording").click()

    expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=60_000)
    wait_for_report(page)
    expect(page.get_by_test_id("summary-text")).not_to_be_empty()
    expect(page.get_by_test_id("ribbon").locator(".ribbon__band").first).to_be_visible()
    expect(page.get_by_test_id("frames-analyzed")).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_text(re.compile(r"^recording-.*\.webm")).first).to_be_visible()
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('[data-testid=face-crops] img')];"
        " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }"
    )
    shot(page, "23-webcam-report")

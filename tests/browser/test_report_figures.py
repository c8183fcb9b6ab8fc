"""The report shows the document's figures, and nothing it recomputed (issue 21, item 2): for each shared video
uploaded through the real stack, every person's "seen" in the picker, "Face readable … of …" in the summary (screen
and print view) and the seconds in "Details" are the result document's ``seen_s``/``readable_s``/``duration_s``
written as the web app writes seconds; the downloaded JSON is the document, and the downloaded CSV's ``span_s`` add
up to the same seconds. The ribbon marks a stretch unclear exactly when the document does, and "How the time divides"
counts those stretches as their own "Unclear" bar (:func:`tests.time_split.time_split`), so its negative bars are
the indicators' figure.

The stage clip and ``fer_woman2.mp4`` (the two clips where the figures once disagreed) run in the default suite;
the other shared videos are marked slow.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bloomwell_ml.labels import EMOTIONS, NEGATIVE_EMOTIONS
from tests.browser.conftest import VIDEOS, Stack
from tests.browser.helpers import ANALYSIS_TIMEOUT_MS, shot, sign_up, unique_email
from tests.time_split import time_split

pytestmark = pytest.mark.browser

DEFAULT_SUITE = {"face_recognition_short_hamilton_clip.mp4", "fer_woman2.mp4"}
SHARED = sorted(p.name for p in VIDEOS.glob("*")) if VIDEOS.is_dir() else []
MS = 1e-3 + 1e-9


def words(s: float) -> str:
    """``frontend/src/domain/words.ts`` ``seconds()``: "0.8 s", "4 s", "16 s", "1 min 5 s" (JS rounding: half up)."""
    def js_round(x: float) -> int:
        return math.floor(x + 0.5)

    if s < 10:
        tenths = js_round(s * 10) / 10
        return f"{tenths:g} s"
    if s < 60:
        return f"{js_round(s)} s"
    total = js_round(s)
    m, r = divmod(total, 60)
    return f"{m} min {r} s" if r else f"{m} min"


def percent(v: float) -> str:
    """``words.ts`` ``percent()``: "67%" (JS rounding: half up)."""
    return f"{math.floor(v * 100 + 0.5)}%"


def upload(page: Page, video: Path) -> str | None:
    """Upload and wait for the report; the failure's code when the analysis failed instead (no readable face)."""
    page.goto("/new")
    page.get_by_role("tab", name="Upload a video").click()
    page.get_by_test_id("file-input").set_input_files(str(video))
    page.get_by_role("button", name=re.compile(r"^Analyse (this video|it anyway)$")).click()
    expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=60_000)
    failure = page.get_by_test_id("failure")
    expect(page.get_by_test_id("result").or_(failure)).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    return failure.get_attribute("data-code") if failure.is_visible() else None


@pytest.fixture(scope="module")
def account_page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_up(page, unique_email("figures"))
        yield page
    finally:
        context.close()


def downloaded(page: Page, button: str) -> str:
    with page.expect_download() as dl:
        page.get_by_role("button", name=button).click()
    return Path(dl.value.path()).read_text()


def check_shown_person(page: Page, person: dict, duration_s: float) -> None:
    """The summary's figure and the details' seconds of the person now shown, on screen and in print."""
    readable = page.get_by_test_id("figure-readable").locator(".figure__value")
    expected = f"{words(person['readable_s'])} of {words(duration_s)}"
    expect(readable).to_have_text(expected)
    details = page.get_by_test_id("person-seconds")
    seen = f"seen for {words(person['seen_s'])} ({person['frames_with_face']} frames)"
    read = f"readable for {words(person['readable_s'])} ({person['assessable_frames']} frames)"
    expect(details).to_contain_text(seen)
    expect(details).to_contain_text(read)
    # "unclear" is the worker's verdict per segment, shown as it is (never recomputed with a threshold of its own)
    unclear_bands = page.get_by_test_id("ribbon").locator(".ribbon__band[data-unclear]")
    assert (unclear_bands.count() > 0) == any(seg.get("unclear") for seg in person["segments"]), person["label"]
    # "How the time divides": the seven expressions' clear shares, and the unclear stretches as a bar of their own
    clear, unclear = time_split(person)
    values = page.get_by_test_id("distribution-chart").get_by_test_id("bar-value")
    expect(values).to_have_count(7)
    for text, emotion in zip(values.all_inner_texts(), EMOTIONS, strict=True):
        assert text.startswith(percent(clear[emotion])), (person["label"], emotion, text, clear[emotion])
    unclear_bar = page.get_by_test_id("bar-value-unclear")
    expect(unclear_bar).to_have_count(1 if unclear > 0 else 0)
    if unclear > 0:
        expect(unclear_bar).to_contain_text(percent(unclear))
    dominant = page.get_by_test_id("dominant-emotion")
    top = person["dominant_emotion"]
    if top and dominant.inner_text() != "Unclear":  # named: with its clear share, as on the bars
        expect(dominant).to_have_text(f"{top.capitalize()} · {percent(clear[top])}")
    if person["indicators"] is not None:
        negative = math.fsum(clear[e] for e in NEGATIVE_EMOTIONS)
        assert abs(negative - person["indicators"]["negative_share"]) <= 1e-3, person["label"]
    page.emulate_media(media="print")
    try:
        expect(readable).to_have_text(expected)
    finally:
        page.emulate_media(media="screen")


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in DEFAULT_SUITE else pytest.mark.slow)
                                  for n in SHARED])
def test_displayed_figures_are_the_documents(account_page: Page, name: str) -> None:
    page = account_page
    failed = upload(page, VIDEOS / name)
    if failed is not None:  # faceapijs_test_video.mp4: five frames of unclear faces, nothing to report on
        assert failed in ("no_face", "no_assessable_face"), (name, failed)
        return
    document = json.loads(downloaded(page, "Download JSON"))
    rows = [r for r in csv.DictReader(line for line in io.StringIO(downloaded(page, "Download CSV"))
                                      if not line.startswith("#"))]
    duration = document["summary"]["duration_s"]
    readable_people = [p for p in document["people"] if p["assessable_frames"] > 0]
    for person in document["people"]:
        assert 0 <= person["readable_s"] <= person["seen_s"] <= duration, (name, person["label"])
        mine = [r for r in rows if r["track_id"] == str(person["track_id"])]
        assert abs(math.fsum(float(r["span_s"]) for r in mine) - person["seen_s"]) <= MS, (name, person["label"])
        assert abs(math.fsum(float(r["span_s"]) for r in mine if r["assessable"] == "1")
                   - person["readable_s"]) <= MS, (name, person["label"])
    assert all(r["emotion"] == "" for r in rows if r["assessable"] == "0"), name

    picker = page.get_by_test_id("people-picker")
    if len(readable_people) > 1:
        options = picker.get_by_test_id("person-option")
        expect(options).to_have_count(len(readable_people))
        for i in range(options.count()):
            option = options.nth(i)
            track = int(option.get_attribute("data-track") or -1)
            person = next(p for p in document["people"] if p["track_id"] == track)
            expect(option).to_contain_text(f"seen {words(person['seen_s'])}")
            option.click()
            expect(option).to_have_attribute("aria-pressed", "true")
            check_shown_person(page, person, duration)
    elif readable_people:
        expect(picker).to_have_count(0)
        check_shown_person(page, readable_people[0], duration)
    shot(page, f"60-figures-{Path(name).stem[:30]}")

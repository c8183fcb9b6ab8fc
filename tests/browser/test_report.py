"""The report on the real stack, one account and two processed videos shared by the module: the stage clip (several
people: picker, switching person), a short single-person clip, the history trend, the print view, axe-core."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIDEOS, Stack
from tests.browser.helpers import (
    REPO_ROOT,
    analysis_id_from_url,
    layout_shift,
    observe_layout_shifts,
    shot,
    sign_up,
    unique_email,
    wait_for_report,
)

pytestmark = pytest.mark.browser

AXE = REPO_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
STAGE_CLIP = VIDEOS / "face_recognition_short_hamilton_clip.mp4"
SHORT_CLIP = VIDEOS / "fer_test.mp4"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE_RUN = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
  const r = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


@dataclass
class Reports:
    page: Page
    short_id: str
    stage_id: str
    waiting_violations: list[dict] | None  # axe on the analysis page while the stage clip was processing


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations on the current page (the context bypasses the CSP to inject it)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


def upload(page: Page, video: Path) -> str:
    page.goto("/new")
    page.get_by_role("tab", name="Upload a video").click()
    page.get_by_test_id("file-input").set_input_files(str(video))
    page.get_by_role("button", name=re.compile(r"^Analyse (this video|it anyway)$")).click()
    expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=60_000)
    return analysis_id_from_url(page)


@pytest.fixture(scope="module")
def reports(browser: Browser, stack: Stack) -> Iterator[Reports]:
    if not AXE.is_file():
        pytest.skip("frontend/node_modules is missing (npm ci in frontend/)")
    context = browser.new_context(base_url=stack.base_url, viewport=DESKTOP, bypass_csp=True, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_up(page, unique_email("report"))
        short_id = upload(page, SHORT_CLIP)
        wait_for_report(page)
        stage_id = upload(page, STAGE_CLIP)
        waiting = None
        status = page.get_by_test_id("status-panel")
        if status.is_visible():
            waiting = axe_violations(page)
            shot(page, "40-analysis-waiting", full_page=False)
        wait_for_report(page)
        yield Reports(page=page, short_id=short_id, stage_id=stage_id, waiting_violations=waiting)
    finally:
        context.close()


def open_report(page: Page, analysis_id: str, viewport: dict[str, int] = DESKTOP) -> None:
    page.set_viewport_size(viewport)
    page.goto(f"/analyses/{analysis_id}")
    wait_for_report(page)


def test_stage_clip_offers_a_person_picker_and_switching_changes_the_summary(reports: Reports) -> None:
    page = reports.page
    open_report(page, reports.stage_id)
    picker = page.get_by_test_id("people-picker")
    expect(picker).to_be_visible()
    options = picker.get_by_test_id("person-option")
    assert options.count() >= 2, options.count()
    expect(picker.get_by_role("heading")).to_have_text(re.compile(r"^We saw \d+ people in this video$"))
    expect(options.first).to_have_attribute("aria-pressed", "true")
    expect(options.first).to_contain_text("Person 1")
    summary = page.get_by_test_id("summary")
    expect(summary.get_by_role("heading")).to_have_text("In short: Person 1")
    before = summary.inner_text()
    shot(page, "41-report-people-desktop")

    options.nth(1).click()
    expect(options.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(options.first).to_have_attribute("aria-pressed", "false")
    expect(summary.get_by_role("heading")).to_have_text("In short: Person 2")
    assert summary.inner_text() != before
    expect(page.get_by_test_id("summary-text")).not_to_be_empty()
    expect(page.get_by_test_id("ribbon").locator(".ribbon__band").first).to_be_visible()
    # the export says whose report it was, by the report's number and by the engine's track id
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download JSON").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert exported["export"]["person_shown"] == "Person 2"
    assert exported["export"]["person_shown_track_id"] == int(options.nth(1).get_attribute("data-track") or -1)

    page.set_viewport_size(PHONE)
    expect(picker).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "41b-report-people-phone")


def test_single_person_report_reads_plainly(reports: Reports) -> None:
    page = reports.page
    api_calls: list[str] = []

    def record_call(request) -> None:  # noqa: ANN001 - playwright's Request
        if "/v1/analyses/" in request.url:
            api_calls.append(request.url.split("?")[0])

    page.on("request", record_call)
    open_report(page, reports.short_id)
    page.remove_listener("request", record_call)
    # one fetch of the record and one of the result: nothing asked twice
    record = f"{page.url.split('/analyses/')[0]}/v1/analyses/{reports.short_id}"
    assert api_calls.count(record) == 1, api_calls
    assert api_calls.count(f"{record}/result") == 1, api_calls
    expect(page.get_by_test_id("people-picker")).to_have_count(0)
    plain = re.compile(r"^(Mostly|Often|A mix of expressions|We could not)")
    expect(page.get_by_test_id("summary-text")).to_have_text(plain)
    values = page.get_by_test_id("bar-value")
    expect(values).to_have_count(7)
    assert all(re.search(r"\d+\s?%", v) for v in values.all_inner_texts())
    shot(page, "42-report-single-desktop")
    page.set_viewport_size(PHONE)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "42b-report-single-phone")


def test_axe_finds_no_violations_on_the_report_and_the_analysis_page(reports: Reports) -> None:
    page = reports.page
    open_report(page, reports.stage_id)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Show the seven probability lines").click()
    expect(page.get_by_test_id("timeline-chart").locator(".recharts-line")).to_have_count(7)
    page.get_by_test_id("report-details").locator("summary").click()
    assert axe_violations(page) == []
    shot(page, "43-report-lines-and-details")
    open_report(page, reports.short_id, PHONE)
    assert axe_violations(page) == []
    if reports.waiting_violations is not None:  # the stage clip was still processing when the page opened
        assert reports.waiting_violations == []
    for path in ("/history", "/new"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert axe_violations(page) == [], path


def test_print_view_carries_date_file_person_and_notice(reports: Reports) -> None:
    page = reports.page
    open_report(page, reports.stage_id)
    page.emulate_media(media="print")
    try:
        head = page.locator(".print-head")
        expect(head).to_be_visible()
        expect(head).to_contain_text("face_recognition_short_hamilton_clip.mp4")
        expect(head).to_contain_text(re.compile(r"Person 1 of \d+"))
        expect(head).to_contain_text("not a diagnosis")
        expect(page.get_by_test_id("summary-text")).to_be_visible()
        expect(page.get_by_test_id("ribbon")).to_be_visible()
        expect(page.get_by_role("button", name="Download JSON")).to_be_hidden()
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        shot(page, "44-report-print")
    finally:
        page.emulate_media(media="screen")


def test_history_shows_a_trend_and_lands_focus_on_the_heading(reports: Reports) -> None:
    page = reports.page
    page.set_viewport_size(DESKTOP)
    page.goto("/history")
    expect(page).to_have_title("Your analyses — Bloomwell")
    trend = page.get_by_test_id("history-trend")
    expect(trend).to_be_visible()
    points = trend.get_by_test_id("trend-point")
    expect(points).to_have_count(2)
    # each finished item shows its primary person's face (from the list itself, no request per report)
    expect(page.get_by_test_id("history-thumb")).to_have_count(2)
    expect(points.first.locator(".trend__value")).to_have_text(re.compile(r"\d+\s?%"), timeout=30_000)
    expect(points.last.locator(".trend__value")).to_have_text(re.compile(r"\d+\s?%"), timeout=30_000)
    shot(page, "45-history-trend-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "45b-history-trend-phone")
    # keyboard: open a report from the history; focus lands on the report's heading
    page.set_viewport_size(DESKTOP)
    link = page.get_by_test_id("history-item").first.get_by_role("link", name=re.compile("^Open analysis"))
    link.focus()
    page.keyboard.press("Enter")
    wait_for_report(page)
    expect(page.get_by_role("heading", level=1)).to_be_focused()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_loading_the_report_does_not_shift_the_layout(reports: Reports, viewport: dict[str, int]) -> None:
    """Cumulative Layout Shift of a cold load of the stage clip's report stays under 0.1 (it was 0.148): the skeleton
    and the page keep the footer below the fold while the report replaces them."""
    page = reports.page
    observe_layout_shifts(page)
    open_report(page, reports.stage_id, viewport)
    page.wait_for_timeout(1500)  # let crops, the config and fonts arrive: their shifts count too
    cls, shifts = layout_shift(page)
    print(f"CLS {viewport['width']}x{viewport['height']}: {cls:.3f}", shifts)
    assert cls < 0.1, shifts
    page.set_viewport_size(DESKTOP)

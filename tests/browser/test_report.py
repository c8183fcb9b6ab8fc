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
# how a summary starts: a conclusion in plain words ("The expression was unclear" where the model was unsure)
PLAIN_LEAD = re.compile(r"^(Mostly|Often|A mix of expressions|We could not|The expression was unclear)")
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}
# the element with focus: where it is, what it is called, and its size (a zero-size focus target hides the ring)
FOCUSED = """() => { const e = document.activeElement; const r = e.getBoundingClientRect();
  return { inChart: !!e.closest('#probability-lines'), role: e.getAttribute('role'), tag: e.tagName,
           label: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40), w: r.width, h: r.height }; }"""
# every element a Tab can reach inside an element
TABBABLE_IN = """(sel) => [...document.querySelectorAll(sel + ' *')].filter(e => e.tabIndex >= 0 && !e.disabled
  && e.getClientRects().length > 0
  && e.matches('a[href], button, input, select, textarea, summary, [tabindex]')).length"""
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
    extra_ids: list[str]  # two more reports of the short clip (the history has four)


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
        extra_ids = [upload(page, SHORT_CLIP) for _ in range(2)]  # four finished reports: the trend's 4th bar
        wait_for_report(page)
        stage_id = upload(page, STAGE_CLIP)
        waiting = None
        status = page.get_by_test_id("status-panel")
        if status.is_visible():
            waiting = axe_violations(page)
            shot(page, "40-analysis-waiting", full_page=False)
        wait_for_report(page)
        yield Reports(page=page, short_id=short_id, stage_id=stage_id, waiting_violations=waiting, extra_ids=extra_ids)
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


def test_stage_clip_counts_the_performer_once_across_the_cuts(reports: Reports) -> None:
    """The stage clip's report counts the people a viewer can read: the performer (wide shot and medium shot, one
    person re-identified across the cuts) and the smiling audience member — it said 3, the performer twice."""
    page = reports.page
    open_report(page, reports.stage_id)
    picker = page.get_by_test_id("people-picker")
    expect(picker.get_by_role("heading")).to_have_text("We saw 2 people in this video")
    expect(picker).to_contain_text("8 more faces were too brief or unclear to read")  # 10 people, each once
    options = picker.get_by_test_id("person-option")
    expect(options).to_have_count(2)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download JSON").click()
    result = json.loads(Path(dl.value.path()).read_text())
    tracks = {int(options.nth(i).get_attribute("data-track") or -1) for i in range(2)}
    shown = [p for p in result["people"] if p["track_id"] in tracks]
    performer = next(p for p in shown if p["first_t"] == 0.0)
    assert performer["last_t"] >= 6.8  # the wide shot (0-0.6 s) and the medium shot (2.8-7.0 s): one person
    shot(page, "41c-report-people-merged")


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
    plain = PLAIN_LEAD
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
        page.emulate_media(media="null")  # back to no emulation (page.pdf then prints as print)


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF Chromium wrote (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("which", ["stage", "short"])
def test_print_fits_two_a4_pages_with_thumbnails_the_open_chart_and_the_folded_sections_open(
    reports: Reports, which: str
) -> None:
    """Print: title and date once, the face thumbnails and an opened chart kept, "The timeline in words" and "Details"
    printed open, all on at most two A4 pages (it was three, with the thumbnails and the chart missing)."""
    page = reports.page
    open_report(page, reports.stage_id if which == "stage" else reports.short_id)
    page.get_by_role("button", name="Show the seven probability lines").click()
    expect(page.get_by_test_id("timeline-chart").locator(".recharts-line")).to_have_count(7)
    page.emulate_media(media="print")
    try:
        filename = STAGE_CLIP.name if which == "stage" else SHORT_CLIP.name
        shown = page.get_by_text(filename, exact=False).filter(visible=True)
        expect(shown).to_have_count(1)  # the print head alone carries the file and the date
        expect(page.get_by_role("heading", name="Your expression report")).to_be_hidden()
        expect(page.get_by_test_id("timeline-chart").locator(".recharts-line")).to_have_count(7)
        expect(page.get_by_test_id("timeline-chart")).to_be_visible()
        expect(page.get_by_test_id("face-crops").locator("img").first).to_be_visible(timeout=30_000)
        expect(page.locator(".ribbon__words li").first).to_be_visible()  # "The timeline in words", open
        expect(page.get_by_test_id("frames-analyzed")).to_be_visible()  # "Details", open
        shot(page, f"44b-report-print-{which}")
    finally:
        page.emulate_media(media="null")  # back to no emulation (page.pdf then prints as print)
    pages = pdf_pages(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    print(f"print {which}: {pages} A4 pages")
    assert 1 <= pages <= 2, pages


def test_history_shows_a_trend_and_lands_focus_on_the_heading(reports: Reports) -> None:
    page = reports.page
    page.set_viewport_size(DESKTOP)
    page.goto("/history")
    expect(page).to_have_title("Your analyses — Bloomwell")
    trend = page.get_by_test_id("history-trend")
    expect(trend).to_be_visible()
    points = trend.get_by_test_id("trend-point")
    expect(points).to_have_count(4)
    # each finished item shows its primary person's face (from the list itself, no request per report)
    expect(page.get_by_test_id("history-thumb")).to_have_count(4)
    expect(points.first.locator(".trend__value")).to_have_text(re.compile(r"\d+\s?%"), timeout=30_000)
    expect(points.last.locator(".trend__value")).to_have_text(re.compile(r"\d+\s?%"), timeout=30_000)
    shot(page, "45-history-trend-desktop")
    for viewport in (PHONE, SMALL_PHONE):
        page.set_viewport_size(viewport)
        width = viewport["width"]
        # no sideways scroll (it was 406 px wide at 390), and every bar of the trend in view (the 4th hid in a scroller)
        page.wait_for_timeout(300)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, width
        for i in range(4):
            box = points.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, i, box)
        expect(points.nth(3).locator(".trend__bar")).to_be_visible()
        shot(page, f"45b-history-trend-{width}")
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


def test_the_probability_chart_is_one_labelled_tab_stop_stepped_with_arrow_keys(reports: Reports) -> None:
    """Opening the chart adds one Tab stop (it added seven: an unlabelled svg role=application and two of zero size),
    labelled, with a visible size; the arrow keys read the values moment by moment."""
    page = reports.page
    open_report(page, reports.short_id)
    page.get_by_role("button", name="Show the seven probability lines").click()
    chart = page.get_by_test_id("timeline-chart")
    expect(chart.locator(".recharts-line")).to_have_count(7)
    assert page.locator("[role=application]").count() == 0
    assert page.evaluate(TABBABLE_IN, "#probability-lines") == 1
    page.get_by_role("button", name="Hide the seven probability lines").focus()
    page.keyboard.press("Tab")
    stop = page.evaluate(FOCUSED)
    assert stop["inChart"] and stop["role"] == "group", stop
    assert "arrow keys" in stop["label"] and stop["w"] > 100 and stop["h"] > 100, stop
    page.keyboard.press("ArrowRight")
    readout = page.get_by_test_id("probability-readout")
    expect(readout).to_contain_text(re.compile(r"(Angry|Disgust|Fear|Happy|Neutral|Sad|Surprise) \d+%"))
    first = readout.inner_text()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    expect(readout).not_to_have_text(first)
    expect(page.get_by_test_id("probability-live")).to_contain_text(re.compile(r"^\d+(\.\d)? s: "))
    shot(page, "46-report-chart-keyboard", full_page=False)
    page.keyboard.press("Tab")
    after = page.evaluate(FOCUSED)
    assert not after["inChart"] and after["w"] > 0 and after["h"] > 0, after
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUSED)["inChart"]


def test_unread_faces_are_never_pictured_with_an_expression(reports: Reports) -> None:
    """Every face picture shown with a reading is of a readable face of the person shown, and the picker pictures a
    person exactly when their face section does (the stage clip's dark thumbnails were labelled "Angry")."""
    page = reports.page
    open_report(page, reports.stage_id)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download JSON").click()
    result = json.loads(Path(dl.value.path()).read_text())
    faces = {face["crop"]: face for frame in result["frames"] for face in frame["faces"] if face["crop"]}
    options = page.get_by_test_id("people-picker").get_by_test_id("person-option")
    for i in range(options.count()):
        option = options.nth(i)
        option.click()
        track = int(option.get_attribute("data-track") or -1)
        section = page.get_by_test_id("face-crops")
        pictured = option.locator("img").count() > 0
        if not pictured:
            expect(page.get_by_text("No picture of a readable face was kept for this person.")).to_be_visible()
            continue
        expect(section).to_be_visible()
        for crop in section.locator("li").all():
            name = crop.get_attribute("data-crop") or ""
            if name.startswith("track_"):  # the person's own picture: shown without a reading
                expect(crop.locator(".chip")).to_have_count(0)
                continue
            assert faces[name]["assessable"] and faces[name]["track_id"] == track, (name, faces[name])
    shot(page, "47-report-readable-faces-only")


def test_the_summary_leads_with_the_conclusion_and_is_above_the_fold_on_a_phone(reports: Reports) -> None:
    page = reports.page
    for analysis_id in (reports.stage_id, reports.short_id):
        open_report(page, analysis_id, PHONE)
        text = page.get_by_test_id("summary-text")
        expect(text).to_have_text(PLAIN_LEAD)
        assert not re.search(r"around \d", text.inner_text()), text.inner_text()  # timestamps belong to the timeline
        box = text.bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], box
        expect(page.get_by_test_id("summary").get_by_role("heading")).to_be_in_viewport()
    shot(page, "48-report-summary-phone", full_page=False)
    page.set_viewport_size(DESKTOP)


def test_escape_closes_the_phone_menu(reports: Reports) -> None:
    page = reports.page
    open_report(page, reports.short_id, PHONE)
    toggle = page.locator(".nav-toggle")  # named "Open menu" / "Close menu"
    expect(toggle).to_have_accessible_name("Open menu")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="History")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(toggle).to_have_accessible_name("Open menu")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="History")).to_be_hidden()
    page.set_viewport_size(DESKTOP)


def test_new_analysis_webcam_tab_passes_axe_heading_order(browser: Browser, stack: Stack) -> None:
    """axe's heading-order (a best-practice rule the WCAG run above leaves out) on /new's webcam tab with the camera
    on: the recorder's title was an h3 under the h1."""
    if not AXE.is_file():
        pytest.skip("frontend/node_modules is missing (npm ci in frontend/)")
    context = browser.new_context(base_url=stack.base_url, viewport=DESKTOP, bypass_csp=True, permissions=["camera"])
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_up(page, unique_email("axe-new"))
        page.get_by_role("button", name="Turn on camera").click()
        expect(page.get_by_role("heading", name="Camera is on")).to_be_visible()
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            "async () => (await axe.run(document, { runOnly: { type: 'rule', values: ['heading-order', 'empty-heading',"
            " 'page-has-heading-one'] } })).violations.map(v => v.id)"
        )
        assert found == [], found
        assert axe_violations(page) == []
    finally:
        context.close()


def test_after_a_confirmed_delete_focus_goes_to_the_next_row(reports: Reports) -> None:
    page = reports.page
    page.set_viewport_size(DESKTOP)
    page.goto("/history")
    rows = page.get_by_test_id("history-item")
    expect(rows.first).to_be_visible()
    ids = [r.get_attribute("data-id") for r in rows.all()]
    target = ids.index(reports.extra_ids[-1])
    next_id = ids[target + 1]
    rows.nth(target).get_by_role("button", name=re.compile("^Delete analysis")).click()
    page.get_by_role("dialog", name="Delete this analysis?").get_by_role("button", name="Delete analysis").click()
    expect(page.get_by_test_id("history-notice")).to_contain_text("deleted")
    following = page.locator(f'[data-testid=history-item][data-id="{next_id}"] .history-item__title')
    expect(following).to_be_focused()

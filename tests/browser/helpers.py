"""Small helpers shared by the browser tests."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
PASSWORD = "calm river 2026"
ANALYSIS_TIMEOUT_MS = 240_000


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save the current page as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.mouse.move(1, 1)  # no hover tooltips in the pictures
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def unique_email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def sign_up(page: Page, email: str, password: str = PASSWORD, first: str = "Robin", last: str = "Example") -> None:
    """Create an account through the sign-up form; the app signs the new user in and opens New analysis."""
    page.goto("/signup")
    page.get_by_label("First name").fill(first)
    page.get_by_label("Last name").fill(last)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    page.get_by_role("checkbox", name=re.compile("not a medical diagnosis")).check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/new$"))
    expect(page.get_by_role("heading", name="New analysis")).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def wait_for_report(page: Page) -> None:
    """Wait (generously) until the analysis page shows the finished report."""
    expect(page.get_by_role("heading", name="Your expression report")).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.get_by_test_id("result")).to_be_visible(timeout=30_000)


def analysis_id_from_url(page: Page) -> str:
    match = re.search(r"/analyses/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


# Records every layout shift of the document (PerformanceObserver 'layout-shift', buffered) in window.__shifts.
LAYOUT_SHIFT_OBSERVER = """(() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      window.__shifts.push({
        value: e.value, t: e.startTime, input: e.hadRecentInput,
        sources: (e.sources || []).map((s) => s.node ? (s.node.className || s.node.nodeName) + '' : '?').slice(0, 4),
      });
    }
  }).observe({ type: 'layout-shift', buffered: true });
})();"""


def observe_layout_shifts(page: Page) -> None:
    """Record layout shifts in every document the page loads from now on (read them with ``layout_shift``)."""
    page.add_init_script(LAYOUT_SHIFT_OBSERVER)


def layout_shift(page: Page, since_ms: float = 0.0) -> tuple[float, list[dict]]:
    """Cumulative Layout Shift as browsers report it (the largest session window: shifts < 1 s apart, ≤ 5 s long,
    those right after user input left out) over the shifts after ``since_ms``, and those shifts."""
    shifts = [s for s in page.evaluate("() => window.__shifts || []") if s["t"] >= since_ms and not s["input"]]
    best = current = 0.0
    start = last = -1e9
    for s in shifts:
        if s["t"] - last > 1000 or s["t"] - start > 5000:
            current, start = 0.0, s["t"]
        current += s["value"]
        last = s["t"]
        best = max(best, current)
    return best, shifts

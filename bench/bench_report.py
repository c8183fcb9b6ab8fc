"""The report page in Chromium on the real stack: layout shift while it loads, time from upload to the report, and
the web app's bundle sizes. Prints figures, asserts nothing.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_report.py                      # every shared video
    PYTHONPATH=$PWD .venv/bin/python bench/bench_report.py --videos fer_test.mp4

For each video: sign-in once, upload through /new, time from the click on "Analyse this video" to the report being
visible, the CLS of the analysis page from its first paint until 2 s after the report appeared (the upload click's
own shifts excluded), then the CLS of a cold load of the finished report at 1366×900 and 390×844. CLS is the
browser's definition (largest session window of layout-shift entries, see ``tests/browser/helpers.layout_shift``).
Needs a built ``frontend/dist`` (``npm run build``) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from tests.browser.helpers import (
    ANALYSIS_TIMEOUT_MS,
    layout_shift,
    observe_layout_shifts,
    sign_up,
    unique_email,
    wait_for_report,
)
from tests.browser.stack import REPO_ROOT, running_stack

VIDEOS = REPO_ROOT.parent / "shared" / "data" / "videos"
SHARED_VIDEOS = Path("/work/shared/data/videos")
CHROMIUM = "/usr/bin/chromium"
SIZES: dict[str, ViewportSize] = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SETTLE_MS = 2000


def _cold_cls(page: Page, path: str) -> tuple[float, float]:
    """CLS of loading ``path`` afresh (a reload) until 2 s after the report is visible; and the seconds to it."""
    t0 = time.monotonic()
    page.goto(path)
    wait_for_report(page)
    seconds = time.monotonic() - t0
    page.wait_for_timeout(SETTLE_MS)
    return layout_shift(page)[0], seconds


def run(videos: list[Path]) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="bench-report-") as tmp,
        running_stack(Path(tmp)) as stack,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=stack.base_url, viewport=SIZES["desktop"])
        context.set_default_timeout(30_000)
        page = context.new_page()
        observe_layout_shifts(page)
        sign_up(page, unique_email("bench"))
        print(f"{'video':44} {'upload→report s':>16} {'CLS live':>9} {'CLS cold desk':>14} {'CLS cold phone':>15}")
        for video in videos:
            page.goto("/new")
            page.get_by_role("tab", name="Upload a video").click()
            page.get_by_test_id("file-input").set_input_files(str(video))
            t0 = time.monotonic()
            page.get_by_role("button", name="Analyse this video").click()
            expect(page).to_have_url(re.compile(r"/analyses/[0-9a-f-]{36}$"), timeout=120_000)
            since = page.evaluate("() => performance.now()") + 600  # past the click's 500 ms input window
            done = page.get_by_test_id("result").or_(page.get_by_test_id("failure")).or_(page.get_by_test_id("no-face"))
            expect(done).to_be_visible(timeout=ANALYSIS_TIMEOUT_MS)
            if not page.get_by_test_id("result").is_visible():
                words = " ".join(done.inner_text().split())[:140]
                print(f"{video.name:44} no report, after {time.monotonic() - t0:.1f} s: {words}")
                continue
            to_report = time.monotonic() - t0
            page.wait_for_timeout(SETTLE_MS)
            live, shifts = layout_shift(page, since)
            path = page.url.removeprefix(stack.base_url)
            desk, _ = _cold_cls(page, path)
            page.set_viewport_size(SIZES["phone"])
            phone, _ = _cold_cls(page, path)
            page.set_viewport_size(SIZES["desktop"])
            print(f"{video.name:44} {to_report:16.1f} {live:9.3f} {desk:14.3f} {phone:15.3f}")
            for s in shifts:
                if s["value"] >= 0.01:
                    print(f"    live shift {s['value']:.3f} at {s['t']:.0f} ms: {', '.join(s['sources'])}")
        browser.close()
    print("\nbundle sizes (frontend/dist):")
    subprocess.run(["node", "scripts/bundle-sizes.mjs"], cwd=REPO_ROOT / "frontend", check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", nargs="*", help="file names in the shared videos folder (default: every .mp4)")
    args = parser.parse_args()
    folder = SHARED_VIDEOS if SHARED_VIDEOS.is_dir() else VIDEOS
    videos = [folder / v for v in args.videos] if args.videos else sorted(folder.glob("*.mp4"))
    run(videos)


if __name__ == "__main__":
    main()

"""The web app's live face check in Chromium on the real stack: what it downloads (compressed, as the gateway serves
it) and how many checks a second it runs on a 640×480 camera. Prints figures, asserts nothing.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_face_check.py [--seconds 20]

Chromium's fake camera plays a still frame of ``fer_woman2.mp4`` (a readable face) and then a photo without a face;
for each, the page runs the check for ``--seconds`` and the ``face-check`` performance measures (one per check: grab
the frame, run YuNet, decode, measure the largest face) give checks/s (the loop waits at least 200 ms between the
starts of two checks, so 5/s is its ceiling) and the time of one check (p50/p95). Download size: the transfer size of
every file the face check fetches (its chunk, ONNX Runtime's WebAssembly, the model), with ``Accept-Encoding: br``, as
the gateway sends the build's precompressed files. Needs a built ``frontend/dist`` and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, write_still_y4m
from tests.browser.helpers import sign_up, unique_email
from tests.browser.stack import REPO_ROOT, running_stack

SHARED = REPO_ROOT.parent / "shared" / "data"
CHROMIUM = "/usr/bin/chromium"
FACE_CHECK_FILES = ("detector-", "ort-wasm", "face_detection_yunet")

RESOURCES = """() => performance.getEntriesByType('resource').map(e => ({
  name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))"""
CHECKS = "() => performance.getEntriesByName('face-check').map(e => [e.startTime, e.duration])"


def pictures() -> dict[str, object]:
    capture = cv2.VideoCapture(str(SHARED / "videos" / "fer_woman2.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, face = capture.read()
    capture.release()
    assert ok
    return {"face": face, "no face": cv2.imread(str(SHARED / "samples_misc" / "fer_no-faces.jpg"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack, sync_playwright() as pw:
        for name, picture in pictures().items():
            camera = write_still_y4m(picture, Path(tmp) / f"{name.replace(' ', '_')}.y4m")
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"])
            context = browser.new_context(base_url=stack.base_url, permissions=["camera"])
            context.set_default_timeout(30_000)
            page = context.new_page()
            sign_up(page, unique_email("bench-facecheck"))
            started = time.monotonic()
            page.get_by_role("button", name="Turn on camera").click()
            expect(page.get_by_test_id("face-hint")).not_to_have_attribute("data-state", "loading", timeout=120_000)
            first = time.monotonic() - started
            page.wait_for_timeout(args.seconds * 1000)
            checks = page.evaluate(CHECKS)
            state = page.get_by_test_id("face-hint").get_attribute("data-state")
            if name == "face":
                files = [r for r in page.evaluate(RESOURCES) if any(k in r["name"] for k in FACE_CHECK_FILES)]
                print("face check download (as served, brotli):")
                for r in files:
                    print(f"  {r['name'].rsplit('/', 1)[-1]:<52} {r['transfer'] / 1024:9.1f} KB transferred"
                          f"  ({r['decoded'] / 1024:9.1f} KB decoded)")
                total = sum(r["transfer"] for r in files)
                print(f"  {'total':<52} {total / 1024:9.1f} KB transferred"
                      f"  ({sum(r['decoded'] for r in files) / 1024:9.1f} KB decoded)")
            times = [d for _, d in checks[1:]]  # the first check includes creating the session
            span = (checks[-1][0] - checks[1][0]) / 1000 if len(checks) > 2 else 0
            rate = (len(checks) - 2) / span if span else 0
            print(f"{name}: verdict {state}, first verdict {first:.1f} s after 'Turn on camera', {len(checks)} checks, "
                  f"{rate:.2f} checks/s, one check p50 {statistics.median(times):.1f} ms, "
                  f"p95 {statistics.quantiles(times, n=20)[-1]:.1f} ms")
            context.close()
            browser.close()


if __name__ == "__main__":
    main()

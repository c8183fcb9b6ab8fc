"""Browser end-to-end tests: the real stack (``python -m scripts.run_stack``) driven by Debian's Chromium.

Session fixtures:

* ``stack`` starts ``.venv/bin/python -m scripts.run_stack --port <free port>`` exactly as the README
  does (``tests/browser/stack.py``: a throwaway ``BLOOMWELL_DATA_DIR``, so SQLite, storage, the generated JWT
  key and the private Redis are all temporary; a shortened access-token lifetime), waits for
  ``GET /readyz`` → 200 and stops it with SIGTERM at the end.
* ``fake_camera`` converts a shared face video to a ``.y4m`` file for Chromium's fake webcam.
* ``browser`` launches ``/usr/bin/chromium`` (never a downloaded browser) with the fake camera; tests that need another
  camera picture launch their own from ``playwright_session`` with ``launch_chromium`` (``write_still_y4m`` makes one).

Screenshots go to ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.helpers import SCREENSHOTS
from tests.browser.stack import Stack, StackError, running_stack

__all__ = ["Stack"]

REPO_ROOT = Path(__file__).resolve().parents[2]
VIDEOS = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "videos"
CHROMIUM = os.environ.get("BLOOMWELL_CHROMIUM", "/usr/bin/chromium")
FRONTEND_DIST = REPO_ROOT / "frontend" / "dist" / "index.html"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--mute-audio",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def _ensure_frontend_built() -> None:
    if FRONTEND_DIST.is_file():
        return
    frontend = REPO_ROOT / "frontend"
    if (frontend / "node_modules").is_dir() and shutil.which("npm"):
        subprocess.run(["npm", "run", "build"], cwd=frontend, check=True)
        return
    pytest.fail("frontend/dist is missing: run `make frontend` (npm ci && npm run build in frontend/) first")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``python -m scripts.run_stack`` on a free port with a temporary data dir; stopped afterwards."""
    _ensure_frontend_built()
    try:
        with running_stack(tmp_path_factory.mktemp("bloomwell-data"), warn=warnings.warn) as started:
            yield started
    except StackError as e:
        pytest.fail(str(e))


def write_y4m(source: Path, target: Path, seconds: float = 6.0, width: int = 640, height: int = 360) -> Path:
    """Convert a video to the raw YUV4MPEG2 (I420) file Chromium's fake camera plays in a loop."""
    import cv2

    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise RuntimeError(f"cannot open {source}")
    frames = int(30 * seconds)
    written = 0
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        while written < frames:
            ok, frame = capture.read()
            if not ok:
                if written == 0:
                    raise RuntimeError(f"no frames in {source}")
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                continue
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
            written += 1
    capture.release()
    return target


def write_still_y4m(image, target: Path, width: int = 640, height: int = 480, frames: int = 30) -> Path:  # noqa: ANN001
    """A .y4m that shows one BGR image (resized to ``width``×``height``) for ``frames`` frames, for a fake camera whose
    every frame is known."""
    import cv2

    picture = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    frame = cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420).tobytes()
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(frame)
    return target


def launch_chromium(playwright, camera: Path):  # noqa: ANN001, ANN201
    """Debian's Chromium with a fake webcam playing ``camera`` (a .y4m)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"]
    )


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .y4m made from ``fer_woman2.mp4`` for ``--use-file-for-fake-video-capture``."""
    return write_y4m(VIDEOS / "fer_woman2.mp4", tmp_path_factory.mktemp("camera") / "face.y4m")


@pytest.fixture(scope="session")
def playwright_session():  # noqa: ANN201
    """One Playwright driver for the whole session (the sync API cannot be started twice at once)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make browser-deps / apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session, fake_camera: Path):  # noqa: ANN001
    """Debian's Chromium via Playwright, with a fake webcam fed from a real face video."""
    browser = launch_chromium(playwright_session, fake_camera)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(browser, stack: Stack, request: pytest.FixtureRequest):
    """A fresh browser context (own storage) at desktop size, with the product's origin as base URL."""
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
        permissions=["camera"],
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
    page.console_errors = console_errors
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)

"""Record a WebM exactly as a browser's MediaRecorder writes it (headless Chromium, fake camera fed a real video).

Run as ``python -m tests.worker.mediarecorder SOURCE_VIDEO OUT.webm [SECONDS]``; used by the WebM tests in a
subprocess so that Playwright's own event loop stays out of pytest's. Needs Chromium (``/usr/bin/chromium``
or Playwright's) and the ``playwright`` package.
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

RECORD_JS = """async (ms) => {
  const stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 360}, audio: false});
  const recorder = new MediaRecorder(stream, {mimeType: 'video/webm;codecs=vp8'});
  const chunks = [];
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);
  await new Promise((resolve) => setTimeout(resolve, ms));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((t) => t.stop());
  const bytes = new Uint8Array(await new Blob(chunks, {type: 'video/webm'}).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}"""


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_y4m(source: Path, out: Path, size: tuple[int, int] = (640, 360), max_frames: int = 150) -> Path:
    """Convert a video to the raw Y4M that Chromium's fake camera plays in a loop."""
    width, height = size
    cap = cv2.VideoCapture(str(source))
    with out.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        count = 0
        while count < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            fh.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
            count += 1
    cap.release()
    return out


class _Blank(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        body = b"<!doctype html><title>recorder</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def record(source: Path, out: Path, seconds: float = 3.0) -> Path:
    """Record ``seconds`` of ``source`` through getUserMedia + MediaRecorder into ``out``."""
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blank)  # localhost is a secure context for getUserMedia
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        y4m = write_y4m(source, Path(tmp) / "camera.y4m")
        args = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={y4m}"]
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=args)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/")
                data = page.evaluate(RECORD_JS, int(seconds * 1000))
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    out.write_bytes(base64.b64decode(data))
    return out


if __name__ == "__main__":
    record(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 3.0)

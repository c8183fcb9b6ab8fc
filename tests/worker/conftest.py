"""Helpers shared by the worker tests: paths of the real shared videos, synthetic test videos and a local
webhook receiver."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from bloomwell_ml.faces import YuNetDetector
from bloomwell_ml.paths import default_model_path
from services.common.settings import REPO_ROOT
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.webhook import SIGNATURE_HEADER

SHARED_DATA = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VIDEOS = SHARED_DATA / "videos"


def shared_video(name: str) -> Path:
    """A real face video from ``../shared/data/videos`` (skips the test where the data is absent)."""
    path = VIDEOS / name
    if not path.is_file():
        pytest.skip(f"shared test video {path} is not available")
    return path


def write_video(path: Path, frames: int = 20, fps: float = 10.0, size: tuple[int, int] = (160, 120),
                fourcc: str = "mp4v") -> Path:
    """Write a small synthetic video (a moving gradient, no face) with OpenCV."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path.suffix} with {fourcc}"
    base = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    for i in range(frames):
        image = np.roll(base, i * 3, axis=1)
        writer.write(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records each POST as (body, signature header)."""

    url: str
    received: list[tuple[bytes, str]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    """The ``Host`` header of each POST."""
    headers: list[dict[str, str]] = field(default_factory=list)
    """Every header of each POST."""
    status: int = 204
    """What the receiver answers (set it to make deliveries fail)."""


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Answers every POST with ``status`` (204) and records it; stopped after the test."""
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
            receiver.hosts.append(self.headers.get("Host", ""))
            receiver.headers.append(dict(self.headers.items()))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def shipped() -> EmotionClassifier:
    """The shipped default model on CPU, one view (as the CPU worker runs it)."""
    return EmotionClassifier.load(default_model_path(), device="cpu", tta="none")


@pytest.fixture(scope="module")
def yunet() -> YuNetDetector:
    """The worker's default face detector."""
    return YuNetDetector()

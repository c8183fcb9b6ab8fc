"""The worker refuses webhook hosts that resolve to internal addresses (outside local runs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from services.common.netguard import internal_address
from services.inference_worker.webhook import send_webhook


class _Recorder(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        _Recorder.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Recorder.received = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "nohost"])
def test_internal_hosts_and_names_resolving_to_them_are_flagged(host: str) -> None:
    assert internal_address(host) is not None


def test_a_public_address_literal_passes() -> None:
    assert internal_address("93.184.216.34", 443) is None


def test_a_name_that_does_not_resolve_is_refused() -> None:
    assert internal_address("does-not-exist.invalid") == "does-not-exist.invalid"


def test_internal_receiver_is_not_called_outside_local_runs(receiver: str) -> None:
    assert send_webhook(receiver, {"a": 1}, "s", timeout_s=2, allow_internal=False) is False
    assert _Recorder.received == []


def test_internal_receiver_is_called_in_local_runs(receiver: str) -> None:
    assert send_webhook(receiver, {"a": 1}, "s", timeout_s=2, allow_internal=True) is True
    assert _Recorder.received == [b'{"a":1}']

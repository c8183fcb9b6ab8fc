"""Drive the public API of a running compose stack through the web proxy (``make test-compose``), stdlib only.

  python3 scripts/compose_smoke.py BASE_URL VIDEO flow        signup, login, upload, events, result, delete
  python3 scripts/compose_smoke.py BASE_URL VIDEO parallel N  N uploads at once; prints their ids, one a line

Every wait is bounded (``--timeout``, default 300 s per job); any failure exits non-zero with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any


class Api:
    """A signed-in client of the gateway, reached through the web proxy."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.token = ""

    def call(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json",
             timeout: float = 60) -> tuple[int, bytes]:
        """One request; returns (status, body) without raising on HTTP errors."""
        headers = {"Content-Type": content_type} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def expect(self, want: int, method: str, path: str, body: bytes | None = None, **kw: Any) -> Any:
        status, data = self.call(method, path, body, **kw)
        if status != want:
            sys.exit(f"{method} {path}: HTTP {status} (wanted {want}): {data[:500]!r}")
        return json.loads(data) if data and data[:1] in b"{[" else data

    def sign_in(self) -> None:
        email = f"ci-{uuid.uuid4().hex[:12]}@example.org"
        password = "ci-" + uuid.uuid4().hex
        user = {"email": email, "password": password, "first_name": "Ci", "last_name": "Compose"}
        self.expect(201, "POST", "/auth/signup", json.dumps(user).encode())
        tokens = self.expect(200, "POST", "/auth/login", json.dumps({"email": email, "password": password}).encode())
        self.token = tokens["access_token"]

    def upload(self, video: Path) -> str:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{video.name}\"\r\n"
                f"Content-Type: video/mp4\r\n\r\n").encode() + video.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        created = self.expect(202, "POST", "/v1/analyses", body, content_type=content_type)
        return str(created["id"])

    def follow_events(self, analysis_id: str, timeout: float) -> dict[str, Any]:
        """Read the SSE stream until a terminal event; returns it."""
        request = urllib.request.Request(f"{self.base}/v1/analyses/{analysis_id}/events",
                                         headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        with urllib.request.urlopen(request, timeout=timeout) as stream:
            for raw in stream:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    last = json.loads(line[5:])
                    print(f"  event {analysis_id[:8]}: {last.get('status')} {last.get('stage') or ''}", flush=True)
                    if last.get("status") in {"succeeded", "failed", "cancelled"}:
                        return last
                if time.monotonic() > deadline:
                    break
        sys.exit(f"events of {analysis_id}: no terminal event within {timeout:.0f} s (last {last})")

    def wait(self, analysis_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            analysis = self.expect(200, "GET", f"/v1/analyses/{analysis_id}")
            if analysis["status"] in {"succeeded", "failed", "cancelled"}:
                return analysis
            time.sleep(2)
        sys.exit(f"analysis {analysis_id} not done within {timeout:.0f} s")


def flow(api: Api, video: Path, timeout: float) -> None:
    api.sign_in()
    analysis_id = api.upload(video)
    print(f"uploaded {video.name}: {analysis_id}")
    final = api.follow_events(analysis_id, timeout)
    if final["status"] != "succeeded":
        sys.exit(f"analysis {analysis_id} ended {final}")
    result = api.expect(200, "GET", f"/v1/analyses/{analysis_id}/result")
    frames = result.get("frames") or []
    if not frames:
        sys.exit(f"result of {analysis_id} has no frames: {str(result)[:300]}")
    csv = api.expect(200, "GET", f"/v1/analyses/{analysis_id}/result?format=csv")
    print(f"result: {len(frames)} frame rows, CSV {len(csv)} bytes, summary {str(result.get('summary'))[:200]}")
    api.expect(204, "DELETE", f"/v1/analyses/{analysis_id}")
    api.expect(404, "GET", f"/v1/analyses/{analysis_id}")
    print(f"deleted {analysis_id}")


def parallel(api: Api, video: Path, count: int, timeout: float) -> None:
    api.sign_in()
    ids = [api.upload(video) for _ in range(count)]
    for analysis_id in ids:
        final = api.wait(analysis_id, timeout)
        if final["status"] != "succeeded":
            sys.exit(f"analysis {analysis_id} ended {final.get('status')}: {final.get('error')}")
    for analysis_id in ids:
        print(analysis_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("video", type=Path)
    parser.add_argument("mode", choices=["flow", "parallel"])
    parser.add_argument("count", type=int, nargs="?", default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    api = Api(args.base)
    if args.mode == "flow":
        flow(api, args.video, args.timeout)
    else:
        parallel(api, args.video, args.count, args.timeout)


if __name__ == "__main__":
    main()

"""Drive the public API of a running compose stack through the web proxy (``make test-compose``), with the same
typed client the ``bloomwell`` command uses (``bloomwell_client``), so the stack is checked the way API consumers
reach it.

  .venv/bin/python scripts/compose_smoke.py BASE_URL VIDEO flow        signup, login, upload, events, result, delete
  .venv/bin/python scripts/compose_smoke.py BASE_URL VIDEO parallel N  N uploads at once; prints their ids, one a line

Every wait is bounded (``--timeout``, default 300 s per job); any failure exits non-zero with the reason.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bloomwell_client.client import ApiError, BloomwellClient, BloomwellError  # noqa: E402
from services.common.events import ProgressEvent  # noqa: E402


def wait_succeeded(client: BloomwellClient, analysis_id: str, timeout: float,
                   on_event: Callable[[ProgressEvent], None] | None = None) -> None:
    """Follow the job to its end; exits unless it succeeded (a failed job raises AnalysisFailed)."""
    state = client.wait(analysis_id, on_event=on_event, timeout_s=timeout)
    if state.status.value != "succeeded":
        sys.exit(f"analysis {analysis_id} ended {state.status.value}: {state.error}")


def sign_in(client: BloomwellClient) -> None:
    """A new account, logged in."""
    email = f"ci-{uuid.uuid4().hex[:12]}@example.org"
    password = "ci-" + uuid.uuid4().hex
    client.signup(email, password, "Ci", "Compose")
    client.login(email, password)


def flow(client: BloomwellClient, video: Path, timeout: float) -> None:
    sign_in(client)
    analysis_id = str(client.upload(video).id)
    print(f"uploaded {video.name}: {analysis_id}")

    def show(event: ProgressEvent) -> None:
        print(f"  event {analysis_id[:8]}: {event.status} {event.stage or ''}", flush=True)

    wait_succeeded(client, analysis_id, timeout, show)
    result = client.result_json(analysis_id)
    if not result.frames:
        sys.exit(f"result of {analysis_id} has no frames: {str(result.summary)[:300]}")
    csv = client.result_text(analysis_id, "csv")
    print(f"result: {len(result.frames)} frame rows, CSV {len(csv)} bytes, summary {str(result.summary)[:200]}")
    client.delete(analysis_id)
    try:
        client.get(analysis_id)
    except ApiError as exc:
        if exc.status_code != 404:
            raise
    else:
        sys.exit(f"analysis {analysis_id} is still there after DELETE")
    print(f"deleted {analysis_id}")


def parallel(client: BloomwellClient, video: Path, count: int, timeout: float) -> None:
    sign_in(client)
    ids = [str(client.upload(video).id) for _ in range(count)]
    for analysis_id in ids:
        wait_succeeded(client, analysis_id, timeout)
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
    try:
        with BloomwellClient(args.base) as client:
            if args.mode == "flow":
                flow(client, args.video, args.timeout)
            else:
                parallel(client, args.video, args.count, args.timeout)
    except BloomwellError as exc:  # AnalysisFailed included: the job's error in one line
        sys.exit(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()

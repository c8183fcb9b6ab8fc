"""The wait estimate against the real wait (issue 21, item 7): prints figures, asserts nothing.

    .venv/bin/python bench/bench_eta.py              # every shared video, two rounds, on a fresh stack
    .venv/bin/python bench/bench_eta.py --rounds 3

Starts the stack as ``make run`` does (``scripts.run_stack``, fresh data dir and private Redis, so the workers' speed
figure starts from its prior), uploads every shared video in turn and reads, while the job is queued or running,
the ``expected_s`` the gateway answers (``services.common.speed``: the workers' moving figure of processing seconds
per second of video). The actual time is the job's own, ``finished_at - started_at``. For comparison the table also
gives the web app's former estimate (8 s + 2.5 s per second of video, the "45 s left" of a 3.5 s job). Other jobs on
the machine slow the workers down: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bloomwell_client.client import BloomwellClient, TokenStore  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402

VIDEOS = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "videos"


def former_estimate_s(video_s: float) -> float:
    """What the web app estimated before the measured speed (frontend/src/domain/progress.ts, before issue 21)."""
    return 8 + 2.5 * video_s


def one_job(client: BloomwellClient, video: Path) -> tuple[float | None, float | None, float, str]:
    """Upload and follow one job: the first expected_s seen, the actual processing seconds, video length, status."""
    created = client.upload(video)
    expected: float | None = None
    while True:
        a = client.get(created.id)
        if expected is None and a.expected_s is not None and a.status.value in ("queued", "processing"):
            expected = a.expected_s
        if a.status.value in ("succeeded", "failed"):
            break
        time.sleep(0.05)
    actual = (a.finished_at - a.started_at).total_seconds() if a.finished_at and a.started_at else None
    client.delete(created.id)
    return expected, actual, a.duration_s or 0.0, a.status.value


def main() -> None:
    from tests.browser.stack import running_stack

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    videos = sorted(p for p in VIDEOS.glob("*") if p.is_file())
    print(f"load average {os.getloadavg()[0]:.1f} at start; {len(videos)} shared videos, {args.rounds} rounds")
    ratios: list[float] = []
    former: list[float] = []
    with (tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as config,
          running_stack(Path(data)) as stack,
          BloomwellClient(stack.base_url, TokenStore(Path(config)), timeout_s=120) as client):
        email, password = f"bench-{uuid.uuid4().hex[:10]}@example.org", "bench-" + uuid.uuid4().hex
        client.signup(email, password, "Bench", "Eta")
        client.login(email, password)
        print(f"{'round':>5} {'video':42s} {'length':>7} {'estimate':>9} {'actual':>7} {'est/act':>8} "
              f"{'former':>7} {'former/act':>10}")
        for r in range(1, args.rounds + 1):
            for video in videos:
                expected, actual, length, status = one_job(client, video)
                if status != "succeeded" or actual is None or expected is None:
                    print(f"{r:>5} {video.name:42s} {length:6.1f}s  {status} (not measured)")
                    continue
                ratio, old = expected / actual, former_estimate_s(length) / actual
                if r > 1:  # the first round starts from the prior; later rounds show the measured figure
                    ratios.append(ratio)
                    former.append(old)
                print(f"{r:>5} {video.name:42s} {length:6.1f}s {expected:8.2f}s {actual:6.2f}s {ratio:7.2f}× "
                      f"{former_estimate_s(length):6.1f}s {old:9.1f}×")
    if ratios:
        within = sum(0.5 <= x <= 2.0 for x in ratios)
        print(f"\nafter round 1: estimate/actual from {min(ratios):.2f}× to {max(ratios):.2f}×, {within}/{len(ratios)} "
              f"within 2× (former estimate: {min(former):.1f}× to {max(former):.1f}×); "
              f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()

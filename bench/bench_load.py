"""Load on the gateway's hottest route: many clients polling ``GET /v1/analyses/{id}``, with load shedding off and on
in the same run (prints figures).

    .venv/bin/python bench/bench_load.py                           # light, flood and 2x saturation; shedding off, on
    .venv/bin/python bench/bench_load.py --duration 30 --api-workers 1
    .venv/bin/python bench/bench_load.py --shedding on --baseline-code /tmp/base  # also an older checkout first

It starts its own stack on loopback only — a private Redis, the auth service and the gateway (uvicorn,
``--api-workers`` processes), in a throwaway database on the machine's PostgreSQL (127.0.0.1:5432, else
an embedded one) — signs a user up, creates one analysis and then runs each scenario for ``--duration`` seconds,
once against a gateway without load shedding (``LOAD_SHED_MAX_IN_FLIGHT=0``) and once with its defaults:

* ``light``: 50 clients, each polling every ``--interval`` s (1 s; the web app polls every 2 s);
* ``flood``: ``--flood-clients`` (200) clients polling as fast as they can (the next request as soon as the answer,
  a 503 included, is in): the gateway's saturation throughput S is the requests/s the flood gets answered without
  shedding;
* ``2x``: the same clients, each polling every ``clients / (2 S)`` s: twice what the gateway can answer is offered.

Every client waits for each answer before the next; the first 3 s of each run (connections opening) are not counted.
Per run it prints the answered (200) requests/s, p50/p99/max latency of the answered requests, the share of requests
shed (503 + ``Retry-After``) and other errors, then stops everything it started. With ``--baseline-code DIR`` the
same is measured first with the code in DIR (an exported older commit, run with this venv), so a ratio comes from one
run on one machine state.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.devinfra import free_port, start_redis, stop_process_groups, throwaway_database  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402

HOST = "127.0.0.1"
WARMUP_S = 3.0


@dataclass
class Figures:
    """One run's outcome."""

    label: str
    clients: int
    interval_s: float
    completed: int
    shed: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def answered_per_s(self) -> float:
        """Requests answered 200 per second."""
        return self.completed / self.seconds

    @property
    def p99_ms(self) -> float:
        """99th percentile latency of the answered requests."""
        lat = sorted(self.latencies_ms) or [float("nan")]
        return lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]

    def line(self) -> str:
        lat = sorted(self.latencies_ms) or [float("nan")]
        p50, p99 = statistics.median(lat), self.p99_ms
        total = self.completed + self.shed + self.errors
        return (
            f"{self.label:<16} {self.clients:>4} clients every {self.interval_s:5.3f} s  "
            f"{self.answered_per_s:7.1f} answered/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {lat[-1]:8.1f} ms  "
            f"shed {100 * self.shed / max(1, total):4.1f} %  errors {self.errors}"
        )


def _wait_http(url: str, processes: list[subprocess.Popen[bytes]], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a service exited during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


@contextmanager
def stack(code_dir: Path, database_url: str, redis_url: str, api_workers: int,
          extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Auth + gateway from ``code_dir`` on free loopback ports (``extra_env`` on top); yields the gateway URL."""
    data_dir = Path(tempfile.mkdtemp(prefix="bloomwell-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(code_dir),
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BLOOMWELL_DATA_DIR": str(data_dir),
        # the benchmark signs in once; keep its own bookkeeping out of the throttle's way
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000/minute",
        "SIGNUP_RATE_LIMIT_PER_ADDRESS": "1000/minute",
        **(extra_env or {}),
    }
    auth_port, api_port = free_port(HOST), free_port(HOST)
    env["AUTH_URL"] = f"http://{HOST}:{auth_port}"
    python = sys.executable
    common = ["--host", HOST, "--log-level", "warning", "--no-access-log"]
    commands = [
        [python, "-m", "uvicorn", "--factory", "services.auth.main:create_app", "--port", str(auth_port), *common],
        [python, "-m", "uvicorn", "--factory", "services.api.main:create_app", "--port", str(api_port),
         "--workers", str(api_workers), *common],
    ]
    processes = [
        subprocess.Popen(command, cwd=code_dir, env=env, start_new_session=True) for command in commands
    ]
    try:
        _wait_http(f"http://{HOST}:{auth_port}/healthz", processes)
        _wait_http(f"http://{HOST}:{api_port}/healthz", processes)
        yield f"http://{HOST}:{api_port}"
    finally:
        stop_process_groups(processes)


def _video(path: Path) -> Path:
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (160, 120))
    for i in range(20):
        writer.write(np.full((120, 160, 3), i * 10, dtype=np.uint8))
    writer.release()
    return path


async def prepare(base_url: str, video: Path) -> tuple[str, str]:
    """A user and one queued analysis (the upload goes to the queue; no worker runs)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        email = f"bench-{uuid.uuid4().hex[:10]}@bloomwell.dev"
        password = "benchmark-password"
        body = {"email": email, "password": password, "first_name": "B", "last_name": "L"}
        (await client.post("/auth/signup", json=body)).raise_for_status()
        login = await client.post("/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        token = login.json()["access_token"]
        with video.open("rb") as handle:
            created = await client.post(
                "/v1/analyses",
                headers={"Authorization": f"Bearer {token}"},
                files={"video": ("bench.mp4", handle, "video/mp4")},
            )
        created.raise_for_status()
        return token, created.json()["id"]


class KeepAliveConnection:
    """One persistent HTTP/1.1 connection doing ``GET`` requests, for the pollers.

    Deliberately minimal (asyncio streams, ``Content-Length`` bodies only): on 2 shared cores, httpx's
    per-request cost was higher than the gateway's own (52 % vs 34 % of a core at 165 requests/s), so
    the client, not the server, set the figures.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """Status code of ``GET path`` (the body is read and dropped); reconnects once if needed."""
        for attempt in (1, 2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                assert self.reader is not None
                self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode())
                head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await self.reader.readexactly(length)
                return status
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def poll(base_url: str, token: str, analysis_id: str, clients: int, seconds: float, interval_s: float,
               label: str) -> Figures:
    """``clients`` pollers for ``seconds``; each waits for its answer, then for the rest of its interval."""
    latencies: list[float] = []
    shed = errors = 0
    url = httpx.URL(base_url)
    path = f"/v1/analyses/{analysis_id}"
    connections = [KeepAliveConnection(url.host, url.port or 80, {"Authorization": f"Bearer {token}"})
                   for _ in range(clients)]
    # the first WARMUP_S seconds (connections opening, pools filling) are not counted
    started = time.perf_counter() + WARMUP_S
    stop_at = started + seconds

    async def one_client(connection: KeepAliveConnection, offset: float) -> None:
        nonlocal shed, errors
        await asyncio.sleep(offset)  # spread the clients over one interval
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status = await connection.get(path)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
            elapsed = time.perf_counter() - t0
            if t0 >= started:
                if status == 200:
                    latencies.append(elapsed * 1000)
                elif status == 503:
                    shed += 1
                else:
                    errors += 1
            await asyncio.sleep(max(0.0, interval_s - elapsed))
        await connection.close()

    await asyncio.gather(*(one_client(c, interval_s * i / clients) for i, c in enumerate(connections)))
    return Figures(label, clients, interval_s, len(latencies), shed, errors, stop_at - started, latencies)


SHEDDING = {"off": {"LOAD_SHED_MAX_IN_FLIGHT": "0"}, "on": {}}
"""The gateway's environment per mode: ``on`` is its defaults (``services/api/config.py``)."""


def measure(label: str, code_dir: Path, database_url: str, redis_url: str, args: argparse.Namespace, video: Path,
            extra_env: dict[str, str], saturation: dict[str, float]) -> list[Figures]:
    """Start the stack from ``code_dir`` and run every scenario against it. ``saturation`` holds the flood's answered
    requests/s without shedding (S, set by the first mode run), which paces the 2x scenario."""
    with stack(code_dir, database_url, redis_url, args.api_workers, extra_env) as base_url:
        token, analysis_id = asyncio.run(prepare(base_url, video))
        results = []
        for scenario in args.scenarios:
            if scenario == "light":
                clients, interval = args.clients, args.interval
            elif scenario == "flood":
                clients, interval = args.flood_clients, 0.0
            else:
                clients, interval = args.flood_clients, args.flood_clients / (2 * saturation["S"])
            figures = asyncio.run(poll(base_url, token, analysis_id, clients, args.duration, interval,
                                       f"{label} {scenario}"))
            if scenario == "flood" and "S" not in saturation:
                saturation["S"] = figures.answered_per_s
                print(f"saturation S = {saturation['S']:.0f} answered/s (flood, {label}); 2x offers "
                      f"{2 * saturation['S']:.0f} requests/s", flush=True)
            print(figures.line(), flush=True)
            results.append(figures)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="clients of the light scenario")
    parser.add_argument("--flood-clients", type=int, default=200, help="clients of the flood and 2x scenarios")
    parser.add_argument("--scenarios", nargs="+", choices=["light", "flood", "2x"], default=["light", "flood", "2x"])
    parser.add_argument("--shedding", choices=["off", "on", "both"], default="both",
                        help="measure the gateway with load shedding off, on, or both (off first)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (bounded)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one light client's polls")
    parser.add_argument("--api-workers", type=int, default=int(os.environ.get("API_WORKERS", "2")))
    parser.add_argument("--repeat", type=int, default=1, help="measure off and on this many times, alternating")
    parser.add_argument("--baseline-code", type=Path, help="measure this checkout first (same venv)")
    parser.add_argument("--baseline-api-workers", type=int, default=1)
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 120.0)
    if "2x" in args.scenarios and "flood" not in args.scenarios:
        args.scenarios.insert(args.scenarios.index("2x"), "flood")  # 2x is paced by the flood's throughput
    modes = ["off", "on"] if args.shedding == "both" else [args.shedding]

    from services.common.migrations import upgrade_to_head

    redis = start_redis()
    try:
        with throwaway_database("bloomwell_bench") as database_url:
            upgrade_to_head(database_url)
            report(args, modes, database_url, redis.url)
    finally:
        redis.stop()
    return 0


def report(args: argparse.Namespace, modes: list[str], database_url: str, redis_url: str) -> None:
    """Every measurement of the run, then the comparison."""
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.api_workers} gateway "
          f"processes; {args.duration:.0f} s per run", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        video = _video(Path(tmp) / "bench.mp4")
        saturation: dict[str, float] = {}
        before: list[Figures] = []
        if args.baseline_code:
            workers, args.api_workers = args.api_workers, args.baseline_api_workers
            before = measure("baseline", args.baseline_code.resolve(), database_url, redis_url, args, video, {},
                             saturation)
            args.api_workers = workers
        runs: dict[str, list[list[Figures]]] = {mode: [] for mode in modes}
        for _ in range(args.repeat):  # modes alternate, so a change in the machine's load hits both
            for mode in modes:
                runs[mode].append(measure(f"shedding {mode}", REPO_ROOT, database_url, redis_url, args, video,
                                          SHEDDING[mode], saturation))
    print(f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)
    if len(runs) == 2:
        summarise(runs["off"], runs["on"])
    for old, new in zip(before, runs[modes[-1]][-1], strict=False):
        print(f"{new.label.split()[-1]}: {new.answered_per_s / max(1e-9, old.answered_per_s):.1f}x the "
              f"baseline's answered requests/s")


def summarise(off_runs: list[list[Figures]], on_runs: list[list[Figures]]) -> None:
    """Per scenario: p99 of the answered requests and answered requests/s without and with shedding (medians over
    the repeats), and the share shed."""
    for index, scenario in enumerate(f.label.split()[-1] for f in on_runs[0]):
        off = [runs[index] for runs in off_runs]
        on = [runs[index] for runs in on_runs]
        median = statistics.median
        shed = median([100 * f.shed / max(1, f.completed + f.shed + f.errors) for f in on])
        print(f"{scenario:<6} p99 of answered requests {median([f.p99_ms for f in off]):6.0f} ms without shedding, "
              f"{median([f.p99_ms for f in on]):4.0f} ms with; answered {median([f.answered_per_s for f in off]):4.0f} "
              f"vs {median([f.answered_per_s for f in on]):4.0f} requests/s; {shed:.0f} % shed"
              + (f" (medians of {len(on)} runs)" if len(on) > 1 else ""))


if __name__ == "__main__":
    sys.exit(main())

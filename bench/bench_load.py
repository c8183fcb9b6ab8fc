"""Load on the gateway's hottest route: many clients polling ``GET /v1/analyses/{id}`` (prints figures).

    .venv/bin/python bench/bench_load.py                          # 50 and 200 clients, 20 s each
    .venv/bin/python bench/bench_load.py --clients 200 --duration 30 --api-workers 1
    .venv/bin/python bench/bench_load.py --baseline-code /tmp/base # also run an older checkout first

It starts its own stack on loopback only — a private Redis, the auth service and the gateway (uvicorn,
``--api-workers`` processes), in a throwaway database on the machine's PostgreSQL (127.0.0.1:5432, else
an embedded one) — signs a user up, creates one analysis and then runs each client count for
``--duration`` seconds: every client polls the analysis every ``--interval`` seconds (the web app polls
every 2 s; 1 s by default here, so 200 clients offer ~200 requests/s), waiting for each answer before
the next; the first 3 s of each run (connections opening) are not counted. It prints completed
requests/s, p50/p99 latency and errors per client count, then stops everything it started. With
``--baseline-code DIR`` the same is measured first with the code in DIR (an exported older commit, run
with this venv), so the ratio comes from one run on one machine state.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
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

from scripts.devinfra import free_port, port_open, start_postgres, start_redis  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402

HOST = "127.0.0.1"
WARMUP_S = 3.0


@dataclass
class Figures:
    """One client count's outcome."""

    label: str
    clients: int
    completed: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies_ms) or [float("nan")]
        p50 = statistics.median(lat)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        return (
            f"{self.label:<10} {self.clients:>4} clients  {self.completed / self.seconds:8.1f} req/s  "
            f"p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  max {lat[-1]:8.1f} ms  errors {self.errors}"
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
def stack(code_dir: Path, database_url: str, redis_url: str, api_workers: int) -> Iterator[str]:
    """Auth + gateway from ``code_dir`` on free loopback ports; yields the gateway URL."""
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
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _video(path: Path) -> Path:
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (160, 120))
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
    errors = 0
    url = httpx.URL(base_url)
    path = f"/v1/analyses/{analysis_id}"
    connections = [KeepAliveConnection(url.host, url.port or 80, {"Authorization": f"Bearer {token}"})
                   for _ in range(clients)]
    # the first WARMUP_S seconds (connections opening, pools filling) are not counted
    started = time.perf_counter() + WARMUP_S
    stop_at = started + seconds

    async def one_client(connection: KeepAliveConnection, offset: float) -> None:
        nonlocal errors
        await asyncio.sleep(offset)  # spread the clients over one interval
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                ok = await connection.get(path) == 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
            elapsed = time.perf_counter() - t0
            if t0 >= started:
                if ok:
                    latencies.append(elapsed * 1000)
                else:
                    errors += 1
            await asyncio.sleep(max(0.0, interval_s - elapsed))
        await connection.close()

    await asyncio.gather(*(one_client(c, interval_s * i / clients) for i, c in enumerate(connections)))
    return Figures(label, clients, len(latencies), errors, stop_at - started, latencies)


def measure(label: str, code_dir: Path, database_url: str, redis_url: str, args: argparse.Namespace,
            video: Path) -> list[Figures]:
    """Start the stack from ``code_dir`` and run every client count against it."""
    with stack(code_dir, database_url, redis_url, args.api_workers) as base_url:
        token, analysis_id = asyncio.run(prepare(base_url, video))
        results = []
        for clients in args.clients:
            figures = asyncio.run(poll(base_url, token, analysis_id, clients, args.duration, args.interval, label))
            print(figures.line(), flush=True)
            results.append(figures)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per client count (bounded)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one client's polls")
    parser.add_argument("--api-workers", type=int, default=int(os.environ.get("API_WORKERS", "2")))
    parser.add_argument("--baseline-code", type=Path, help="measure this checkout first (same venv)")
    parser.add_argument("--baseline-api-workers", type=int, default=1)
    args = parser.parse_args(argv)
    args.duration = min(args.duration, 120.0)

    from services.common.migrations import upgrade_to_head

    managed_pg = None
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    if not port_open("127.0.0.1", 5432):
        managed_pg = start_postgres()
        admin = managed_pg.url("postgres").replace("+asyncpg", "")
    name = f"bloomwell_bench_{os.getpid()}"
    redis = start_redis()
    database_url = _create_database(admin, name)
    try:
        upgrade_to_head(database_url)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
              f"{args.interval:.1f} s between polls per client, {args.duration:.0f} s per run", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            video = _video(Path(tmp) / "bench.mp4")
            before: list[Figures] = []
            if args.baseline_code:
                workers, args.api_workers = args.api_workers, args.baseline_api_workers
                before = measure("baseline", args.baseline_code.resolve(), database_url, redis.url, args, video)
                args.api_workers = workers
            after = measure("this", REPO_ROOT, database_url, redis.url, args, video)
        for old, new in zip(before, after, strict=False):
            ratio = (new.completed / new.seconds) / max(1e-9, old.completed / old.seconds)
            print(f"{new.clients} clients: {ratio:.1f}× the baseline's requests/s")
    finally:
        redis.stop()
        _drop_database(admin, name)
        if managed_pg is not None:
            managed_pg.stop()
    return 0


def _create_database(admin_url: str, name: str) -> str:
    from services.common.settings import normalise_database_url

    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return normalise_database_url(admin_url.rsplit("/", 1)[0] + f"/{name}")


def _drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(admin_url: str, statement: str) -> None:
    from sqlalchemy import text

    from services.common.db import create_engine
    from services.common.settings import normalise_database_url

    engine = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())

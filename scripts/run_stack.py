"""Run the whole product locally: auth + gateway + inference worker (``make run``).

With nothing configured it uses embedded defaults: a SQLite database and storage under
``BLOOMWELL_DATA_DIR`` (``.data/``) and a Redis started for the run (stopped with it). Set
``DATABASE_URL`` / ``REDIS_URL`` to use real servers. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from scripts.devinfra import ManagedRedis, free_port, port_open, start_redis, stop_process_groups
from services.common.migrations import upgrade_to_head
from services.common.settings import REPO_ROOT, CommonSettings


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--auth-port", type=int, default=int(os.environ.get("AUTH_PORT", "0")) or None)
    parser.add_argument("--worker-concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "1")))
    parser.add_argument("--api-workers", type=int, default=int(os.environ.get("API_WORKERS", "1")),
                        help="gateway processes (uvicorn --workers); see bench/bench_load.py")
    parser.add_argument("--ready-timeout", type=float, default=180.0)
    return parser.parse_args(argv)


def _wait_ready(url: str, processes: list[subprocess.Popen[bytes]], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(processes: list[subprocess.Popen[bytes]], redis: ManagedRedis | None) -> None:
    stop_process_groups(processes)
    if redis is not None:
        redis.stop()


def main(argv: list[str] | None = None) -> int:
    """Start everything, wait until ready, then run until interrupted."""
    args = _parse_args(argv)
    if port_open(args.host, args.port):
        print(f"Port {args.port} is already in use; set PORT=... to choose another.", file=sys.stderr)
        return 2
    settings = CommonSettings()
    env = dict(os.environ)
    env.setdefault("BLOOMWELL_DATA_DIR", str(settings.bloomwell_data_dir))
    env["DATABASE_URL"] = settings.database_url
    redis: ManagedRedis | None = None
    processes: list[subprocess.Popen[bytes]] = []

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        if not os.environ.get("REDIS_URL"):
            redis = start_redis()
            env["REDIS_URL"] = redis.url
            print(f"Started a private Redis for this run on 127.0.0.1:{redis.port}")
        Path(settings.bloomwell_data_dir).mkdir(parents=True, exist_ok=True)
        upgrade_to_head(settings.database_url)
        auth_port = args.auth_port or free_port(args.host)
        env["AUTH_URL"] = f"http://{args.host}:{auth_port}"
        python = sys.executable
        commands = {
            "auth": [python, "-m", "uvicorn", "--factory", "services.auth.main:create_app",
                     "--host", args.host, "--port", str(auth_port), "--log-level", "warning"],
            "api": [python, "-m", "uvicorn", "--factory", "services.api.main:create_app",
                    "--host", args.host, "--port", str(args.port), "--log-level", "info", "--no-access-log",
                    "--workers", str(args.api_workers)],
            "worker": [python, "-m", "celery", "-A", "services.inference_worker.worker", "worker",
                       "-Q", "inference", "--concurrency", str(args.worker_concurrency),
                       "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        }
        for command in commands.values():
            processes.append(subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True))
        url = f"http://{args.host}:{args.port}"
        if not _wait_ready(f"{url}/readyz", processes, args.ready_timeout):
            print("Bloomwell did not become ready; see the logs above.", file=sys.stderr)
            return 1
        print(f"\n  Bloomwell is running on {url}  (API docs: {url}/docs)  — Ctrl-C to stop.\n", flush=True)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("A Bloomwell process stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Bloomwell ...", flush=True)
        return 0
    finally:
        _stop(processes, redis)


if __name__ == "__main__":
    sys.exit(main())

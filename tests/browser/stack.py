"""The real stack (``python -m scripts.run_stack``) on a free port with a throwaway data dir, as a context manager.

Used by the browser tests' ``stack`` fixture and by ``bench/bench_report.py``. ``BLOOMWELL_DATA_DIR`` is
temporary (SQLite, storage, the generated JWT key and the private Redis), the access-token lifetime is shortened
(``ACCESS_TOKEN_TTL_S``) so the web app's refresh-token rotation is exercised, sign-ups per address are not limited to
a person's ten an hour (every browser test signs up its own account), ``GET /readyz`` → 200 is awaited and
the process group gets SIGTERM at the end.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.devinfra import free_port, stop_process_groups

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_TOKEN_TTL_S = 60
READY_TIMEOUT_S = 240


class StackError(RuntimeError):
    """The stack exited or was not ready in time (the message ends with its log's tail)."""


@dataclass(frozen=True)
class Stack:
    """The running product."""

    base_url: str
    data_dir: Path
    log_path: Path


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _model_env(tmp: Path, warn: Callable[..., None]) -> dict[str, str]:
    """The shipped model when it exists; otherwise a tiny random checkpoint so the UI flows can run."""
    from bloomwell_ml.paths import default_model_path

    if os.environ.get("MODEL_PATH") or default_model_path().is_file():
        return {}
    from tests.fixtures.worker import write_tiny_model

    path = write_tiny_model(tmp / "tiny-model.pt")
    warn(f"{default_model_path()} is missing: the stack runs the worker with a tiny random model", stacklevel=2)
    return {"MODEL_PATH": str(path)}


@contextlib.contextmanager
def running_stack(data_dir: Path, warn: Callable[..., None] = lambda *a, **k: None) -> Iterator[Stack]:
    """Start ``scripts.run_stack`` with ``data_dir`` as its data dir, yield once ready, stop it afterwards."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "STORAGE_DIR", "PORT"}
    }
    env.update(
        {
            "BLOOMWELL_DATA_DIR": str(data_dir),
            "ACCESS_TOKEN_TTL_S": str(ACCESS_TOKEN_TTL_S),
            # every browser test signs up its own account from 127.0.0.1: more than the 10 an hour a person may create
            "SIGNUP_RATE_LIMIT_PER_ADDRESS": "1000/hour",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(_model_env(data_dir, warn))
    log_path = data_dir / "stack.log"
    python = REPO_ROOT / ".venv" / "bin" / "python"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python if python.exists() else sys.executable), "-m", "scripts.run_stack", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _ready(f"{base_url}/readyz"):
            if process.poll() is not None:
                raise StackError(f"run_stack exited with {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise StackError(f"the stack was not ready within {READY_TIMEOUT_S} s:\n{_tail(log_path)}")
            time.sleep(0.5)
        yield Stack(base_url=base_url, data_dir=data_dir, log_path=log_path)
    finally:
        stop_process_groups([process], timeout_s=40)

"""The inference workers' heartbeat, in one place: each worker beats into a file (read by its container health check,
``python -m services.inference_worker.healthcheck``) and into Redis (counted by the gateway's ``/readyz``, every
worker on every host).

The Redis side is one sorted set, ``bloomwell:workers``: member = the worker's Celery node name, score = the Redis
server's clock at its last beat (one clock for all hosts, so no skew between machines matters). A worker is live
while its last beat is younger than ``WORKER_HEARTBEAT_MAX_AGE_S``. The beat runs on a thread of the worker's main
process (:class:`Heartbeat`, started by ``services.inference_worker.worker``) and beats only while Celery's consumer
is running, so it says "this worker takes jobs" and costs nothing while a job runs in a pool child. This module
imports nothing heavy (Redis only where a beat is recorded): the health check uses it without loading Celery, Redis
or the ML stack.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings

from services.common.settings import SETTINGS_CONFIG

if TYPE_CHECKING:
    import redis
    import redis.asyncio

log = logging.getLogger(__name__)

WORKERS_KEY = "bloomwell:workers"
FORGET_AFTER_S = 24 * 3600.0
"""Entries of workers silent this long are removed from the set."""


def default_heartbeat_file() -> Path:
    """Where a worker writes its heartbeat unless ``WORKER_HEARTBEAT_FILE`` says otherwise."""
    return Path(tempfile.gettempdir()) / "bloomwell-worker.heartbeat"


class HeartbeatSettings(BaseSettings):
    """Worker liveness, shared by the worker (which beats), its health check and the gateway (which count beats)."""

    model_config = SETTINGS_CONFIG

    worker_heartbeat_file: Path = Field(
        default_factory=default_heartbeat_file,
        description="the heartbeat file the container health check reads (python -m "
        "services.inference_worker.healthcheck)",
    )
    worker_heartbeat_interval_s: float = Field(
        default=10.0, gt=0, description="how often the worker beats (file and Redis)"
    )
    worker_heartbeat_max_age_s: float = Field(
        default=45.0, gt=0, description="a worker whose last beat is older counts as gone (a few missed beats pass)"
    )


def write_heartbeat_file(path: Path, name: str, pid: int | None = None) -> None:
    """Write the heartbeat file atomically: ``{"name", "pid", "time"}`` (wall-clock seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"name": name, "pid": pid or os.getpid(), "time": time.time()}))
    tmp.replace(path)


def check_heartbeat_file(path: Path, max_age_s: float) -> tuple[bool, str]:
    """(healthy, reason) for the heartbeat file at ``path``: fresh, and its process alive."""
    try:
        beat = json.loads(path.read_text())
        age = time.time() - float(beat["time"])
        pid = int(beat["pid"])
    except FileNotFoundError:
        return False, f"no heartbeat file at {path} (the worker has not started taking jobs)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable heartbeat file {path}: {exc}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, f"the worker process {pid} is gone"
    except PermissionError:
        pass  # it exists, owned by someone else
    if age > max_age_s:
        return False, f"last heartbeat {age:.0f} s ago (more than {max_age_s:.0f} s)"
    return True, f"{beat.get('name', 'worker')} beat {age:.1f} s ago"


def _server_time(now: Any) -> float:
    seconds, micros = now
    return float(seconds) + float(micros) / 1e6


def record_beat(client: redis.Redis, name: str) -> float:
    """Record a beat of worker ``name``; returns the Redis time used."""
    now = _server_time(client.time())
    pipe = client.pipeline(transaction=False)
    pipe.zadd(WORKERS_KEY, {name: now})
    pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - FORGET_AFTER_S)
    pipe.execute()
    return now


def forget(client: redis.Redis, name: str) -> None:
    """Remove worker ``name`` at once (a clean shutdown)."""
    client.zrem(WORKERS_KEY, name)


async def count_live(client: redis.asyncio.Redis, max_age_s: float) -> int:
    """How many workers beat within ``max_age_s``."""
    now = _server_time(await client.time())
    return int(await client.zcount(WORKERS_KEY, now - max_age_s, "+inf"))



class Heartbeat:
    """Beats for worker ``name`` on a daemon thread until :meth:`stop`.

    ``alive`` tells whether the consumer is running; a beat is skipped while it says no. A Redis error skips the
    Redis half of one beat (the file still says the process is up; ``/readyz`` stops counting the worker).
    """

    def __init__(self, name: str, client: redis.Redis, path: Path, interval_s: float,
                 alive: Callable[[], bool] = lambda: True) -> None:
        self.name = name
        self.client = client
        self.path = path
        self.interval_s = interval_s
        self.alive = alive
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bloomwell-heartbeat", daemon=True)

    def beat(self) -> None:
        """One beat: the file, then Redis."""
        import redis

        if not self.alive():
            return
        try:
            write_heartbeat_file(self.path, self.name)
        except OSError as exc:
            log.warning("could not write the heartbeat file %s: %s", self.path, exc)
        try:
            record_beat(self.client, self.name)
        except redis.RedisError as exc:
            log.warning("could not record the heartbeat in Redis: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval_s)

    def start(self) -> Heartbeat:
        """Start beating (the first beat at once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating, remove the file and the Redis entry (a stopped worker is gone at once)."""
        import redis

        self._stop.set()
        self._thread.join(timeout=5)
        try:
            forget(self.client, self.name)
        except redis.RedisError as exc:
            log.warning("could not remove the heartbeat from Redis: %s", exc)
        self.path.unlink(missing_ok=True)
        self.client.close()

"""The worker's heartbeat: every ``WORKER_HEARTBEAT_INTERVAL_S`` the main process writes a small JSON file (read by
the container health check, ``services.inference_worker.healthcheck``) and records a beat in Redis (counted by the
gateway's ``/readyz``).

The beat runs on a thread of the worker's main process and beats only while Celery's consumer is running (not
while it is starting, reconnecting or stopping), so it reflects "this worker takes jobs" and costs nothing while a
job runs in a pool child. Writing is atomic (a temporary file renamed over the old one).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from services.common import workers

log = logging.getLogger(__name__)


def write_heartbeat_file(path: Path, name: str, pid: int | None = None) -> None:
    """Write the heartbeat file atomically: ``{"name", "pid", "time"}`` (wall-clock seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"name": name, "pid": pid or os.getpid(), "time": time.time()}))
    tmp.replace(path)


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
        if not self.alive():
            return
        try:
            write_heartbeat_file(self.path, self.name)
        except OSError as exc:
            log.warning("could not write the heartbeat file %s: %s", self.path, exc)
        try:
            workers.record_beat(self.client, self.name)
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
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            workers.forget(self.client, self.name)
        except redis.RedisError as exc:
            log.warning("could not remove the heartbeat from Redis: %s", exc)
        self.path.unlink(missing_ok=True)
        self.client.close()


def consumer_running(consumer: Any) -> Callable[[], bool]:
    """A check that Celery's consumer blueprint is in its RUN state (started, connected, not stopping)."""
    from celery.bootsteps import RUN

    def check() -> bool:
        blueprint = getattr(consumer, "blueprint", None)
        return blueprint is None or blueprint.state == RUN

    return check

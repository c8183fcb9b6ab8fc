"""Live inference workers: each worker's heartbeat, in a file (for its container health check) and in Redis (so
the gateway's ``/readyz`` counts every worker on every host).

The Redis side is one sorted set, ``bloomwell:workers``: member = the worker's Celery node name, score = the Redis
server's clock at its last beat (one clock for all hosts, so no skew between machines matters). A worker is live
while its last beat is younger than ``max_age_s``. This module imports nothing heavy: the health-check script
uses it without loading the ML stack.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

WORKERS_KEY = "bloomwell:workers"
DEFAULT_HEARTBEAT_INTERVAL_S = 10.0
DEFAULT_HEARTBEAT_MAX_AGE_S = 45.0
"""A worker whose last beat is older than this counts as gone (a few missed beats are tolerated)."""
FORGET_AFTER_S = 24 * 3600.0
"""Entries of workers silent this long are removed from the set."""


def default_heartbeat_file() -> Path:
    """Where a worker writes its heartbeat unless ``WORKER_HEARTBEAT_FILE`` says otherwise."""
    return Path(tempfile.gettempdir()) / "bloomwell-worker.heartbeat"


def heartbeat_file_from_env() -> Path:
    """``WORKER_HEARTBEAT_FILE`` or the default (read without the settings machinery)."""
    return Path(os.environ.get("WORKER_HEARTBEAT_FILE") or default_heartbeat_file())


def _server_time(now: Any) -> float:
    seconds, micros = now
    return float(seconds) + float(micros) / 1e6


def record_beat(client: Any, name: str) -> float:
    """Record a beat of worker ``name`` (a synchronous ``redis.Redis``); returns the Redis time used."""
    now = _server_time(client.time())
    pipe = client.pipeline(transaction=False)
    pipe.zadd(WORKERS_KEY, {name: now})
    pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - FORGET_AFTER_S)
    pipe.execute()
    return now


def forget(client: Any, name: str) -> None:
    """Remove worker ``name`` at once (a clean shutdown)."""
    client.zrem(WORKERS_KEY, name)


async def count_live(client: Any, max_age_s: float = DEFAULT_HEARTBEAT_MAX_AGE_S) -> int:
    """How many workers beat within ``max_age_s`` (``client``: a ``redis.asyncio.Redis``)."""
    now = _server_time(await client.time())
    return int(await client.zcount(WORKERS_KEY, now - max_age_s, "+inf"))


def live_names(client: Any, max_age_s: float = DEFAULT_HEARTBEAT_MAX_AGE_S) -> list[str]:
    """Names of the workers that beat within ``max_age_s`` (synchronous client)."""
    now = _server_time(client.time())
    return [m.decode() if isinstance(m, bytes) else str(m)
            for m in client.zrangebyscore(WORKERS_KEY, now - max_age_s, "+inf")]

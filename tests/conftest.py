"""Shared test infrastructure: real PostgreSQL and Redis, migrations once, a rolled-back session per test.

Where the machine runs PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) they are used; otherwise
throwaway servers are started for the run (see ``scripts/devinfra.py``). Each test session works in its
own freshly created database and its own Redis database number, so parallel runs do not collide.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scripts.devinfra import execute_autocommit, port_open, start_postgres, start_redis
from services.api.config import ApiSettings
from services.api.main import create_app as create_api_app
from services.auth.config import AuthSettings
from services.auth.main import create_app as create_auth_app
from services.common.db import create_engine
from services.common.migrations import upgrade_to_head
from services.common.settings import REPO_ROOT

pytest_plugins = ["tests.fixtures.worker"]

SHARED_DATA = Path(os.environ.get("BLOOMWELL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
VIDEOS = SHARED_DATA / "videos"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while its session-scoped browser is open, which would break every asyncio-based test after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


GENEROUS_LIMITS = {
    "login_rate_limit_per_address": "10000/minute",
    "login_rate_limit_per_account": "10000/minute",
    "signup_rate_limit_per_address": "10000/minute",
}
"""Sign-in limits for the suite at large (tests/auth/test_throttle.py tests the real ones)."""


@dataclass(frozen=True)
class Servers:
    """Where the test PostgreSQL (admin database URL) and Redis answer."""

    postgres_admin_url: str
    redis_base_url: str


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The machine's PostgreSQL/Redis, or throwaway ones when none answers."""
    stoppers = []
    pg_url = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    pg = make_url(pg_url)
    if pg.host and not port_open(pg.host, pg.port or 5432):
        managed_pg = start_postgres()
        stoppers.append(managed_pg.stop)
        pg_url = managed_pg.url("postgres")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    redis_parts = make_url(redis_url.replace("redis://", "redis+x://", 1))
    if not port_open(redis_parts.host or "127.0.0.1", redis_parts.port or 6379):
        managed_redis = start_redis()
        stoppers.append(managed_redis.stop)
        redis_url = f"redis://127.0.0.1:{managed_redis.port}"
    yield Servers(postgres_admin_url=pg_url, redis_base_url=redis_url.rstrip("/"))
    for stop in reversed(stoppers):
        stop()


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    name = f"bloomwell_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = servers.postgres_admin_url
    asyncio.run(execute_autocommit(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    yield url
    asyncio.run(execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


REDIS_CLAIM_KEY = "bloomwell:test-session-db:{db}"
REDIS_CLAIM_TTL_S = 6 * 3600


def claim_redis_db(base_url: str, owner: str) -> int:
    """Claim a Redis database number 1..15 for this session with a ``SET NX`` lock key in database 0,
    so two concurrent test sessions never share (and flush) one database. Falls back to a pid-derived
    number when all are claimed (e.g. by crashed sessions whose keys have not expired yet)."""
    client = redis_sync.from_url(f"{base_url}/0")
    try:
        start = os.getpid() % 15
        for offset in range(15):
            db = 1 + (start + offset) % 15
            if client.set(REDIS_CLAIM_KEY.format(db=db), owner, nx=True, ex=REDIS_CLAIM_TTL_S):
                return db
    finally:
        client.close()
    return 1 + os.getpid() % 15


def release_redis_db(base_url: str, db: int, owner: str) -> None:
    """Give the database number back (only if this session still holds it)."""
    client = redis_sync.from_url(f"{base_url}/0")
    try:
        key = REDIS_CLAIM_KEY.format(db=db)
        if client.get(key) == owner.encode():
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(servers: Servers) -> Iterator[str]:
    """A Redis database number of its own for this session (claimed, see :func:`claim_redis_db`),
    emptied before and after."""
    owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    db = claim_redis_db(servers.redis_base_url, owner)
    url = f"{servers.redis_base_url}/{db}"
    client = redis_sync.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
    release_redis_db(servers.redis_base_url, db, owner)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BLOOMWELL_DATA_DIR for this session (generated JWT key, storage)."""
    return tmp_path_factory.mktemp("bloomwell-data")


@pytest.fixture(scope="session")
def storage_dir(data_dir: Path) -> Path:
    """Upload and crop storage shared by the in-process gateway and a worker subprocess."""
    path = data_dir / "storage"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def test_env(database_url: str, redis_url: str, data_dir: Path, storage_dir: Path) -> dict[str, str]:
    """Environment variables that point a subprocess (worker, stack) at this session's servers."""
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BLOOMWELL_DATA_DIR": str(data_dir),
        "STORAGE_DIR": str(storage_dir),
        # tests sign up and log in many times from one address; the throttle has its own tests
        **{name.upper(): value for name, value in GENEROUS_LIMITS.items()},
    }


@pytest.fixture(scope="session")
def auth_settings(test_env: dict[str, str]) -> AuthSettings:
    return AuthSettings(
        environment="test",
        database_url=test_env["DATABASE_URL"],
        redis_url=test_env["REDIS_URL"],
        bloomwell_data_dir=Path(test_env["BLOOMWELL_DATA_DIR"]),
        **GENEROUS_LIMITS,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def api_settings(test_env: dict[str, str]) -> ApiSettings:
    return ApiSettings(
        environment="test",
        database_url=test_env["DATABASE_URL"],
        redis_url=test_env["REDIS_URL"],
        bloomwell_data_dir=Path(test_env["BLOOMWELL_DATA_DIR"]),
        storage_dir=Path(test_env["STORAGE_DIR"]),
        auth_url="http://auth.internal",
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def rollback_sessionmaker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions bound to one connection whose outer transaction is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        await transaction.rollback()


@pytest.fixture
async def db_session(rollback_sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose writes vanish after the test."""
    async with rollback_sessionmaker() as session:
        yield session


async def _client_for(
    auth_settings: AuthSettings,
    api_settings: ApiSettings,
    sessionmaker: async_sessionmaker[AsyncSession] | None,
) -> AsyncIterator[httpx.AsyncClient]:
    auth_app = create_auth_app(auth_settings, sessionmaker=sessionmaker)
    api_app = create_api_app(api_settings, auth_transport=httpx.ASGITransport(auth_app), sessionmaker=sessionmaker)
    async with (
        auth_app.router.lifespan_context(auth_app),
        api_app.router.lifespan_context(api_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(api_app), base_url="http://testserver") as client,
    ):
        client.app = api_app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def client(
    auth_settings: AuthSettings, api_settings: ApiSettings, rollback_sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway (with the auth service behind it, in process) over httpx; DB writes are rolled back."""
    async for c in _client_for(auth_settings, api_settings, rollback_sessionmaker):
        yield c


@pytest.fixture
async def committing_client(auth_settings: AuthSettings, api_settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``client`` but writes are really committed (for tests with a worker process or push)."""
    async for c in _client_for(auth_settings, api_settings, None):
        yield c


async def signup_and_login(client: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
    """Create an account and return ``{"Authorization": "Bearer ..."}`` plus the tokens."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@bloomwell.dev"
    password = "correct horse battery"
    response = await client.post(
        "/auth/signup", json={"email": email, "password": password, "first_name": "Ada", "last_name": "Test"}
    )
    assert response.status_code == 201, response.text
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    return {
        "Authorization": f"Bearer {tokens['access_token']}",
        "refresh_token": tokens["refresh_token"],
        "email": email,
        "password": password,
    }


def auth_header(user: dict[str, str]) -> dict[str, str]:
    """Only the Authorization header of a :func:`signup_and_login` result."""
    return {"Authorization": user["Authorization"]}

"""The Alembic migrations build exactly the schema the ORM models describe, on PostgreSQL and SQLite, and the newest
one can be taken back and applied again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from services.common import models  # noqa: F401  (registers the tables)
from services.common.db import Base, create_engine
from services.common.migrations import upgrade_to_head
from services.common.settings import REPO_ROOT

pytestmark = pytest.mark.integration


async def differences(database_url: str) -> list[object]:
    """What autogenerate would still change: nothing when migrations and models agree."""
    engine = create_engine(database_url)

    def compare(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_migrated_postgresql_matches_the_models(database_url: str) -> None:
    assert await differences(database_url) == []


def test_migrated_sqlite_matches_the_models_and_the_newest_step_goes_both_ways(tmp_path: Path) -> None:
    # synchronous: Alembic's environment runs its own event loop
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    upgrade_to_head(url)
    assert asyncio.run(differences(url)) == []
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes.update(database_url=url, configure_logging=False)
    command.downgrade(config, "-1")
    added = [d for d in asyncio.run(differences(url)) if isinstance(d, tuple) and d[0] == "add_table"]
    assert [d[1].name for d in added] == ["webhook_deliveries"]
    command.upgrade(config, "head")
    assert asyncio.run(differences(url)) == []

"""Apply the Alembic migrations programmatically (used by the launcher, the containers and tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from services.common.settings import REPO_ROOT


def upgrade_to_head(database_url: str) -> None:
    """``alembic upgrade head`` against ``database_url``."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


if __name__ == "__main__":
    from services.common.settings import CommonSettings

    upgrade_to_head(CommonSettings().database_url)

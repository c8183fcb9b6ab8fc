"""The real stack for the CLI tests: auth and the gateway served by uvicorn on real sockets (committing to this
session's PostgreSQL database), the real Celery worker subprocess, and ``bloomwell`` run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.api.config import ApiSettings
from services.api.main import create_app as create_api_app
from services.auth.config import AuthSettings
from services.auth.main import create_app as create_auth_app
from services.common.settings import REPO_ROOT
from tests.live import serve


@pytest.fixture(scope="session")
def live_api(auth_settings: AuthSettings, api_settings: ApiSettings) -> Iterator[str]:
    """The base URL of the real gateway (with real auth behind it over HTTP)."""
    with serve(create_auth_app(auth_settings)) as auth_url, serve(
        create_api_app(api_settings.model_copy(update={"auth_url": auth_url}))
    ) as api_url:
        yield api_url


@dataclass
class Account:
    email: str
    password: str


@pytest.fixture
def account(live_api: str) -> Account:
    """A new account on the live stack."""
    import httpx

    account = Account(f"cli-{uuid.uuid4().hex[:10]}@bloomwell.dev", "correct horse battery")
    response = httpx.post(f"{live_api}/auth/signup", timeout=30, json={
        "email": account.email, "password": account.password, "first_name": "Ada", "last_name": "Cli"})
    assert response.status_code == 201, response.text
    return account


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bloomwell(live_api: str, tmp_path: Path) -> Run:
    """Run ``bloomwell ARGS...`` (as ``python -m bloomwell_client``) against the live stack with a private config
    directory; returns the completed process (text stdout/stderr)."""
    config = tmp_path / "config"
    env = {**os.environ, "BLOOMWELL_API": live_api, "BLOOMWELL_CONFIG_DIR": str(config),
           "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "120"}

    def run(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bloomwell_client", *args], input=stdin, text=True,
                              capture_output=True, env=env, cwd=tmp_path, timeout=timeout)

    run.config_dir = config  # type: ignore[attr-defined]
    return run

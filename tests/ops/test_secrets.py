"""The signing key is read at start-up, and ``make secrets`` writes files the services' uid can read.

The compose stack once answered 500 to every login while ``/readyz`` said ready: the key was root's ``0600``
file, unreadable for uid 1000, and read only at the first sign-in. The real auth process is started without
root's power to read any file; ``make secrets``' files are read as uid 1000.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.make_secrets import SERVICE_GID
from scripts.make_secrets import main as make_secrets
from services.auth.config import AuthSettings
from services.auth.main import create_app
from services.common.security.tokens import generate_private_key_pem
from services.common.settings import REPO_ROOT, ConfigurationError
from tests.ops.helpers import as_service_user, make_unreadable, shared_tmpdir, unprivileged


@pytest.fixture
def folder() -> Path:
    path = shared_tmpdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_auth_refuses_to_start_without_a_readable_key(folder: Path, test_env: dict[str, str]) -> None:
    """uvicorn exits at start-up with a message naming the file and the reason (not a 500 at the first login)."""
    key = folder / "jwt_private_key.pem"
    key.write_text(generate_private_key_pem())
    make_unreadable(key)  # like root's 0600 key for uid 1000
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "ENVIRONMENT": "production",
           "JWT_PRIVATE_KEY_FILE": str(key), "DATABASE_URL": test_env["DATABASE_URL"],
           "REDIS_URL": test_env["REDIS_URL"], "BLOOMWELL_DATA_DIR": str(folder)}
    result = subprocess.run(
        unprivileged([sys.executable, "-m", "uvicorn", "--factory", "services.auth.main:create_app", "--port", "0"]),
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert f"JWT_PRIVATE_KEY_FILE={key} cannot be read: Permission denied" in result.stderr, result.stderr[-2000:]


def test_malformed_or_missing_key_stops_create_app(folder: Path) -> None:
    bad = folder / "bad.pem"
    bad.write_text("not a key\n")
    with pytest.raises(ConfigurationError, match="is not a PEM RSA private key"):
        create_app(AuthSettings(environment="production", jwt_private_key_file=bad))
    with pytest.raises(ConfigurationError, match="cannot be read: No such file"):
        create_app(AuthSettings(environment="production", jwt_private_key_file=folder / "missing.pem"))
    empty = folder / "empty.pem"
    empty.write_text("")
    with pytest.raises(ConfigurationError, match="is empty"):
        create_app(AuthSettings(environment="production", jwt_private_key_file=empty))


def test_make_secrets_writes_files_the_service_uid_reads(folder: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving the files to group 1000 needs root (or membership of that group)")
    assert make_secrets(["--dir", str(folder)]) == 0
    key, webhook = folder / "jwt_private_key.pem", folder / "webhook_secret"
    for path in (key, webhook):
        assert path.stat().st_mode & 0o777 == 0o640
        assert path.stat().st_gid == SERVICE_GID
    for path in (key, webhook):  # the services' uid reads them (as the container user would)
        read = subprocess.run(["cat", str(path)], capture_output=True, text=True, timeout=30, **as_service_user())
        assert read.returncode == 0 and read.stdout == path.read_text(), read.stderr
    settings = AuthSettings(environment="production", jwt_private_key_file=key)
    settings.load_signing_key()
    assert settings.jwk["kty"] == "RSA"
    from services.inference_worker.config import WorkerSettings

    assert len(WorkerSettings(environment="production", webhook_secret_file=webhook).webhook_secret) >= 32
    # a second run keeps the key (no accidental rotation) and repairs the permissions
    before = key.read_text()
    key.chmod(0o600)
    assert make_secrets(["--dir", str(folder)]) == 0
    assert key.read_text() == before and key.stat().st_mode & 0o777 == 0o640


def test_worker_refuses_an_unreadable_webhook_secret(folder: Path) -> None:
    from services.inference_worker.config import WorkerSettings

    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET_FILE=.* cannot be read"):
        WorkerSettings(environment="production", webhook_secret_file=folder / "missing")

"""Fixtures for gateway tests: a logged-in user and small real/broken video files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import VIDEOS, signup_and_login


@pytest.fixture
async def user(client: httpx.AsyncClient) -> dict[str, str]:
    return await signup_and_login(client)


@pytest.fixture(scope="session")
def face_video() -> Path:
    path = VIDEOS / "fer_test.mp4"
    if not path.exists():
        pytest.skip(f"shared test video missing: {path}")
    return path


@pytest.fixture(scope="session")
def corrupt_mp4(tmp_path_factory: pytest.TempPathFactory, face_video: Path) -> Path:
    """An MP4 whose header is intact but whose media data is noise."""
    head = face_video.read_bytes()[:64]
    path = tmp_path_factory.mktemp("videos") / "broken.mp4"
    path.write_bytes(head + bytes(range(256)) * 400)
    return path

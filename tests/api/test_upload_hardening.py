"""Uploads leave nothing behind on any failure, clean client strings, bound frame sizes and body speed;
the gateway sends security headers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.analyses import service
from services.api.config import ApiSettings
from services.auth.config import AuthSettings
from tests.conftest import _client_for, auth_header, signup_and_login
from tests.worker.conftest import write_video

pytestmark = pytest.mark.integration


def stored_files(storage_dir: Path) -> set[Path]:
    """Every file under uploads/ (published and incoming)."""
    uploads = storage_dir / "uploads"
    return {path for path in uploads.rglob("*") if path.is_file()} if uploads.exists() else set()


async def post_video(
    client: httpx.AsyncClient, user: dict[str, str], path: Path, filename: str | None = None
) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            "/v1/analyses", headers=auth_header(user), files={"video": (filename or path.name, handle, "video/mp4")}
        )


async def test_control_characters_are_stripped_from_the_filename(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path
) -> None:
    # raw bytes: httpx would percent-encode a NUL in a filename, an attacker's client does not
    boundary = "bloomwellboundary"
    filename = "my\x00clip\x1b[31m\u202e.mp4".encode()
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="video"; filename="' + filename + b'"\r\n'
        + b"Content-Type: video/mp4\r\n\r\n" + face_video.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        "/v1/analyses",
        headers={**auth_header(user), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert response.status_code == 202, response.text
    analysis = (await client.get(f"/v1/analyses/{response.json()['id']}", headers=auth_header(user))).json()
    assert analysis["filename"] == "myclip[31m.mp4"
    assert (storage_dir / "uploads" / f"{analysis['id']}.mp4").is_file()
    assert not list((storage_dir / "uploads" / ".incoming").glob("*"))


async def test_a_failing_insert_leaves_no_file(
    client: httpx.AsyncClient,
    user: dict[str, str],
    face_video: Path,
    storage_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = stored_files(storage_dir)

    async def broken_insert(*_args: object) -> None:
        raise RuntimeError("database refused the row")

    monkeypatch.setattr(service, "insert_analysis", broken_insert)
    with pytest.raises(RuntimeError):
        await post_video(client, user, face_video)
    assert stored_files(storage_dir) == before


async def test_an_unavailable_queue_leaves_no_file_and_no_row(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = stored_files(storage_dir)
    queue = client.app.state.analysis_queue  # type: ignore[attr-defined]

    def broken(_analysis_id: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(queue, "enqueue", broken)
    response = await post_video(client, user, face_video)
    assert response.status_code == 503
    assert stored_files(storage_dir) == before
    assert (await client.get("/v1/analyses", headers=auth_header(user))).json()["items"] == []


@pytest.fixture
async def strict_client(
    auth_settings: AuthSettings,
    api_settings: ApiSettings,
    rollback_sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway with small frame limits and impatient body timeouts."""
    settings = api_settings.model_copy(
        update={
            "max_frame_pixels": 320 * 240,
            "min_frame_side_px": 32,
            "upload_idle_timeout_s": 0.5,
            "upload_rate_grace_s": 0.3,
            "upload_min_bytes_per_s": 1_000_000,
        }
    )
    async for c in _client_for(auth_settings, settings, rollback_sessionmaker):
        yield c


@pytest.mark.parametrize(
    ("size", "fragment"), [((640, 480), "too large (640×480)"), ((16, 16), "too small (16×16)")]
)
async def test_frames_too_large_or_too_small_are_refused(
    strict_client: httpx.AsyncClient, tmp_path: Path, storage_dir: Path, size: tuple[int, int], fragment: str
) -> None:
    user = await signup_and_login(strict_client)
    video = write_video(tmp_path / "clip.mp4", frames=10, size=size)
    before = stored_files(storage_dir)
    response = await post_video(strict_client, user, video)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert stored_files(storage_dir) == before


async def test_a_normal_size_passes_the_frame_checks(strict_client: httpx.AsyncClient, tmp_path: Path) -> None:
    user = await signup_and_login(strict_client)
    response = await post_video(strict_client, user, write_video(tmp_path / "ok.mp4", frames=10, size=(160, 120)))
    assert response.status_code == 202, response.text


def _multipart_head(boundary: str) -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"slow.mp4\"\r\n"
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("pause_s", [2.0, 0.1])
async def test_stalled_or_trickling_bodies_are_cut_off_with_408(
    strict_client: httpx.AsyncClient, pause_s: float
) -> None:
    """2 s silence exceeds the 0.5 s idle timeout; 1 KB every 0.1 s is far below the minimum rate."""
    user = await signup_and_login(strict_client)
    boundary = "bloomwellboundary"

    async def body() -> AsyncIterator[bytes]:
        yield _multipart_head(boundary)
        for _ in range(40):
            await asyncio.sleep(pause_s)
            yield b"\x00" * 1024

    response = await strict_client.post(
        "/v1/analyses",
        headers={**auth_header(user), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
        timeout=60,
    )
    assert response.status_code == 408
    assert "too slow" in response.json()["detail"]


async def test_security_headers_on_api_web_app_and_docs(client: httpx.AsyncClient) -> None:
    for path, csp_fragment in [
        ("/v1/config", "default-src 'none'"),
        ("/", "script-src 'self' 'wasm-unsafe-eval';"),
        ("/analyses/some-route", "frame-ancestors 'none'"),
        ("/docs", "cdn.jsdelivr.net"),
    ]:
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert response.headers["x-frame-options"] == "DENY", path
        csp = response.headers["content-security-policy"]
        assert csp_fragment in csp and "frame-ancestors 'none'" in csp, (path, csp)
    assert "strict-transport-security" not in (await client.get("/v1/config")).headers


async def test_forwarded_headers_are_believed_only_from_trusted_proxies(client: httpx.AsyncClient) -> None:
    """The in-process transport connects from 127.0.0.1 (a trusted proxy by default), so its
    X-Forwarded-Proto is believed; HSTS follows from it."""
    response = await client.get("/v1/config", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert response.headers["strict-transport-security"].startswith("max-age=")

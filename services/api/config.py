"""Settings of the API gateway."""

from __future__ import annotations

from pathlib import Path

from services.common.settings import REPO_ROOT, CommonSettings

MB = 1024 * 1024


class ApiSettings(CommonSettings):
    """Gateway configuration (environment variables of the same names, upper-cased)."""

    auth_url: str = "http://127.0.0.1:8001"
    """Where the auth service listens; ``/auth/*`` is forwarded there and its JWKS read from there."""
    jwt_issuer: str = "bloomwell-auth"
    jwt_audience: str = "bloomwell-api"
    max_upload_bytes: int = 100 * MB
    max_duration_s: float = 60.0
    min_record_s: float = 5.0
    max_record_s: float = 30.0
    default_sample_fps: float = 5.0
    frontend_dist: Path = REPO_ROOT / "frontend" / "dist"
    cors_origins: list[str] = []
    sse_keepalive_s: float = 15.0

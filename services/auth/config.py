"""Settings of the auth service."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import model_validator

from services.common.security.tokens import generate_private_key_pem, public_jwk
from services.common.settings import CommonSettings


class AuthSettings(CommonSettings):
    """Auth service configuration (environment variables of the same names, upper-cased)."""

    jwt_private_key: str = ""
    """PEM of the RS256 signing key. Alternatively ``JWT_PRIVATE_KEY_FILE``."""
    jwt_private_key_file: Path | None = None
    jwt_issuer: str = "bloomwell-auth"
    jwt_audience: str = "bloomwell-api"
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600

    @model_validator(mode="after")
    def _refuse_missing_key_outside_local(self) -> AuthSettings:
        self.require_configured("jwt_private_key", self.jwt_private_key or self.jwt_private_key_file)
        return self

    @cached_property
    def signing_key_pem(self) -> str:
        """The configured key, or (local/test only) a generated one kept under the data dir."""
        if self.jwt_private_key:
            return self.jwt_private_key.replace("\\n", "\n")
        if self.jwt_private_key_file:
            return self.jwt_private_key_file.read_text()
        path = self.bloomwell_data_dir / "jwt_private_key.pem"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(generate_private_key_pem())
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text()

    @cached_property
    def jwk(self) -> dict[str, str]:
        """The public JWK of the signing key."""
        return public_jwk(self.signing_key_pem)

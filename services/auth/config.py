"""Settings of the auth service."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator

from services.common.security.settings import TokenSettings
from services.common.security.tokens import generate_private_key_pem, public_jwk
from services.common.settings import ConfigurationError, read_secret_file


class AuthSettings(TokenSettings):
    """Auth service configuration (environment variables of the same names, upper-cased)."""

    jwt_private_key: str = ""
    """PEM of the RS256 signing key. Alternatively ``JWT_PRIVATE_KEY_FILE``."""
    jwt_private_key_file: Path | None = None
    refresh_token_ttl_s: int = 30 * 24 * 3600

    login_rate_limit_per_address: str = "20/minute"
    """Sign-in attempts (``/auth/login``, ``/auth/token``) per client address (``limits`` notation)."""
    login_rate_limit_per_account: str = "10/10 minutes"
    """Sign-in attempts per account; a correct password clears the count."""
    signup_rate_limit_per_address: str = "10/hour"
    """Accounts created per client address."""
    password_hash_concurrency: int = Field(default=0, ge=0)
    """Argon2 hashes computed at once (64 MiB each); 0 = one per CPU core."""
    password_hash_queue: int = Field(default=16, ge=0)
    """Hashes allowed to wait for a free slot; beyond that sign-in answers 503 at once."""

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
            return read_secret_file("JWT_PRIVATE_KEY_FILE", self.jwt_private_key_file)
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

    def load_signing_key(self) -> None:
        """Read and parse the signing key now (at start-up), so a missing, unreadable or malformed key stops the
        service with a clear :class:`ConfigurationError` instead of failing the first sign-in with a 500."""
        try:
            _ = self.jwk
        except ConfigurationError:
            raise
        except (ValueError, TypeError) as exc:
            source = "JWT_PRIVATE_KEY" if self.jwt_private_key else f"JWT_PRIVATE_KEY_FILE={self.jwt_private_key_file}"
            raise ConfigurationError(f"{source} is not a PEM RSA private key: {exc}") from exc

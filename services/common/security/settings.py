"""Token settings that the issuer (auth) and every verifier (auth, gateway) must agree on."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import CommonSettings


class TokenSettings(CommonSettings):
    """Settings shared by the services that issue or verify access tokens (same environment variables)."""

    jwt_issuer: str = "bloomwell-auth"
    jwt_audience: str = "bloomwell-api"
    access_token_ttl_s: int = Field(default=900, gt=0)
    """Lifetime of issued access tokens; verifiers refuse tokens whose ``exp - iat`` is longer."""
    token_clock_skew_s: int = Field(default=30, ge=0)
    """How far in the future a token's ``iat``/``nbf`` may lie (clock differences between hosts)."""
    token_cache_s: float = Field(default=10.0, ge=0)
    """How long a verified token is remembered (revocation is still checked on every request)."""

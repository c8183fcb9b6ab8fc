"""RS256 access tokens: claims, verification against a JWKS, and key helpers."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import JWTError, jwt

ALGORITHM = "RS256"


class TokenError(Exception):
    """The token is missing, malformed, expired, or not signed by a key we trust."""


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    subject: uuid.UUID
    token_id: str
    expires_at: int


def generate_private_key_pem() -> str:
    """A new 2048-bit RSA private key in PKCS#8 PEM (for local runs and tests)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(private_key_pem: str) -> dict[str, str]:
    """The public half of ``private_key_pem`` as a JWK, with a stable ``kid`` (thumbprint-like)."""
    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    numbers = private_key.public_key().public_numbers()
    n, e = _b64url_uint(numbers.n), _b64url_uint(numbers.e)
    kid = hashlib.sha256(f"{e}.{n}".encode()).hexdigest()[:16]
    return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid, "n": n, "e": e}


def issue_access_token(
    private_key_pem: str, kid: str, subject: uuid.UUID, issuer: str, audience: str, ttl_s: int
) -> tuple[str, int]:
    """Sign an access token for ``subject``; returns the token and its lifetime in seconds."""
    now = int(time.time())
    claims = {
        "sub": str(subject),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "iss": issuer,
        "aud": audience,
        "typ": "access",
    }
    return jwt.encode(claims, private_key_pem, algorithm=ALGORITHM, headers={"kid": kid}), ttl_s


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksVerifier:
    """Verifies access tokens locally against the auth service's published JWKS.

    Keys are fetched once and re-fetched only when a token names an unknown ``kid`` (key rotation),
    at most once per ``refetch_interval_s``.
    """

    def __init__(self, fetch: JwksFetcher, issuer: str, audience: str, refetch_interval_s: float = 30.0):
        self._fetch = fetch
        self._issuer = issuer
        self._audience = audience
        self._keys: dict[str, dict[str, Any]] = {}
        self._last_fetch = 0.0
        self._refetch_interval_s = refetch_interval_s

    async def _refresh(self) -> None:
        jwks = await self._fetch()
        self._keys = {key["kid"]: key for key in jwks.get("keys", []) if "kid" in key}
        self._last_fetch = time.monotonic()

    async def _key_for(self, kid: str) -> dict[str, Any]:
        if kid not in self._keys and (
            not self._keys or time.monotonic() - self._last_fetch > self._refetch_interval_s
        ):
            await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenError("token signed by an unknown key") from None

    async def verify(self, token: str) -> AccessClaims:
        """Check signature, expiry, issuer, audience and type; return the claims."""
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise TokenError("malformed token") from exc
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise TokenError("unexpected token algorithm")
        key = await self._key_for(header["kid"])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require_exp": True, "require_iat": True, "require_sub": True, "require_jti": True},
            )
        except JWTError as exc:
            raise TokenError(str(exc) or "invalid token") from exc
        if claims.get("typ") != "access":
            raise TokenError("not an access token")
        try:
            subject = uuid.UUID(claims["sub"])
        except ValueError as exc:
            raise TokenError("invalid subject") from exc
        return AccessClaims(subject=subject, token_id=claims["jti"], expires_at=int(claims["exp"]))

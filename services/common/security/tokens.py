"""RS256 access tokens: claims, verification against a JWKS, and key helpers."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import JWTError, jwk, jwt
from jose.backends.base import Key

from services.common.security.settings import TokenSettings

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("aud", "iss", "exp", "iat", "sub", "jti")
"""A token missing any of these is refused, even when its signature is right."""


class TokenError(Exception):
    """The token is missing, malformed, expired, or not signed by a key we trust."""


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token.

    ``session_id`` is the refresh-token family the token was issued in (``sid``), so logging out of a
    session can end its access tokens too; None for tokens issued without one.
    """

    subject: uuid.UUID
    token_id: str
    expires_at: int
    issued_at: int
    session_id: str | None = None


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
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("the signing key must be an RSA private key")
    numbers = private_key.public_key().public_numbers()
    n, e = _b64url_uint(numbers.n), _b64url_uint(numbers.e)
    kid = hashlib.sha256(f"{e}.{n}".encode()).hexdigest()[:16]
    return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid, "n": n, "e": e}


def issue_access_token(
    private_key_pem: str,
    kid: str,
    subject: uuid.UUID,
    issuer: str,
    audience: str,
    ttl_s: int,
    session_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    """Sign an access token for ``subject``; returns the token and its lifetime in seconds."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(subject),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "iss": issuer,
        "aud": audience,
        "typ": "access",
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, private_key_pem, algorithm=ALGORITHM, headers={"kid": kid}), ttl_s


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class JwksVerifier:
    """Verifies access tokens locally against the auth service's published JWKS.

    Keys are fetched once, parsed once, and re-fetched only when a token names an unknown ``kid``
    (key rotation), at most once per ``refetch_interval_s``. Beyond signature, ``exp``, ``iss`` and
    ``aud``, every claim in :data:`REQUIRED_CLAIMS` must be present, ``iat`` may lie at most
    ``clock_skew_s`` in the future, and ``exp - iat`` may not exceed ``max_lifetime_s``.

    A successfully verified token is remembered for ``cache_s`` seconds (never past its ``exp``), so a
    client polling with the same token costs one RSA verification per ``cache_s``, not per request.
    Revocation (logout) is checked separately on every request, see ``revocation``.
    """

    @classmethod
    def for_settings(cls, fetch: JwksFetcher, settings: TokenSettings) -> JwksVerifier:
        """A verifier with the issuer, audience, lifetime, skew and cache that ``settings`` configure."""
        return cls(fetch, settings.jwt_issuer, settings.jwt_audience, max_lifetime_s=settings.access_token_ttl_s,
                   clock_skew_s=settings.token_clock_skew_s, cache_s=settings.token_cache_s)

    def __init__(
        self,
        fetch: JwksFetcher,
        issuer: str,
        audience: str,
        *,
        max_lifetime_s: int,
        clock_skew_s: int = 30,
        refetch_interval_s: float = 30.0,
        cache_s: float = 10.0,
        cache_size: int = 4096,
    ):
        self._fetch = fetch
        self._issuer = issuer
        self._audience = audience
        self._max_lifetime_s = max_lifetime_s
        self._clock_skew_s = clock_skew_s
        self._keys: dict[str, Key] = {}
        self._last_fetch = 0.0
        self._refetch_interval_s = refetch_interval_s
        self._cache_s = cache_s
        self._cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, AccessClaims]] = OrderedDict()

    async def _refresh(self) -> None:
        jwks = await self._fetch()
        keys: dict[str, Key] = {}
        for entry in jwks.get("keys", []):
            if isinstance(entry, dict) and isinstance(entry.get("kid"), str):
                try:
                    keys[entry["kid"]] = jwk.construct(entry, ALGORITHM)
                except JWTError:
                    continue
        self._keys = keys
        self._last_fetch = time.monotonic()

    async def _key_for(self, kid: str) -> Key:
        if kid not in self._keys and (
            not self._keys or time.monotonic() - self._last_fetch > self._refetch_interval_s
        ):
            await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenError("token signed by an unknown key") from None

    def _cached(self, token: str) -> AccessClaims | None:
        hit = self._cache.get(token)
        if hit is None:
            return None
        valid_until, claims = hit
        if time.time() >= valid_until:
            self._cache.pop(token, None)
            return None
        self._cache.move_to_end(token)
        return claims

    def _remember(self, token: str, claims: AccessClaims) -> None:
        if self._cache_s <= 0:
            return
        self._cache[token] = (min(time.time() + self._cache_s, float(claims.expires_at)), claims)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def verify(self, token: str) -> AccessClaims:
        """Check signature, required claims, expiry, issuer, audience, issue time and type; return the claims."""
        cached = self._cached(token)
        if cached is not None:
            return cached
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
                # nbf is checked below with the clock skew; exp gets no leeway
                options={f"require_{name}": True for name in REQUIRED_CLAIMS} | {"verify_nbf": False},
            )
        except JWTError as exc:
            raise TokenError(str(exc) or "invalid token") from exc
        verified = self._check_claims(claims)
        self._remember(token, verified)
        return verified

    def _check_claims(self, claims: dict[str, Any]) -> AccessClaims:
        if claims.get("typ") != "access":
            raise TokenError("not an access token")
        issued_at, expires_at = claims["iat"], claims["exp"]
        if not isinstance(issued_at, int) or not isinstance(expires_at, int):
            raise TokenError("iat and exp must be integers")
        latest = time.time() + self._clock_skew_s
        if issued_at > latest:
            raise TokenError("token issued in the future")
        not_before = claims.get("nbf", issued_at)
        if not isinstance(not_before, int) or not_before > latest:
            raise TokenError("token not valid yet")
        if expires_at - issued_at > self._max_lifetime_s:
            raise TokenError("token lifetime is longer than allowed")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise TokenError("invalid token id")
        session_id = claims.get("sid")
        if session_id is not None and not isinstance(session_id, str):
            raise TokenError("invalid session id")
        try:
            subject = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise TokenError("invalid subject") from exc
        return AccessClaims(
            subject=subject,
            token_id=claims["jti"],
            expires_at=expires_at,
            issued_at=issued_at,
            session_id=session_id,
        )

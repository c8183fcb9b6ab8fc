"""FastAPI dependencies of the auth service (``SettingsDep``, ``CurrentUser`` ...; ``SessionDep`` and ``RedisDep``
come from ``services.common.deps``, shared with the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from services.auth import messages, service
from services.auth.config import AuthSettings
from services.auth.passwords import PasswordHasher
from services.auth.throttle import Throttle
from services.common.deps import SessionDep
from services.common.models import User
from services.common.security import revocation
from services.common.security.tokens import AccessClaims, JwksVerifier, TokenError

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_settings(request: Request) -> AuthSettings:
    """The running app's settings."""
    settings: AuthSettings = request.app.state.settings
    return settings


def get_hasher(request: Request) -> PasswordHasher:
    """The process's bounded password hasher."""
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


def get_throttle(request: Request) -> Throttle:
    """Sign-in and signup limits."""
    throttle: Throttle = request.app.state.throttle
    return throttle


def client_address(request: Request) -> str:
    """The caller's address (``X-Forwarded-For`` is believed only from ``TRUSTED_PROXIES``)."""
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[AuthSettings, Depends(get_settings)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]
AddressDep = Annotated[str, Depends(client_address)]

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail=messages.NOT_AUTHENTICATED,
    headers={"WWW-Authenticate": "Bearer"},
)


async def verified_claims(request: Request, token: str) -> AccessClaims:
    """The claims of a valid, unrevoked access token; 401 otherwise, 503 when revocation cannot be checked."""
    verifier: JwksVerifier = request.app.state.verifier
    try:
        claims = await verifier.verify(token)
    except TokenError:
        raise UNAUTHORIZED from None
    try:
        revoked = await revocation.is_revoked(request.app.state.redis, claims)
    except Exception as exc:  # noqa: BLE001 - Redis down: refuse rather than accept a revoked token
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=messages.UNAVAILABLE) from exc
    if revoked:
        raise UNAUTHORIZED
    return claims


async def get_optional_claims(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims | None:
    """The caller's access token claims if it sent a valid one, else None (never an error)."""
    if not token:
        return None
    try:
        return await verified_claims(request, token)
    except HTTPException:
        return None


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The user named by a valid access token."""
    if not token:
        raise UNAUTHORIZED
    claims = await verified_claims(request, token)
    user = await service.get_user(session, claims.subject)
    if user is None:
        raise UNAUTHORIZED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalClaims = Annotated[AccessClaims | None, Depends(get_optional_claims)]

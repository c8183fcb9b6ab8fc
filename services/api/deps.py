"""FastAPI dependencies of the gateway (``SessionDep``, ``SettingsDep``, ``CurrentUserId`` ...)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.config import ApiSettings
from services.common.security.tokens import JwksVerifier, TokenError
from services.common.storage import Storage

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request."""
    async with request.app.state.sessionmaker() as session:
        yield session


def get_settings(request: Request) -> ApiSettings:
    """The running app's settings."""
    return request.app.state.settings


def get_storage(request: Request) -> Storage:
    """File storage for uploads and crops."""
    return request.app.state.storage


def get_redis(request: Request) -> aioredis.Redis:
    """The shared asyncio Redis client."""
    return request.app.state.redis


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
RedisDep = Annotated[aioredis.Redis, Depends(get_redis)]


def _unauthorized(detail: str = "Not authenticated. Please log in.") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def verify_token(verifier: JwksVerifier, token: str | None) -> uuid.UUID:
    """The user id in a valid access token; 401 otherwise."""
    if not token:
        raise _unauthorized()
    try:
        return (await verifier.verify(token)).subject
    except TokenError:
        raise _unauthorized("Your session has expired or is invalid. Please log in again.") from None


async def get_current_user_id(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> uuid.UUID:
    """The caller, from ``Authorization: Bearer``; verified locally against the auth service's JWKS."""
    return await verify_token(request.app.state.verifier, credentials.credentials if credentials else None)


async def get_push_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    access_token: Annotated[str | None, Query(description="for EventSource, which cannot send headers")] = None,
) -> uuid.UUID:
    """Like :func:`get_current_user_id`, also accepting ``?access_token=`` (EventSource cannot set headers)."""
    token = credentials.credentials if credentials else access_token
    return await verify_token(request.app.state.verifier, token)


CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]
PushUserId = Annotated[uuid.UUID, Depends(get_push_user_id)]

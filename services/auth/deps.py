"""FastAPI dependencies of the auth service (``SessionDep``, ``SettingsDep``, ``CurrentUser``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import service
from services.auth.config import AuthSettings
from services.common.models import User
from services.common.security.tokens import JwksVerifier, TokenError

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request."""
    async with request.app.state.sessionmaker() as session:
        yield session


def get_settings(request: Request) -> AuthSettings:
    """The running app's settings."""
    return request.app.state.settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[AuthSettings, Depends(get_settings)]

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated. Please log in.",
    headers={"WWW-Authenticate": "Bearer"},
)


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The user named by a valid access token."""
    if not token:
        raise UNAUTHORIZED
    verifier: JwksVerifier = request.app.state.verifier
    try:
        claims = await verifier.verify(token)
    except TokenError:
        raise UNAUTHORIZED from None
    user = await service.get_user(session, claims.subject)
    if user is None:
        raise UNAUTHORIZED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

"""HTTP routes of the auth service (thin: validation in schemas, logic in ``service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from services.auth import service
from services.auth.deps import CurrentUser, SessionDep, SettingsDep
from services.auth.schemas import LoginIn, RefreshIn, SignupIn, TokenPair, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def signup(body: SignupIn, session: SessionDep) -> UserOut:
    """Create an account."""
    return UserOut.model_validate(await service.create_user(session, body))


@router.post("/login", response_model=TokenPair)
async def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Exchange e-mail and password for an access token and a refresh token."""
    user = await service.authenticate(session, body.email, body.password)
    return await service.issue_token_pair(session, settings, user.id)


@router.post("/token", response_model=TokenPair, include_in_schema=True)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """OAuth2 password flow (``username`` = e-mail), for the OpenAPI "Authorize" button."""
    user = await service.authenticate(session, form.username, form.password)
    return await service.issue_token_pair(session, settings, user.id)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Rotate a refresh token: the old one is spent, a new pair is returned."""
    return await service.rotate_refresh_token(session, settings, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, session: SessionDep) -> Response:
    """End the session the refresh token belongs to."""
    await service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    """The logged-in user."""
    return UserOut.model_validate(user)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(user: CurrentUser, session: SessionDep) -> Response:
    """Delete the account and everything it owns."""
    await service.delete_user(session, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwks.json")
async def jwks(settings: SettingsDep) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens (RS256)."""
    return {"keys": [settings.jwk]}

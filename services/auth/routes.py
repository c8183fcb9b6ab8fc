"""HTTP routes of the auth service (thin: validation in schemas, logic in ``service``, limits in ``throttle``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from services.auth import service
from services.auth.deps import (
    AddressDep,
    CurrentUser,
    HasherDep,
    OptionalClaims,
    SettingsDep,
    ThrottleDep,
)
from services.auth.schemas import LoginIn, RefreshIn, SignupIn, TokenPair, UserOut
from services.common.deps import RedisDep, SessionDep
from services.common.security.sanitize import strip_control

router = APIRouter(prefix="/auth", tags=["auth"])

THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many attempts; `Retry-After` says how many seconds to wait"},
    503: {"description": "Too many password checks in progress; retry shortly"},
}


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=UserOut, responses=THROTTLED)
async def signup(
    body: SignupIn, session: SessionDep, hasher: HasherDep, throttle: ThrottleDep, address: AddressDep
) -> UserOut:
    """Create an account."""
    await throttle.check_signup(address)
    return UserOut.model_validate(await service.create_user(session, hasher, body))


async def _login(
    email: str, password: str, session: SessionDep, settings: SettingsDep, hasher: HasherDep,
    throttle: ThrottleDep, address: str,
) -> TokenPair:
    email = service.normalise_email(strip_control(email))
    await throttle.check_login(address, email)
    user = await service.authenticate(session, hasher, email, password)
    await throttle.login_succeeded(email)
    return await service.issue_token_pair(session, settings, user.id)


@router.post("/login", response_model=TokenPair, responses=THROTTLED)
async def login(
    body: LoginIn, session: SessionDep, settings: SettingsDep, hasher: HasherDep, throttle: ThrottleDep,
    address: AddressDep,
) -> TokenPair:
    """Exchange e-mail and password for an access token and a refresh token."""
    return await _login(body.email, body.password, session, settings, hasher, throttle, address)


@router.post("/token", response_model=TokenPair, include_in_schema=True, responses=THROTTLED)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep,
    hasher: HasherDep, throttle: ThrottleDep, address: AddressDep,
) -> TokenPair:
    """OAuth2 password flow (``username`` = e-mail), for the OpenAPI "Authorize" button."""
    return await _login(form.username, form.password, session, settings, hasher, throttle, address)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, session: SessionDep, redis: RedisDep, settings: SettingsDep) -> TokenPair:
    """Rotate a refresh token: the old one is spent, a new pair is returned."""
    return await service.rotate_refresh_token(session, redis, settings, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    body: RefreshIn, session: SessionDep, redis: RedisDep, settings: SettingsDep, access: OptionalClaims
) -> Response:
    """End the session the refresh token belongs to; its access tokens stop working at once."""
    await service.logout(session, redis, settings, body.refresh_token, access)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    """The logged-in user."""
    return UserOut.model_validate(user)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(user: CurrentUser, session: SessionDep, redis: RedisDep, settings: SettingsDep) -> Response:
    """Delete the account and everything it owns; every access token issued to it stops working."""
    await service.delete_user(session, redis, settings, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/.well-known/jwks.json")
async def jwks(settings: SettingsDep) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens (RS256)."""
    return {"keys": [settings.jwk]}

"""Request and response bodies of the auth service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

from services.common.security.sanitize import strip_control

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def _check_password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise PydanticCustomError(
            "password_too_short",
            "Password must be at least {min} characters long.",
            {"min": MIN_PASSWORD_LENGTH},
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise PydanticCustomError(
            "password_too_long",
            "Password must be at most {max} characters long.",
            {"max": MAX_PASSWORD_LENGTH},
        )
    if not value.strip():
        raise PydanticCustomError("password_blank", "Password cannot be only spaces.")
    return value


NewPassword = Annotated[str, AfterValidator(_check_password)]
def _clean(value: object) -> object:
    return strip_control(value) if isinstance(value, str) else value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), BeforeValidator(_clean)]
"""A person's name: control characters removed, then surrounding spaces, then 1-100 characters."""


class SignupIn(BaseModel):
    """``POST /auth/signup``."""

    email: EmailStr
    password: NewPassword
    first_name: Name
    last_name: Name


class UserOut(BaseModel):
    """A user as returned to its owner."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    created_at: datetime


class LoginIn(BaseModel):
    """``POST /auth/login``."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class RefreshIn(BaseModel):
    """``POST /auth/refresh`` and ``POST /auth/logout``."""

    refresh_token: str = Field(min_length=10, max_length=200)


class TokenPair(BaseModel):
    """Tokens issued at login and on refresh."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int

"""Auth service through the gateway's /auth proxy, against the real PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import RefreshToken, User
from tests.conftest import auth_header, signup_and_login

pytestmark = pytest.mark.integration

SIGNUP = {"email": "Ada.Lovelace@Example.org", "password": "analytical-engine", "first_name": "Ada", "last_name": "L"}


async def test_signup_returns_user_without_secrets(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/signup", json=SIGNUP)
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada.lovelace@example.org"
    assert set(body) == {"id", "email", "first_name", "last_name", "created_at"}


async def test_password_is_stored_hashed(client: httpx.AsyncClient, db_session: AsyncSession) -> None:
    await client.post("/auth/signup", json=SIGNUP)
    user = await db_session.scalar(select(User).where(User.email == "ada.lovelace@example.org"))
    assert user is not None
    assert SIGNUP["password"] not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


async def test_duplicate_email_is_409_case_insensitive(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/signup", json=SIGNUP)).status_code == 201
    again = await client.post("/auth/signup", json={**SIGNUP, "email": "ADA.LOVELACE@example.org"})
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("email", "not-an-email", "email"),
        ("password", "short", "at least 8 characters"),
        ("first_name", "   ", "at least 1 character"),
    ],
)
async def test_invalid_signup_is_422_with_actionable_message(
    client: httpx.AsyncClient, field: str, value: str, fragment: str
) -> None:
    response = await client.post("/auth/signup", json={**SIGNUP, field: value})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in error["loc"] and fragment in error["msg"] for error in errors), errors


async def test_login_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await client.post("/auth/signup", json=SIGNUP)
    wrong = await client.post("/auth/login", json={"email": SIGNUP["email"], "password": "wrong-password"})
    unknown = await client.post("/auth/login", json={"email": "nobody@example.org", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_login_issues_rs256_token_with_required_claims(client: httpx.AsyncClient) -> None:
    from jose import jwt

    user = await signup_and_login(client)
    token = user["Authorization"].split()[1]
    header = jwt.get_unverified_header(token)
    claims = jwt.get_unverified_claims(token)
    assert header["alg"] == "RS256" and header["kid"]
    assert {"sub", "exp", "iat", "jti", "iss", "aud"} <= set(claims)
    jwks = (await client.get("/auth/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [header["kid"]]
    assert "d" not in jwks["keys"][0]  # never the private part


async def test_oauth2_password_form(client: httpx.AsyncClient) -> None:
    await client.post("/auth/signup", json=SIGNUP)
    response = await client.post("/auth/token", data={"username": SIGNUP["email"], "password": SIGNUP["password"]})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_me_requires_valid_token(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    assert (await client.get("/auth/me", headers=auth_header(user))).json()["email"] == user["email"]
    assert (await client.get("/auth/me")).status_code == 401
    assert (await client.get("/auth/me", headers={"Authorization": "Bearer nonsense"})).status_code == 401


async def test_refresh_rotates_and_reuse_revokes_family(client: httpx.AsyncClient, db_session: AsyncSession) -> None:
    user = await signup_and_login(client)
    first = user["refresh_token"]
    rotated = await client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first

    reuse = await client.post("/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    # the thief's reuse also killed the legitimate newer token
    assert (await client.post("/auth/refresh", json={"refresh_token": second})).status_code == 401
    owner = await db_session.scalar(select(User.id).where(User.email == user["email"]))
    tokens = (await db_session.scalars(select(RefreshToken).where(RefreshToken.user_id == owner))).all()
    assert tokens and all(token.revoked_at is not None for token in tokens)
    assert all(len(token.token_hash) == 64 and token.token_hash not in (first, second) for token in tokens)


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    assert (await client.post("/auth/logout", json={"refresh_token": user["refresh_token"]})).status_code == 204
    assert (await client.post("/auth/refresh", json={"refresh_token": user["refresh_token"]})).status_code == 401


async def test_delete_me_removes_account(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    assert (await client.delete("/auth/me", headers=auth_header(user))).status_code == 204
    login = await client.post("/auth/login", json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 401

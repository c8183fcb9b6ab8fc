"""Sign-in abuse: throttled per address and per account before any hash, bounded hashing, revocation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.config import ApiSettings
from services.auth import service
from services.auth.config import AuthSettings
from services.auth.passwords import HasherBusy, PasswordHasher
from services.auth.schemas import SignupIn
from tests.conftest import _client_for, auth_header, signup_and_login

pytestmark = pytest.mark.integration


@pytest.fixture
async def throttled(auth_settings: AuthSettings, api_settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Gateway + auth with tight limits (committing: requests run in parallel); each test uses
    addresses and accounts of its own, so their counters do not meet."""
    settings = auth_settings.model_copy(
        update={
            "login_rate_limit_per_address": "8/minute",
            "login_rate_limit_per_account": "5/10 minutes",
            "signup_rate_limit_per_address": "3/hour",
        }
    )
    async for client in _client_for(settings, api_settings, None):
        yield client


def from_address(address: str) -> dict[str, str]:
    """Requests look as if they came from ``address`` (the test transport is a trusted proxy)."""
    return {"X-Forwarded-For": address}


def fresh_address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"


async def test_password_guessing_gets_429_before_any_hash(throttled: httpx.AsyncClient) -> None:
    """The review's attack: 200 wrong passwords for one account from one client, 10 in parallel."""
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    email = f"victim-{uuid.uuid4().hex[:8]}@bloomwell.dev"
    signup = {"email": email, "password": "correct horse battery", "first_name": "V", "last_name": "T"}
    assert (await throttled.post("/auth/signup", json=signup, headers=from_address(address))).status_code == 201
    statuses: list[int] = []
    retry_after: set[str] = set()
    semaphore = asyncio.Semaphore(10)

    async def attempt(i: int) -> None:
        async with semaphore:
            response = await throttled.post(
                "/auth/login", json={"email": email, "password": f"guess-{i:04d}"}, headers=from_address(address)
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.add(response.headers["retry-after"])
                assert "Too many sign-in attempts" in response.json()["detail"]

    await asyncio.gather(*(attempt(i) for i in range(200)))
    assert statuses.count(401) == 5  # the per-account limit: only these were hashed
    assert statuses.count(429) == 195
    assert all(int(value) > 0 for value in retry_after)
    # the real owner, from another network, is still held back for this account until the window passes
    response = await throttled.post(
        "/auth/login", json={"email": email, "password": signup["password"]}, headers=from_address(fresh_address())
    )
    assert response.status_code == 429


async def test_per_address_limit_spans_accounts(throttled: httpx.AsyncClient) -> None:
    address = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    statuses = []
    for i in range(10):
        response = await throttled.post(
            "/auth/token",
            data={"username": f"nobody-{i}-{uuid.uuid4().hex[:6]}@bloomwell.dev", "password": "whatever-it-is"},
            headers=from_address(address),
        )
        statuses.append(response.status_code)
    assert statuses[:8] == [401] * 8 and statuses[8:] == [429, 429]
    # another address is not affected
    response = await throttled.post(
        "/auth/login",
        json={"email": "x@bloomwell.dev", "password": "whatever-it-is"},
        headers=from_address("192.0.2.254"),
    )
    assert response.status_code == 401


async def test_a_correct_password_clears_the_account_count(throttled: httpx.AsyncClient) -> None:
    address = fresh_address()
    user = await signup_and_login(throttled)
    for _ in range(3):
        wrong = {"email": user["email"], "password": "not-the-password"}
        assert (await throttled.post("/auth/login", json=wrong, headers=from_address(address))).status_code == 401
    right = {"email": user["email"], "password": user["password"]}
    assert (await throttled.post("/auth/login", json=right, headers=from_address(address))).status_code == 200
    address = fresh_address()
    for _ in range(5):  # a fresh allowance of 5 after the success
        wrong = {"email": user["email"], "password": "not-the-password"}
        assert (await throttled.post("/auth/login", json=wrong, headers=from_address(address))).status_code == 401


async def test_signup_is_throttled_per_address(throttled: httpx.AsyncClient) -> None:
    address = fresh_address()
    statuses = []
    for _ in range(4):
        body = {"email": f"s-{uuid.uuid4().hex[:8]}@bloomwell.dev", "password": "a-long-password",
                "first_name": "S", "last_name": "T"}
        statuses.append((await throttled.post("/auth/signup", json=body, headers=from_address(address))).status_code)
    assert statuses == [201, 201, 201, 429]


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(concurrency=1, max_waiting=4)
        self.hashed = 0

    async def hash(self, password: str) -> str:
        self.hashed += 1
        return await super().hash(password)


async def test_signup_of_a_taken_address_costs_a_hash_too(db_session: AsyncSession) -> None:
    """Equal work whether or not the address is taken, so timing does not reveal it (the 409 does, by design)."""
    hasher = CountingHasher()
    data = SignupIn(email=f"t-{uuid.uuid4().hex[:8]}@bloomwell.dev", password="a-long-password",
                    first_name="T", last_name="T")
    await service.create_user(db_session, hasher, data)
    with pytest.raises(service.EmailAlreadyRegistered):
        await service.create_user(db_session, hasher, data)
    assert hasher.hashed == 2


async def test_the_hasher_refuses_work_beyond_its_bound() -> None:
    hasher = PasswordHasher(concurrency=1, max_waiting=1)
    results = await asyncio.gather(*(hasher.hash("a-long-password") for _ in range(4)), return_exceptions=True)
    busy = [r for r in results if isinstance(r, HasherBusy)]
    done = [r for r in results if isinstance(r, str)]
    assert len(done) == 2 and len(busy) == 2  # one running, one waiting, the rest refused at once
    assert await hasher.verify("a-long-password", done[0])


async def test_busy_hasher_answers_503_with_retry_after(committing_client: httpx.AsyncClient) -> None:
    client = committing_client
    auth_app = client.app.state.auth_client._transport.app  # type: ignore[attr-defined]
    app_state = auth_app.state
    original = app_state.hasher
    app_state.hasher = PasswordHasher(concurrency=1, max_waiting=0)
    try:
        responses = await asyncio.gather(
            *(client.post("/auth/login", json={"email": f"b{i}@bloomwell.dev", "password": "whatever-it-is"})
              for i in range(4))
        )
    finally:
        app_state.hasher = original
    codes = sorted(r.status_code for r in responses)
    assert 503 in codes and 401 in codes
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"


async def test_logout_ends_the_access_token_too(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    assert (await client.get("/auth/me", headers=auth_header(user))).status_code == 200
    assert (await client.get("/v1/analyses", headers=auth_header(user))).status_code == 200
    response = await client.post("/auth/logout", json={"refresh_token": user["refresh_token"]})
    assert response.status_code == 204
    assert (await client.get("/auth/me", headers=auth_header(user))).status_code == 401
    assert (await client.get("/v1/analyses", headers=auth_header(user))).status_code == 401


async def test_logout_with_the_access_token_denies_it_even_without_a_session(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    response = await client.post(
        "/auth/logout", json={"refresh_token": "unknown-refresh-token"}, headers=auth_header(user)
    )
    assert response.status_code == 204
    assert (await client.get("/v1/analyses", headers=auth_header(user))).status_code == 401


async def test_refresh_token_reuse_ends_the_sessions_access_tokens(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    rotated = (await client.post("/auth/refresh", json={"refresh_token": user["refresh_token"]})).json()
    new_header = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await client.get("/v1/analyses", headers=new_header)).status_code == 200
    reuse = await client.post("/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert reuse.status_code == 401
    assert (await client.get("/v1/analyses", headers=new_header)).status_code == 401
    assert (await client.get("/v1/analyses", headers=auth_header(user))).status_code == 401


async def test_other_sessions_survive_a_logout(client: httpx.AsyncClient) -> None:
    user = await signup_and_login(client)
    second = (await client.post("/auth/login", json={"email": user["email"], "password": user["password"]})).json()
    await client.post("/auth/logout", json={"refresh_token": user["refresh_token"]})
    other = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get("/v1/analyses", headers=other)).status_code == 200

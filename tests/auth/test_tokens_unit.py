"""Token verification logic (pure: keys generated in memory)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from jose import jwt

from services.common.security.tokens import (
    JwksVerifier,
    TokenError,
    generate_private_key_pem,
    issue_access_token,
    public_jwk,
)

ISS, AUD = "bloomwell-auth", "bloomwell-api"


@pytest.fixture(scope="module")
def key() -> str:
    return generate_private_key_pem()


def verifier_for(*pems: str) -> JwksVerifier:
    async def fetch() -> dict:
        return {"keys": [public_jwk(pem) for pem in pems]}

    return JwksVerifier(fetch, ISS, AUD, max_lifetime_s=900, clock_skew_s=30)


async def test_valid_token_round_trip(key: str) -> None:
    subject = uuid.uuid4()
    token, ttl = issue_access_token(key, public_jwk(key)["kid"], subject, ISS, AUD, 60)
    claims = await verifier_for(key).verify(token)
    assert claims.subject == subject and ttl == 60


async def test_token_signed_by_another_key_is_rejected(key: str) -> None:
    other = generate_private_key_pem()
    token, _ = issue_access_token(other, public_jwk(key)["kid"], uuid.uuid4(), ISS, AUD, 60)
    with pytest.raises(TokenError):
        await verifier_for(key).verify(token)


async def test_expired_token_is_rejected(key: str) -> None:
    token, _ = issue_access_token(key, public_jwk(key)["kid"], uuid.uuid4(), ISS, AUD, -10)
    with pytest.raises(TokenError):
        await verifier_for(key).verify(token)


@pytest.mark.parametrize(("iss", "aud"), [("someone-else", AUD), (ISS, "another-api")])
async def test_wrong_issuer_or_audience_is_rejected(key: str, iss: str, aud: str) -> None:
    token, _ = issue_access_token(key, public_jwk(key)["kid"], uuid.uuid4(), iss, aud, 60)
    with pytest.raises(TokenError):
        await verifier_for(key).verify(token)


async def test_hs256_token_with_public_key_as_secret_is_rejected(key: str) -> None:
    jwk = public_jwk(key)
    now = int(time.time())
    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "exp": now + 60, "iat": now, "jti": "x", "iss": ISS, "aud": AUD, "typ": "access"},
        jwk["n"],
        algorithm="HS256",
        headers={"kid": jwk["kid"]},
    )
    with pytest.raises(TokenError):
        await verifier_for(key).verify(forged)


async def test_rotated_key_is_fetched_again(key: str) -> None:
    new_key = generate_private_key_pem()
    keys = [key]

    async def fetch() -> dict:
        return {"keys": [public_jwk(pem) for pem in keys]}

    verifier = JwksVerifier(fetch, ISS, AUD, max_lifetime_s=900, refetch_interval_s=0)
    old, _ = issue_access_token(key, public_jwk(key)["kid"], uuid.uuid4(), ISS, AUD, 60)
    await verifier.verify(old)
    keys.append(new_key)
    new, _ = issue_access_token(new_key, public_jwk(new_key)["kid"], uuid.uuid4(), ISS, AUD, 60)
    assert (await verifier.verify(new)).subject


def _signed(key: str, **overrides: object) -> str:
    """A token signed by ``key`` with the usual claims, some replaced or removed (value None)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 60, "jti": uuid.uuid4().hex,
        "iss": ISS, "aud": AUD, "typ": "access",
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": public_jwk(key)["kid"]})


async def test_a_well_formed_hand_signed_token_is_accepted(key: str) -> None:
    assert (await verifier_for(key).verify(_signed(key))).token_id


@pytest.mark.parametrize("missing", ["aud", "iss", "exp", "iat", "sub", "jti"])
async def test_a_token_missing_a_required_claim_is_rejected(key: str, missing: str) -> None:
    with pytest.raises(TokenError):
        await verifier_for(key).verify(_signed(key, **{missing: None}))


async def test_iat_in_the_future_beyond_the_skew_is_rejected(key: str) -> None:
    now = int(time.time())
    verifier = verifier_for(key)
    assert await verifier.verify(_signed(key, iat=now + 10, nbf=now + 10, exp=now + 70))  # within 30 s skew
    with pytest.raises(TokenError, match="future"):
        await verifier.verify(_signed(key, iat=now + 120, nbf=None, exp=now + 180))


async def test_lifetime_longer_than_configured_is_rejected(key: str) -> None:
    now = int(time.time())
    with pytest.raises(TokenError, match="lifetime"):
        await verifier_for(key).verify(_signed(key, exp=now + 901))


async def test_verified_tokens_are_cached_but_not_past_expiry(key: str) -> None:
    calls = 0

    async def fetch() -> dict:
        nonlocal calls
        calls += 1
        return {"keys": [public_jwk(key)]}

    verifier = JwksVerifier(fetch, ISS, AUD, max_lifetime_s=900, cache_s=60)
    now = int(time.time())
    token = _signed(key, exp=now + 2)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # served from the cache
    assert verifier._cached(token) is first
    await asyncio.sleep(max(0.0, now + 3.1 - time.time()))  # a whole second past exp, whatever the rounding
    assert verifier._cached(token) is None  # never beyond exp
    with pytest.raises(TokenError):
        await verifier.verify(token)
    assert calls == 1  # the parsed key is kept

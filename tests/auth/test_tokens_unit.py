"""Token verification logic (pure: keys generated in memory)."""

from __future__ import annotations

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

    return JwksVerifier(fetch, ISS, AUD)


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

    verifier = JwksVerifier(fetch, ISS, AUD, refetch_interval_s=0)
    old, _ = issue_access_token(key, public_jwk(key)["kid"], uuid.uuid4(), ISS, AUD, 60)
    await verifier.verify(old)
    keys.append(new_key)
    new, _ = issue_access_token(new_key, public_jwk(new_key)["kid"], uuid.uuid4(), ISS, AUD, 60)
    assert (await verifier.verify(new)).subject

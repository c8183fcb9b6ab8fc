"""Ending access tokens before their ``exp``: a Redis denylist written by auth, read by every verifier.

Three kinds of entry, each kept only until the tokens it concerns would have expired anyway:

* ``jti`` — one token (logout with an access token at hand);
* ``sid`` — every token of one session, i.e. one refresh-token family (logout, refresh-token reuse);
* ``user`` — every token of a user issued up to a moment (account deletion).

A verifier asks once per request with one ``MGET``. If Redis cannot be reached the answer is an error,
never "not revoked": callers answer 503 rather than let a logged-out token through.
"""

from __future__ import annotations

import time
import uuid

import redis.asyncio as aioredis

from services.common.security.tokens import AccessClaims

PREFIX = "bloomwell:revoked:"


def _jti_key(token_id: str) -> str:
    return f"{PREFIX}jti:{token_id}"


def _sid_key(session_id: str) -> str:
    return f"{PREFIX}sid:{session_id}"


def _user_key(user_id: uuid.UUID | str) -> str:
    return f"{PREFIX}user:{user_id}"


def _ttl(until: float) -> int:
    return max(1, int(until - time.time()) + 1)


async def revoke_token(redis: aioredis.Redis, claims: AccessClaims) -> None:
    """Deny one access token until its ``exp``."""
    await redis.set(_jti_key(claims.token_id), "1", ex=_ttl(claims.expires_at))


async def revoke_session(redis: aioredis.Redis, session_id: uuid.UUID | str, max_token_lifetime_s: int) -> None:
    """Deny every access token of a session (refresh-token family) issued so far."""
    await redis.set(_sid_key(str(session_id)), "1", ex=max_token_lifetime_s + 60)


async def revoke_user(redis: aioredis.Redis, user_id: uuid.UUID, max_token_lifetime_s: int) -> None:
    """Deny every access token of ``user_id`` issued up to now (account deletion)."""
    await redis.set(_user_key(user_id), str(int(time.time())), ex=max_token_lifetime_s + 60)


async def is_revoked(redis: aioredis.Redis, claims: AccessClaims) -> bool:
    """True when the token, its session or its user was revoked (one round trip)."""
    keys = [_jti_key(claims.token_id), _user_key(claims.subject)]
    if claims.session_id:
        keys.append(_sid_key(claims.session_id))
    values = await redis.mget(keys)
    jti, user_cutoff = values[0], values[1]
    if jti is not None or (len(values) > 2 and values[2] is not None):
        return True
    return user_cutoff is not None and claims.issued_at <= int(user_cutoff)

"""Stream tickets: short-lived, single-use credentials for ``EventSource`` and ``WebSocket``.

Browsers cannot put an ``Authorization`` header on those, and an access token in the URL ends up in
access logs and browser history. So the client asks ``POST /v1/analyses/{id}/events/ticket`` (with its
bearer token) for a ticket scoped to that analysis and user, then opens the stream with ``?ticket=``.
Only the ticket's SHA-256 is stored in Redis; redeeming it deletes it (``GETDEL``), so a logged URL is
useless even within its lifetime once the stream has opened.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid

import redis.asyncio as aioredis

PREFIX = "bloomwell:stream-ticket:"


class TicketInvalid(Exception):
    """Unknown, expired or already used ticket."""


class TicketForAnotherAnalysis(Exception):
    """The ticket is valid but was issued for a different analysis."""


def _key(ticket: str) -> str:
    return PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


async def issue(redis: aioredis.Redis, user_id: uuid.UUID, analysis_id: uuid.UUID, ttl_s: int) -> str:
    """A new ticket for ``user_id`` to follow ``analysis_id``, valid once within ``ttl_s`` seconds."""
    ticket = secrets.token_urlsafe(32)
    value = json.dumps({"user_id": str(user_id), "analysis_id": str(analysis_id)})
    await redis.set(_key(ticket), value, ex=ttl_s)
    return ticket


async def redeem(redis: aioredis.Redis, ticket: str, analysis_id: uuid.UUID) -> uuid.UUID:
    """Spend ``ticket`` for ``analysis_id`` and return the user it was issued to."""
    if not ticket or len(ticket) > 128:
        raise TicketInvalid
    raw = await redis.getdel(_key(ticket))
    if raw is None:
        raise TicketInvalid
    scope = json.loads(raw)
    if scope.get("analysis_id") != str(analysis_id):
        raise TicketForAnotherAnalysis
    return uuid.UUID(scope["user_id"])

"""FastAPI dependencies of the gateway (``SettingsDep``, ``CurrentUserId`` ...; ``SessionDep`` and ``RedisDep``
come from ``services.common.deps``, shared with the auth service)."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api import messages, tickets
from services.api.config import ApiSettings
from services.common.celery_app import AnalysisQueue
from services.common.security import revocation
from services.common.security.tokens import AccessClaims, JwksVerifier, TokenError
from services.common.storage import Storage

logger = logging.getLogger("bloomwell.api.auth")

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


def get_settings(request: Request) -> ApiSettings:
    """The running app's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


def get_storage(request: Request) -> Storage:
    """File storage for uploads and crops."""
    storage: Storage = request.app.state.storage
    return storage


def get_analysis_queue(request: Request) -> AnalysisQueue:
    """Where uploads are queued for the inference worker."""
    queue: AnalysisQueue = request.app.state.analysis_queue
    return queue


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
AnalysisQueueDep = Annotated[AnalysisQueue, Depends(get_analysis_queue)]


class AuthFailure(Exception):
    """Why a push connection was refused: ``status`` for HTTP, ``close_code`` for WebSocket."""

    def __init__(self, status_code: int, close_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.close_code = close_code
        self.detail = detail

    def as_http(self) -> HTTPException:
        """The same refusal as an HTTP error."""
        headers = {"WWW-Authenticate": "Bearer"} if self.status_code == 401 else None
        return HTTPException(self.status_code, detail=self.detail, headers=headers)


WS_UNAUTHORIZED, WS_FORBIDDEN, WS_NOT_FOUND, WS_UNAVAILABLE = 4401, 4403, 4404, 4503
"""WebSocket close codes for refusals (mirroring 401/403/404/503); see docs/CONTRACTS.md."""


async def claims_for(verifier: JwksVerifier, redis: aioredis.Redis, token: str | None) -> AccessClaims:
    """The claims of a valid, unrevoked access token; :class:`AuthFailure` otherwise."""
    if not token:
        raise AuthFailure(401, WS_UNAUTHORIZED, messages.NOT_AUTHENTICATED)
    try:
        claims = await verifier.verify(token)
    except TokenError:
        raise AuthFailure(401, WS_UNAUTHORIZED, messages.SESSION_INVALID) from None
    try:
        revoked = await revocation.is_revoked(redis, claims)
    except Exception as exc:  # noqa: BLE001 - cannot tell: refuse rather than accept a revoked token
        logger.warning("token denylist unavailable: %s", exc)
        raise AuthFailure(503, WS_UNAVAILABLE, messages.AUTH_UNAVAILABLE) from exc
    if revoked:
        raise AuthFailure(401, WS_UNAUTHORIZED, messages.SESSION_INVALID)
    return claims


async def verify_token(request: Request, token: str | None) -> uuid.UUID:
    """The user id in a valid, unrevoked access token; 401 (or 503) otherwise."""
    state = request.app.state
    try:
        return (await claims_for(state.verifier, state.redis, token)).subject
    except AuthFailure as failure:
        raise failure.as_http() from None


async def get_current_user_id(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> uuid.UUID:
    """The caller, from ``Authorization: Bearer``; verified locally against the auth service's JWKS."""
    return await verify_token(request, credentials.credentials if credentials else None)


async def push_user_id(
    verifier: JwksVerifier,
    redis: aioredis.Redis,
    analysis_id: uuid.UUID,
    bearer: str | None,
    ticket: str | None,
) -> uuid.UUID:
    """Who opens a push stream: a bearer token, or else a stream ticket for this analysis."""
    if bearer:
        return (await claims_for(verifier, redis, bearer)).subject
    if not ticket:
        raise AuthFailure(401, WS_UNAUTHORIZED, messages.NOT_AUTHENTICATED)
    try:
        return await tickets.redeem(redis, ticket, analysis_id)
    except tickets.TicketInvalid:
        raise AuthFailure(401, WS_UNAUTHORIZED, messages.TICKET_INVALID) from None
    except tickets.TicketForAnotherAnalysis:
        raise AuthFailure(403, WS_FORBIDDEN, messages.TICKET_OTHER_ANALYSIS) from None
    except aioredis.RedisError as exc:
        raise AuthFailure(503, WS_UNAVAILABLE, messages.AUTH_UNAVAILABLE) from exc


async def get_push_user_id(
    request: Request,
    analysis_id: uuid.UUID,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ticket: Annotated[
        str | None, Query(max_length=128, description="from POST /v1/analyses/{id}/events/ticket")
    ] = None,
) -> uuid.UUID:
    """Like :func:`get_current_user_id`, also accepting a single-use ``?ticket=`` (EventSource sends no headers)."""
    state = request.app.state
    try:
        return await push_user_id(
            state.verifier, state.redis, analysis_id, credentials.credentials if credentials else None, ticket
        )
    except AuthFailure as failure:
        raise failure.as_http() from None


CurrentUserId = Annotated[uuid.UUID, Depends(get_current_user_id)]
PushUserId = Annotated[uuid.UUID, Depends(get_push_user_id)]

"""Pushed progress: Server-Sent Events and WebSocket, fed by the worker's Redis pub/sub events.

On connect the current state is read from the database once (after subscribing, so nothing is
missed in between); from then on only Redis messages are relayed — no polling.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError

from services.api import messages, tickets
from services.api.analyses import service
from services.api.analyses.errors import AnalysisNotFound
from services.api.deps import (
    WS_NOT_FOUND,
    AuthFailure,
    CurrentUserId,
    PushUserId,
    SettingsDep,
    push_user_id,
)
from services.common import speed
from services.common.deps import RedisDep, SessionDep
from services.common.events import ProgressEvent, channel_for
from services.common.models import Analysis

router = APIRouter(prefix="/v1", tags=["push"])


class StreamTicket(BaseModel):
    """``POST /v1/analyses/{id}/events/ticket``: open the stream with ``?ticket=`` within ``expires_in`` s."""

    ticket: str
    expires_in: int


@router.post("/analyses/{analysis_id}/events/ticket", response_model=StreamTicket)
async def stream_ticket(
    analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> StreamTicket:
    """A single-use ticket (valid ``STREAM_TICKET_TTL_S``) to open this analysis's SSE or WebSocket stream."""
    await service.get_owned(session, user_id, analysis_id)
    ticket = await tickets.issue(redis, user_id, analysis_id, settings.stream_ticket_ttl_s)
    return StreamTicket(ticket=ticket, expires_in=settings.stream_ticket_ttl_s)


async def event_from_row(analysis: Analysis, redis: aioredis.Redis) -> ProgressEvent:
    """The current state of an analysis as a progress event (with the expected processing time while running)."""
    expected = None if analysis.status.is_terminal else await speed.expected_for_async(redis, analysis.duration_s)
    return ProgressEvent.model_validate(
        {"analysis_id": analysis.id, "status": analysis.status, "progress": analysis.progress, "stage": analysis.stage,
         "error": analysis.error, "error_code": analysis.error_code, "expected_s": expected}
    )


@asynccontextmanager
async def subscribed(redis: aioredis.Redis, analysis_id: uuid.UUID) -> AsyncIterator[aioredis.client.PubSub]:
    """A pub/sub subscription to one analysis's channel, closed on exit."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel_for(analysis_id))
    try:
        yield pubsub
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()


async def progress_stream(
    pubsub: aioredis.client.PubSub, first: ProgressEvent, keepalive_s: float
) -> AsyncIterator[ProgressEvent | None]:
    """Yield ``first`` then every event published, ``None`` on idle keep-alive ticks; stop after a terminal one."""
    yield first
    if first.is_terminal:
        return
    while True:
        message = await pubsub.get_message(timeout=keepalive_s)
        if message is None:
            yield None
            continue
        try:
            event = ProgressEvent.model_validate_json(message["data"])
        except ValidationError:
            continue
        yield event
        if event.is_terminal:
            return


@router.get(
    "/analyses/{analysis_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "progress events until the job ends"},
        401: {"description": "No valid bearer token and no valid, unused ticket"},
        403: {"description": "The ticket was issued for another analysis"},
    },
)
async def analysis_events(
    analysis_id: uuid.UUID, user_id: PushUserId, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> StreamingResponse:
    """Server-Sent Events: ``event: progress`` with a ProgressEvent JSON, until the job ends.

    Authenticate with ``Authorization: Bearer`` or, from a browser's ``EventSource``, ``?ticket=``.
    """
    await service.get_owned(session, user_id, analysis_id)

    async def body() -> AsyncIterator[str]:
        async with subscribed(redis, analysis_id) as pubsub:
            session.expire_all()
            first = await event_from_row(await service.get_owned(session, user_id, analysis_id), redis)
            await session.close()
            yield "retry: 3000\n\n"
            async for event in progress_stream(pubsub, first, settings.sse_keepalive_s):
                if event is None:
                    yield ": keep-alive\n\n"
                else:
                    yield f"event: progress\ndata: {event.model_dump_json()}\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"},
    )


@router.websocket("/analyses/{analysis_id}/ws")
async def analysis_websocket(
    websocket: WebSocket, analysis_id: uuid.UUID, ticket: str | None = Query(default=None, max_length=128)
) -> None:
    """WebSocket: the same ProgressEvent JSON messages; closes (1000) after a terminal status.

    Refusals are sent after the handshake as close codes a client can act on: 4401 not authenticated
    (no/invalid token, expired or used ticket), 4403 ticket for another analysis, 4404 analysis not found,
    4503 authentication cannot be checked right now.
    """
    app = websocket.app
    header = websocket.headers.get("authorization", "")
    bearer = header[7:] if header.lower().startswith("bearer ") else None
    await websocket.accept()
    try:
        user_id = await push_user_id(app.state.verifier, app.state.redis, analysis_id, bearer, ticket)
    except AuthFailure as failure:
        await websocket.close(code=failure.close_code, reason=failure.detail[:120])
        return
    async with app.state.sessionmaker() as session:
        try:
            await service.get_owned(session, user_id, analysis_id)
        except AnalysisNotFound:
            await websocket.close(code=WS_NOT_FOUND, reason=messages.ANALYSIS_NOT_FOUND)
            return
    redis: aioredis.Redis = app.state.redis
    async with subscribed(redis, analysis_id) as pubsub:
        async with app.state.sessionmaker() as session:
            first = await event_from_row(await service.get_owned(session, user_id, analysis_id), redis)
        try:
            async for event in progress_stream(pubsub, first, app.state.settings.sse_keepalive_s):
                if event is not None:
                    await websocket.send_text(event.model_dump_json())
        except (WebSocketDisconnect, asyncio.CancelledError):
            return
    await websocket.close(code=1000)

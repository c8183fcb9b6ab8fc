"""FastAPI dependencies every HTTP service (gateway, auth) uses alike: a database session per request and the
shared Redis client, both from ``app.state`` (``sessionmaker``, ``redis``), with their ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request, closed after it."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessions() as session:
        yield session


def get_redis(request: Request) -> aioredis.Redis:
    """The app's shared asyncio Redis client."""
    client: aioredis.Redis = request.app.state.redis
    return client


SessionDep = Annotated[AsyncSession, Depends(get_session)]
RedisDep = Annotated[aioredis.Redis, Depends(get_redis)]

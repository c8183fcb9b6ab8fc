"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from services.common import heartbeat

logger = logging.getLogger("bloomwell.api.health")

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database and Redis answer and at least one inference worker beat recently; ``workers`` counts
    every worker whose heartbeat is fresh (``services.common.heartbeat``), on any host."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "up"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.warning("database not ready: %s", exc)
        checks["database"] = "down"
    try:
        await state.redis.ping()
        checks["redis"] = "up"
    except Exception as exc:  # noqa: BLE001
        logger.warning("redis not ready: %s", exc)
        checks["redis"] = "down"
    workers = 0
    if checks["redis"] == "up":
        try:
            workers = await heartbeat.count_live(state.redis, state.settings.worker_heartbeat_max_age_s)
        except Exception as exc:  # noqa: BLE001
            logger.warning("could not count the live workers: %s", exc)
    checks["workers"] = str(workers)
    ready = checks["database"] == "up" and checks["redis"] == "up" and workers > 0
    return JSONResponse({"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503)

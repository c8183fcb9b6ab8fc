"""Auth service ASGI app: ``uvicorn --factory services.auth.main:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.auth import messages
from services.auth.config import AuthSettings
from services.auth.passwords import HasherBusy, PasswordHasher
from services.auth.routes import router
from services.auth.service import AuthError
from services.auth.throttle import Throttle, TooManyAttempts
from services.common.db import create_engine, create_sessionmaker
from services.common.http_metrics import instrument
from services.common.logs import configure_service_logging
from services.common.security.tokens import JwksVerifier

logger = logging.getLogger("bloomwell.auth")


def create_app(
    settings: AuthSettings | None = None, sessionmaker: async_sessionmaker[AsyncSession] | None = None
) -> FastAPI:
    """Build the auth app; the engine is created at start-up and disposed at shutdown.

    ``sessionmaker`` replaces the app's own (tests bind it to a connection that is rolled back).
    """
    settings = settings or AuthSettings()
    configure_service_logging(settings.log_level, settings.log_format)
    settings.load_signing_key()  # fail fast: an unreadable key must stop start-up, not 500 the first login

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = aioredis.from_url(settings.redis_url, decode_responses=True)
        engine = None if sessionmaker is not None else create_engine(settings.database_url)
        app.state.sessionmaker = sessionmaker if engine is None else create_sessionmaker(engine)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="Bloomwell auth",
        version="1.0.0",
        lifespan=lifespan,
        docs_url="/auth/docs",
        openapi_url="/auth/openapi.json",
    )
    app.state.settings = settings

    async def own_jwks() -> dict[str, Any]:
        return {"keys": [settings.jwk]}

    app.state.verifier = JwksVerifier.for_settings(own_jwks, settings)
    app.state.hasher = PasswordHasher(settings.password_hash_concurrency, settings.password_hash_queue)
    app.state.throttle = Throttle(
        settings.redis_url,
        login_per_address=settings.login_rate_limit_per_address,
        login_per_account=settings.login_rate_limit_per_account,
        signup_per_address=settings.signup_rate_limit_per_address,
    )

    @app.exception_handler(AuthError)
    async def _auth_error(_request: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(TooManyAttempts)
    async def _throttled(_request: Request, exc: TooManyAttempts) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=429, headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(HasherBusy)
    async def _busy(_request: Request, _exc: HasherBusy) -> JSONResponse:
        return JSONResponse({"detail": messages.BUSY}, status_code=503, headers={"Retry-After": "1"})

    # the gateway (a trusted proxy) passes the caller's address in X-Forwarded-For
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    instrument(app)  # GET /metrics (before the web app's catch-all route)
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            logger.warning("database not reachable: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    app.include_router(router)
    return app


"""API gateway ASGI app: ``uvicorn --factory services.api.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.api import errors, health, proxy, push, webapp
from services.api.analyses.routes import router as analyses_router
from services.api.config import ApiSettings
from services.api.limits import BodyLimits, ConcurrencyLimits, LoadShedding, UploadSizeLimit
from services.api.security_headers import SecurityHeaders
from services.common.celery_app import AnalysisQueue
from services.common.db import create_engine, create_sessionmaker
from services.common.http_metrics import NOT_MEASURED, instrument
from services.common.logs import configure_service_logging
from services.common.security.tokens import JwksVerifier
from services.common.storage import Storage

DESCRIPTION = """Bloomwell analyses the facial expressions in a short video and returns an emotion timeline
and simple wellbeing indicators. **It is a preliminary screening aid, not a diagnosis.**

Authenticate with `POST /auth/login` (or the *Authorize* button), then upload to `POST /v1/analyses`."""

GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 6
UPLOAD_PATH = "/v1/analyses"
AUTH_PREFIX = "/auth/"
"""Forwarded to the auth service (``services.api.proxy``), which bounds its own work."""
# Starlette's defaults already hold text/event-stream; named here so the SSE stream never depends on a default.
GZIP_EXCLUDED = tuple(dict.fromkeys((*DEFAULT_EXCLUDED_CONTENT_TYPES, "text/event-stream")))


def create_app(
    settings: ApiSettings | None = None,
    auth_transport: httpx.AsyncBaseTransport | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the gateway.

    ``auth_transport`` lets tests route ``/auth`` calls to an in-process auth app; ``sessionmaker``
    replaces the app's own (tests bind it to a connection that is rolled back).
    """
    settings = settings or ApiSettings()
    configure_service_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if sessionmaker is None:
            pool: dict[str, object] = {}
            if not settings.database_url.startswith("sqlite"):
                # a steady pool: under load, overflow connections opened and closed per burst cost more
                # than the queries (TLS negotiation, authentication) and made p99 explode
                pool = {
                    "pool_size": settings.db_pool_size,
                    "max_overflow": settings.db_max_overflow,
                    "isolation_level": "AUTOCOMMIT",
                    "pool_pre_ping": False,
                }
            engine = create_engine(settings.database_url, **pool)
        app.state.sessionmaker = sessionmaker if engine is None else create_sessionmaker(engine)
        app.state.redis = aioredis.from_url(settings.redis_url, decode_responses=True)
        app.state.auth_client = httpx.AsyncClient(
            base_url=settings.auth_url, transport=auth_transport, timeout=httpx.Timeout(10.0)
        )

        async def fetch_jwks() -> dict[str, Any]:
            response = await app.state.auth_client.get("/auth/.well-known/jwks.json")
            response.raise_for_status()
            jwks: dict[str, Any] = response.json()
            return jwks

        app.state.verifier = JwksVerifier.for_settings(fetch_jwks, settings)
        yield
        await app.state.auth_client.aclose()
        await app.state.redis.aclose()
        if engine is not None:
            await engine.dispose()

    app = FastAPI(title="Bloomwell API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.storage = Storage(settings.storage_root)
    app.state.analysis_queue = AnalysisQueue.for_settings(settings)
    errors.install(app)

    body_limits = BodyLimits(
        max_bytes=settings.max_upload_bytes,
        idle_timeout_s=settings.upload_idle_timeout_s,
        min_bytes_per_s=settings.upload_min_bytes_per_s,
        rate_grace_s=settings.upload_rate_grace_s,
    )
    app.add_middleware(UploadSizeLimit, path=UPLOAD_PATH, limits=body_limits)
    # JSON/CSV responses over 1 KB gzip-compressed for clients that accept it; never the SSE stream (it must
    # flush event by event), images or anything already encoded (the web app's precompressed assets). Level 6 (zlib's
    # default), not Starlette's 9: a third of the time for a body ~4% larger (a result document with every frame).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, exclude_content_types=GZIP_EXCLUDED,
                       compresslevel=GZIP_LEVEL)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location"],
        )
    app.add_middleware(SecurityHeaders)
    # outermost: the caller's address and scheme, believing X-Forwarded-* only from TRUSTED_PROXIES
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    registry = instrument(app)  # GET /metrics (before the web app's catch-all route)
    if settings.load_shed_max_in_flight:
        # outermost, so a refusal costs as little as possible; counted in its own series (it never reaches the
        # request metrics)
        shed = Counter("bloomwell_api_requests_shed", "Requests refused with 503 because the gateway was saturated",
                       registry=registry)
        limits = ConcurrencyLimits(max_in_flight=settings.load_shed_max_in_flight,
                                   max_waiting=settings.load_shed_max_waiting,
                                   max_wait_s=settings.load_shed_max_wait_s,
                                   retry_after_s=settings.load_shed_retry_after_s)
        app.add_middleware(LoadShedding, limits=limits, exempt_paths=NOT_MEASURED, exempt_prefixes=(AUTH_PREFIX,),
                           upload_path=UPLOAD_PATH, on_shed=shed.inc)
    app.include_router(health.router)
    app.include_router(analyses_router)
    app.include_router(push.router)
    app.include_router(proxy.router)
    app.include_router(webapp.router)
    return app

"""``/metrics`` on the FastAPI services (gateway, auth): request counts and latency histograms per route template,
from prometheus-fastapi-instrumentator (maintained; labels use the route template, so ids never become labels).

Each app gets its own registry, so building several apps in one process (tests) never registers a series twice.
``/metrics`` is not proxied by the web front (nginx serves the app for unknown paths); scrape the services directly.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

NOT_MEASURED = ["/metrics", "/healthz", "/readyz"]


def instrument(app: FastAPI) -> CollectorRegistry:
    """Measure every request of ``app`` (``http_requests_total``, ``http_request_duration_seconds``, sizes) and
    serve the metrics at ``GET /metrics``; returns the app's registry. Call it before any catch-all route."""
    registry = CollectorRegistry()
    Instrumentator(excluded_handlers=NOT_MEASURED, registry=registry).instrument(app).expose(
        app, include_in_schema=False
    )
    return registry

"""Checks on a caller-supplied webhook URL (the worker POSTs the job's outcome there)."""

from __future__ import annotations

from pydantic import AnyHttpUrl

from services.api.analyses.errors import InvalidWebhookUrl
from services.common.netguard import is_internal_host


def check_webhook_url(url: AnyHttpUrl | None, allow_internal: bool) -> str | None:
    """The URL to store; outside local runs, internal targets are refused (no server-side request forgery)."""
    if url is None:
        return None
    if not allow_internal and is_internal_host(url.host or ""):
        raise InvalidWebhookUrl
    return str(url)

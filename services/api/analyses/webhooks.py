"""Checks on a caller-supplied webhook URL (the worker POSTs the job's outcome there)."""

from __future__ import annotations

import ipaddress

from fastapi import HTTPException, status
from pydantic import AnyHttpUrl

INTERNAL_HOST_SUFFIXES = (".localhost", ".local", ".internal")


def is_internal_host(host: str) -> bool:
    """True for loopback, private, link-local or reserved addresses and for internal host names."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(INTERNAL_HOST_SUFFIXES) or "." not in host and ":" not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def check_webhook_url(url: AnyHttpUrl | None, allow_internal: bool) -> str | None:
    """The URL to store; outside local runs, internal targets are refused (no server-side request forgery)."""
    if url is None:
        return None
    if not allow_internal and is_internal_host(url.host or ""):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="webhook_url must be a public http(s) address.",
        )
    return str(url)

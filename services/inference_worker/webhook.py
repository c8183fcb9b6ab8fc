"""Signed webhook POSTed to an analysis's ``webhook_url`` once it ends (best effort, never fails a job)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.common.netguard import internal_address

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bloomwell-Signature"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of the body keyed with secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header_value: str) -> bool:
    """Constant-time check of a received signature (what a webhook receiver does)."""
    return hmac.compare_digest(sign(body, secret), header_value)


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are sent and signed (compact JSON, sorted keys)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def send_webhook(url: str, payload: dict[str, Any], secret: str, timeout_s: float = 5.0, tries: int = 2,
                 allow_internal: bool = False) -> bool:
    """POST ``payload`` to ``url``, signed when ``secret`` is set; True on a 2xx answer.

    Unless ``allow_internal`` (local runs), a host that resolves to a non-public address is not called."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        log.warning("webhook URL %r is not http(s); not sent", url)
        return False
    if not allow_internal:
        blocked = internal_address(parts.hostname or "")
        if blocked is not None:
            log.warning("webhook host of %s resolves to the internal address %s; not sent", url, blocked)
            return False
    body = encode_payload(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "Bloomwell-Webhook/1"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    else:
        log.warning("WEBHOOK_SECRET is not set; sending an unsigned webhook to %s", url)
    for attempt in range(1, tries + 1):
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=timeout_s, follow_redirects=False)
            if response.is_success:
                return True
            log.warning("webhook %s answered %s (try %d/%d)", url, response.status_code, attempt, tries)
        except httpx.HTTPError as exc:
            log.warning("webhook %s failed: %s (try %d/%d)", url, exc, attempt, tries)
    return False

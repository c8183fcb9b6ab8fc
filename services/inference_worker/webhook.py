"""Signed webhook POSTed to an analysis's ``webhook_url`` once it ends (best effort, never fails a job)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.common.netguard import BlockedAddress, resolve_public

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


def pinned_request(url: str, allow_internal: bool) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL to connect to, extra headers, httpx extensions) for ``url``.

    Outside local runs the host is resolved once, every address must be public (no private, loopback,
    link-local, reserved or multicast), and the request goes to that very address: ``Host`` and TLS SNI /
    certificate checks still use the name, so no second DNS lookup can redirect it. Raises
    :class:`BlockedAddress` for a refused host.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if allow_internal:
        return url, {}, {}
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_public(host, port)
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return pinned, {"Host": host_header}, extensions


def send_webhook(url: str, payload: dict[str, Any], secret: str, timeout_s: float = 5.0, tries: int = 2,
                 allow_internal: bool = False) -> bool:
    """POST ``payload`` to ``url``, signed when ``secret`` is set; True on a 2xx answer.

    Unless ``allow_internal`` (local runs), the host must resolve to public addresses only and the
    request is sent to the address that was checked (see :func:`pinned_request`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        log.warning("webhook URL %r is not http(s); not sent", url)
        return False
    try:
        target, pin_headers, extensions = pinned_request(url, allow_internal)
    except BlockedAddress as exc:
        log.warning("webhook host of %s is not public (%s); not sent", url, exc)
        return False
    body = encode_payload(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "Bloomwell-Webhook/1", **pin_headers}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    else:
        log.warning("WEBHOOK_SECRET is not set; sending an unsigned webhook to %s", url)
    with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
        for attempt in range(1, tries + 1):
            try:
                request = client.build_request("POST", target, content=body, headers=headers, extensions=extensions)
                response = client.send(request)
                if response.is_success:
                    return True
                log.warning("webhook %s answered %s (try %d/%d)", url, response.status_code, attempt, tries)
            except httpx.HTTPError as exc:
                log.warning("webhook %s failed: %s (try %d/%d)", url, exc, attempt, tries)
    return False

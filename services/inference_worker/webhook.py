"""The webhook wire format and one signed POST: what a receiver gets and checks. Deliveries are queued, retried and
recorded by :mod:`services.inference_worker.outbox`; this module sends one attempt.

Headers of every delivery (``WEBHOOK_SECRET`` set):

* ``X-Bloomwell-Signature: sha256=<hex HMAC-SHA256 of the body>`` — unchanged since the first version;
* ``X-Bloomwell-Delivery: <uuid>`` — the idempotency key: the same on every attempt of one delivery (also in the body
  as ``delivery_id``), so a receiver that already handled it can answer 2xx and do nothing;
* ``X-Bloomwell-Timestamp: <unix seconds of this attempt>``;
* ``X-Bloomwell-Delivery-Signature: sha256=<hex HMAC-SHA256 of "<delivery>.<timestamp>.<body>">`` — binds the key and
  the time to the body, so neither can be swapped and an old request cannot be replayed later
  (:func:`verify_delivery` checks it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.common.models import Analysis
from services.common.netguard import BlockedAddress, resolve_public

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bloomwell-Signature"
DELIVERY_HEADER = "X-Bloomwell-Delivery"
TIMESTAMP_HEADER = "X-Bloomwell-Timestamp"
DELIVERY_SIGNATURE_HEADER = "X-Bloomwell-Delivery-Signature"
USER_AGENT = "Bloomwell-Webhook/2"
REPLAY_TOLERANCE_S = 300
"""How far a delivery's timestamp may be from the receiver's clock (:func:`verify_delivery`'s default)."""


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of the body keyed with secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header_value: str) -> bool:
    """Constant-time check of a received ``X-Bloomwell-Signature`` (what a webhook receiver does)."""
    return hmac.compare_digest(sign(body, secret), header_value)


def sign_delivery(delivery_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The ``X-Bloomwell-Delivery-Signature`` value: the HMAC of ``<delivery>.<timestamp>.<body>``."""
    return sign(f"{delivery_id}.{timestamp}.".encode() + body, secret)


def verify_delivery(body: bytes, secret: str, headers: Mapping[str, str], tolerance_s: float = REPLAY_TOLERANCE_S,
                    now: float | None = None) -> bool:
    """A receiver's check of a delivery: its key, timestamp and body are signed with ``secret`` and the timestamp is
    within ``tolerance_s`` of ``now``. ``headers`` may be any case-insensitive mapping (or one with these exact
    names)."""
    delivery, stamp = headers.get(DELIVERY_HEADER), headers.get(TIMESTAMP_HEADER)
    signature = headers.get(DELIVERY_SIGNATURE_HEADER)
    if not delivery or not stamp or not signature or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign_delivery(delivery, int(stamp), body, secret), signature)


def analysis_payload(analysis: Analysis, delivery_id: uuid.UUID) -> dict[str, Any]:
    """The JSON object POSTed when ``analysis`` ended (documented in docs/CONTRACTS.md)."""
    return {
        "event": f"analysis.{analysis.status.value}",
        "delivery_id": str(delivery_id),
        "analysis_id": str(analysis.id),
        "status": analysis.status.value,
        "dominant_emotion": analysis.dominant_emotion,
        "error": analysis.error,
        "error_code": analysis.error_code,
        "finished_at": analysis.finished_at.isoformat() if analysis.finished_at else None,
    }


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are sent and signed (compact JSON, sorted keys)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def signed_headers(body: bytes, secret: str, delivery_id: str | None = None,
                   timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt (see the module docstring); unsigned when ``secret`` is empty (local runs)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    stamp = int(time.time()) if timestamp is None else timestamp
    if delivery_id:
        headers[DELIVERY_HEADER] = delivery_id
        headers[TIMESTAMP_HEADER] = str(stamp)
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
        if delivery_id:
            headers[DELIVERY_SIGNATURE_HEADER] = sign_delivery(delivery_id, stamp, body, secret)
    return headers


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


async def post(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float,
               allow_internal: bool = False) -> str | None:
    """One POST of ``body`` to ``url`` within ``timeout_s`` in all; None on a 2xx answer, else why not (a short
    sentence for ``last_error``). Unless ``allow_internal`` (local runs) the host must resolve to public addresses
    only and the request goes to the address that was checked (:func:`pinned_request`); redirects are not followed."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "not an http(s) URL"
    try:
        target, pin_headers, extensions = await asyncio.to_thread(pinned_request, url, allow_internal)
    except BlockedAddress as exc:
        return f"host refused (not public): {exc}"
    try:
        async with asyncio.timeout(timeout_s), httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                                                 timeout=timeout_s) as client:
            request = client.build_request("POST", target, content=body, headers={**headers, **pin_headers},
                                           extensions=extensions)
            response = await client.send(request)
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None if response.is_success else f"answered HTTP {response.status_code}"


def send_webhook(url: str, payload: dict[str, Any], secret: str, timeout_s: float = 5.0, tries: int = 2,
                 allow_internal: bool = False) -> bool:
    """POST ``payload`` to ``url`` now, signed when ``secret`` is set, up to ``tries`` times; True on a 2xx answer.

    A one-off send outside the outbox (no delivery id, nothing recorded), with :func:`post`'s address checks."""
    body = encode_payload(payload)
    headers = signed_headers(body, secret)
    for attempt in range(1, tries + 1):
        error = asyncio.run(post(url, body, headers, timeout_s, allow_internal))
        if error is None:
            return True
        log.warning("webhook %s not delivered: %s (try %d/%d)", url, error, attempt, tries)
        if error.startswith(("not an http", "host refused")):
            return False
    return False

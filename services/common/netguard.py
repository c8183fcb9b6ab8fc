"""Server-side request forgery guard for caller-supplied URLs (webhooks).

The gateway refuses internal host names and address literals when a URL is submitted (`is_internal_host`);
the worker resolves the host again right before it connects (`internal_address`), so a public-looking name
that resolves to a private, loopback or link-local address is refused as well.
"""

from __future__ import annotations

import ipaddress
import socket

INTERNAL_HOST_SUFFIXES = (".localhost", ".local", ".internal")


def is_internal_host(host: str) -> bool:
    """True for loopback, private, link-local or reserved address literals and for internal host names."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(INTERNAL_HOST_SUFFIXES) or "." not in host and ":" not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def internal_address(host: str) -> str | None:
    """The first non-public address `host` resolves to, or the host itself when it does not resolve; None
    when every address it resolves to is public (safe to connect to)."""
    if is_internal_host(host):
        return host
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return host
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global:
            return str(address)
    return None if infos else host

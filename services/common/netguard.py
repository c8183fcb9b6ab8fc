"""Server-side request forgery guard for caller-supplied URLs (webhooks).

The gateway refuses internal host names and address literals when a URL is submitted (`is_internal_host`);
the worker resolves the host once right before it connects (`resolve_public`) and connects to exactly the
address it checked, so a name that resolves to a private, loopback, link-local, reserved or multicast
address is refused, and a second lookup (DNS rebinding) cannot swap in another address.
"""

from __future__ import annotations

import ipaddress
import socket

INTERNAL_HOST_SUFFIXES = (".localhost", ".local", ".internal")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(Exception):
    """The host is internal, resolves to a non-public address, or does not resolve."""


def is_public_address(address: IPAddress) -> bool:
    """True for globally routable unicast addresses (multicast is never a webhook target)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def is_internal_host(host: str) -> bool:
    """True for loopback, private, link-local, reserved or multicast address literals and internal names."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(INTERNAL_HOST_SUFFIXES) or "." not in host and ":" not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not is_public_address(address)


def resolve_public(host: str, port: int) -> str:
    """Resolve ``host`` once; return one of its addresses if *every* address is public.

    Raises :class:`BlockedAddress` otherwise (naming the offending address in the message).
    """
    if is_internal_host(host):
        raise BlockedAddress(host)
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"{host} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%")[0]) for *_, sockaddr in infos]
    if not addresses:
        raise BlockedAddress(f"{host} does not resolve")
    for address in addresses:
        if not is_public_address(address):
            raise BlockedAddress(str(address))
    return str(addresses[0])


def internal_address(host: str) -> str | None:
    """The first non-public address ``host`` resolves to (or the host itself when it is internal or does
    not resolve); None when every address is public."""
    try:
        resolve_public(host, 0)
    except BlockedAddress as exc:
        return str(exc).removesuffix(" does not resolve")
    return None

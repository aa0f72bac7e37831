"""Who is calling: the client's address, believing X-Forwarded-For only from our own proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import Request

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(networks: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(network) for network in networks)


def is_trusted_proxy(host: str | None, networks: Iterable[str]) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(networks)))


def client_address(request: Request) -> str | None:
    """The last X-Forwarded-For hop when a trusted proxy (our gateway) forwarded the request."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    trusted: list[str] = request.app.state.runtime.settings.trusted_proxies
    if forwarded and is_trusted_proxy(peer, trusted):
        return forwarded.split(",")[-1].strip() or peer
    return peer

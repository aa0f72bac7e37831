"""Who is calling: the socket's peer, or what our own proxies say about the client behind them.

A peer is believed about the client (`X-Forwarded-For`, `X-Forwarded-Proto`) only when its
address is in `settings.trusted_proxies` (empty by default: nobody is). The chain is walked from
the right, over hops that are themselves trusted proxies; the first hop that is not is the
client. A hop that is not an IP address ends the walk: the last address vouched for is kept,
never the junk. Applied once per request by `ForwardedClientMiddleware`, which rewrites the
ASGI scope's `client` (and `scheme`), so every reader of `request.client` agrees.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_SCHEMES = frozenset({"http", "https"})


def parse_address(text: str) -> IPAddress | None:
    """`text` as an IP address (IPv4-mapped IPv6 as IPv4), or None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(network.strip(), strict=False) for network in networks
        )
        self.trusts = lru_cache(maxsize=1024)(self._trusts)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def _trusts(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        address = parse_address(host)
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str | None:
        """The client's address, from the socket's `peer` and the `X-Forwarded-For` values."""
        if not self.trusts(peer):
            return peer
        current = peer
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break  # junk: whatever is left of it is not believed either
            current = str(address)
            if not self.trusts(current):
                break
        return current


@lru_cache(maxsize=8)
def trusted_proxies(networks: tuple[str, ...]) -> TrustedProxies:
    return TrustedProxies(networks)


class ForwardedClientMiddleware:
    """Puts the client's address (and scheme) in the scope, believing only trusted proxies."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = trusted_proxies(tuple(trusted))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted:
            peer = scope.get("client")
            if peer and self.trusted.trusts(peer[0]):
                self._rewrite(scope, peer[0])
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope, peer: str) -> None:
        forwarded_for: list[str] = []
        proto: str | None = None
        for key, value in scope.get("headers", ()):
            if key == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif key == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
        client = self.trusted.client(peer, forwarded_for)
        if client != peer and client is not None:
            scope["client"] = (client, 0)
        if proto in FORWARDED_SCHEMES:
            scope["scheme"] = proto


def client_address(request: Request) -> str | None:
    """The client's address as `ForwardedClientMiddleware` established it."""
    return request.client.host if request.client else None

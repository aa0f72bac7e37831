"""Typed dependencies of identity's routes."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from bandstand.identity.authentication import AuthenticationService, ClientInfo
from bandstand.identity.tokens import KeyStore
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser

__all__ = ["AdminUser", "Authentication", "Client", "CurrentUser", "Keys", "OptionalUser"]


def _authentication(request: Request) -> AuthenticationService:
    service: AuthenticationService = request.app.state.authentication
    return service


def _keys(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


# Where our own gateway and ingress run: loopback and the RFC 1918 / RFC 4193 networks. Not
# `ip_address(...).is_private`, which also covers documentation, benchmarking and reserved ranges.
PROXY_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)


def _is_internal(host: str | None) -> bool:
    """Whether `host` may be a proxy of ours, whose X-Forwarded-For is believed."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in PROXY_NETWORKS)


def client_info(request: Request) -> ClientInfo:
    """The caller's address: the last X-Forwarded-For hop when our own gateway forwarded it."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and _is_internal(peer):
        peer = forwarded.split(",")[-1].strip() or peer
    return ClientInfo(ip_address=peer, user_agent=request.headers.get("user-agent"))


Authentication = Annotated[AuthenticationService, Depends(_authentication)]
Keys = Annotated[KeyStore, Depends(_keys)]
Client = Annotated[ClientInfo, Depends(client_info)]

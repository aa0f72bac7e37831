"""The address a login is limited and recorded by: the socket's peer, unless that peer is one of
our own proxies (`trusted_proxies`), and never what a client says of itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bandstand.platform.settings import Settings
from tests.identity.conftest import USER_PASSWORD, IdentityHarness, running_identity

LOGIN = "/api/v1/login"
BAD = {"username": "member", "password": "wrong-password"}
GOOD = {"username": "member", "password": USER_PASSWORD}
LOGGED_IN = "identity.user.logged_in"


def _forged(attempt: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{attempt % 250 + 1}"}


@pytest.fixture
async def behind_the_gateway(identity_settings: Settings) -> AsyncIterator[IdentityHarness]:
    """Identity trusting its gateway at 10.0.0.5 (distributed mode's configuration)."""
    settings = identity_settings.model_copy(update={"trusted_proxies": ["10.0.0.5/32"]})
    async with running_identity(settings) as harness:
        yield harness


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "203.0.113.10"])
async def test_a_rotating_forwarded_for_does_not_escape_the_login_limit(
    identity: IdentityHarness, peer: str
) -> None:
    """Nobody is trusted by default, loopback and private peers included."""
    async with identity.client_from(peer) as client:
        statuses = [
            (await client.post(LOGIN, json=BAD, headers=_forged(attempt))).status_code
            for attempt in range(20)
        ]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        # The right password with yet another address claimed is still this peer's login.
        again = await client.post(LOGIN, json=GOOD, headers=_forged(99))
        assert again.status_code == 429


async def test_a_forged_address_is_not_recorded(identity: IdentityHarness) -> None:
    async with identity.client_from("127.0.0.1") as client:
        forged = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
        response = await client.post(LOGIN, json=GOOD, headers=forged)
    assert response.status_code == 200
    (event,) = await identity.outbox(LOGGED_IN)
    assert event["payload"]["ip_address"] == "127.0.0.1"


async def test_behind_the_gateway_the_forwarded_address_is_limited(
    behind_the_gateway: IdentityHarness,
) -> None:
    identity = behind_the_gateway
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    async with identity.client_from("10.0.0.5") as gateway:
        statuses = [
            (await gateway.post(LOGIN, json=BAD, headers=first)).status_code for _ in range(6)
        ]
        assert statuses == [401] * 5 + [429]
        assert (await gateway.post(LOGIN, json=BAD, headers=second)).status_code == 401
        success = await gateway.post(LOGIN, json=GOOD, headers=second)
        assert success.status_code == 200
    (event,) = await identity.outbox(LOGGED_IN)
    assert event["payload"]["ip_address"] == "198.51.100.2"


async def test_only_the_gateway_is_believed(behind_the_gateway: IdentityHarness) -> None:
    """Another peer in the same network is not the gateway: its header is ignored."""
    identity = behind_the_gateway
    async with identity.client_from("10.0.0.6") as neighbour:
        statuses = [
            (await neighbour.post(LOGIN, json=BAD, headers=_forged(attempt))).status_code
            for attempt in range(6)
        ]
    assert statuses == [401] * 5 + [429]


async def test_junk_in_the_chain_is_not_believed(behind_the_gateway: IdentityHarness) -> None:
    identity = behind_the_gateway
    async with identity.client_from("10.0.0.5") as gateway:
        for junk in ("not-an-address", "", "198.51.100.7:80", "999.1.1.1", "6.6.6.6, <script>"):
            response = await gateway.post(LOGIN, json=GOOD, headers={"X-Forwarded-For": junk})
            assert response.status_code == 200
    recorded = [event["payload"]["ip_address"] for event in await identity.outbox(LOGGED_IN)]
    # Junk ends the walk: the gateway itself is the last address anyone vouched for.
    assert recorded == ["10.0.0.5"] * 5

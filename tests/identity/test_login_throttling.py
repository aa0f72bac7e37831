"""Login throttling that a burst cannot slip through and an attacker cannot turn against the
owner: slots reserved before the password check, a limit per address beside the one per address
and account, a per-account delay instead of a lock, and one bound on concurrent hashing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import pytest
from argon2 import PasswordHasher, Type

from bandstand.identity import passwords
from bandstand.platform.settings import Settings
from tests.identity.conftest import USER_PASSWORD, IdentityHarness, running_identity

LOGIN = "/api/v1/login/"
WRONG = "wrong-password"


async def _login(client: httpx.AsyncClient, username: str, password: str = WRONG) -> int:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    return response.status_code


async def test_a_burst_of_concurrent_failures_gets_at_most_the_limit_through(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    statuses = await asyncio.gather(*(_login(client, "member") for _ in range(20)))

    assert statuses.count(401) <= 5, statuses
    assert statuses.count(429) >= 15, statuses
    assert await _login(client, "member", USER_PASSWORD) == 429


async def test_one_address_failing_on_many_accounts_is_limited(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    limit = identity.settings.login_max_failures_per_address
    statuses = [await _login(client, f"name{number}") for number in range(limit)]
    assert statuses == [401] * limit
    assert await _login(client, "someone-else") == 429
    assert await _login(client, "member", USER_PASSWORD) == 429
    # Other addresses are not.
    async with identity.client_from("198.51.100.7") as elsewhere:
        assert await _login(elsewhere, "member", USER_PASSWORD) == 200


async def test_a_successful_login_does_not_count_against_its_address(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    limit = identity.settings.login_max_failures_per_address
    for _ in range(limit + 2):
        assert await _login(client, "member", USER_PASSWORD) == 200


async def test_failures_on_one_account_from_everywhere_slow_it_down_but_never_lock_it(
    make_settings: Callable[..., Settings], identity_database_url: str
) -> None:
    settings = make_settings(
        databases={"identity": identity_database_url},
        login_account_delay_after=4,
        login_account_max_delay_seconds=3.0,
    )
    async with running_identity(settings) as identity:
        delays: list[float] = []

        async def record(seconds: float) -> None:
            delays.append(seconds)

        identity.app.state.authentication.sleep = record
        # An attacker spreads failures over many addresses, under each address's limit.
        for number in range(8):
            async with identity.client_from(f"198.51.100.{number + 1}") as attacker:
                assert await _login(attacker, "member") == 401
        assert delays == [0.5, 1.0, 2.0, 3.0]

        # The owner, from an address of their own, still gets in (after the account's delay).
        delays.clear()
        async with identity.client_from("192.0.2.33") as owner:
            assert await _login(owner, "member", USER_PASSWORD) == 200
        assert delays == [3.0]
        # Other accounts are not slowed down.
        delays.clear()
        async with identity.client_from("192.0.2.34") as other:
            assert await _login(other, "boss", "admin-Passw0rd!") == 200
        assert delays == []


class _HeldHasher(PasswordHasher):
    """argon2id that waits, inside the hashing thread, until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
        self.entered = threading.Event()
        self.go_on = threading.Event()

    def _hold(self) -> None:
        self.entered.set()
        self.go_on.wait(30)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._hold()
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self._hold()
        return super().verify(hash, password)


async def test_past_the_hashing_bound_password_work_is_refused_with_503(
    make_settings: Callable[..., Settings],
    identity_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(
        databases={"identity": identity_database_url}, password_hashing_max_concurrent=1
    )
    # The bound is the process's; the next app sets its own, and this test restores it anyway.
    monkeypatch.setattr(passwords.HASHING, "limit", passwords.HASHING.limit)
    async with running_identity(settings) as identity:
        member = await identity.tokens(identity.member)
        held = _HeldHasher()
        monkeypatch.setattr(passwords, "hasher", lambda: held)
        client = identity.client
        first = asyncio.create_task(_login(client, "nobody-at-all"))
        try:
            await asyncio.wait_for(asyncio.to_thread(held.entered.wait, 10), 15)
            store = identity.app.state.runtime.security_store
            entries = len(store)
            refused: list[httpx.Response] = []
            for method, path, body, headers in (
                ("POST", LOGIN, {"username": "ghost", "password": WRONG}, {}),
                (
                    "POST",
                    "/api/v1/register/",
                    {"username": "newbie", "email": "newbie@example.com", "password": "s3cret-pw!"},
                    {},
                ),
                (
                    "POST",
                    "/api/v1/profile/password/",
                    {"current_password": USER_PASSWORD, "new_password": "another-secret"},
                    member.headers,
                ),
            ):
                request = client.request(method, path, json=body, headers=headers)
                refused.append(await asyncio.wait_for(request, 10))
            # Refused before anything was counted: a flood of them costs the store nothing.
            assert len(store) == entries
        finally:
            held.go_on.set()
        assert await first == 401
        for response in refused:
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
        # Refused for lack of a slot is not a failed login: the name is not any closer to 429.
        monkeypatch.setattr(
            passwords,
            "hasher",
            lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID),
        )
        statuses = [await _login(client, "ghost") for _ in range(5)]
        assert statuses == [401] * 5


async def test_the_login_routes_document_429_and_503(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/login", "/auth/login"):
        responses = paths[path]["post"]["responses"]
        assert {"429", "503"} <= set(responses), path
        assert "Retry-After" in responses["429"]["description"]

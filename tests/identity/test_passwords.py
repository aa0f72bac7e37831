"""Password hashing: argon2id at OWASP's parameters, off the event loop, and a failure path for
unknown users that costs what a wrong password costs."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import update

from bandstand.identity import passwords
from bandstand.identity.models import User
from tests.identity.conftest import USER_PASSWORD, IdentityHarness

pytestmark = pytest.mark.usefixtures("production_hashing")


async def test_hashes_are_argon2id_m19mib_t2_p1() -> None:
    hashed = await passwords.hash_password("correct-horse-1")

    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify_password(hashed, "correct-horse-1")
    assert not await passwords.verify_password(hashed, "correct-horse-2")
    assert not passwords.needs_rehash(hashed)
    assert hashed != await passwords.hash_password("correct-horse-1")  # salted


class SpyHasher:
    """The production hasher, recording what it is asked and on which thread."""

    def __init__(self) -> None:
        self._real = PasswordHasher(
            time_cost=passwords.TIME_COST,
            memory_cost=passwords.MEMORY_KIB,
            parallelism=passwords.PARALLELISM,
            type=Type.ID,
        )
        self.threads: list[int] = []
        self.verified: list[str] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.get_ident())
        return str(self._real.hash(password))

    def verify(self, hashed: str, password: str) -> bool:
        self.threads.append(threading.get_ident())
        self.verified.append(hashed)
        return bool(self._real.verify(hashed, password))


async def test_hashing_runs_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = SpyHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: spy)

    hashed = await passwords.hash_password("correct-horse-1")
    await passwords.verify_password(hashed, "correct-horse-1")

    assert len(spy.threads) == 2
    assert threading.get_ident() not in spy.threads


async def test_unknown_users_cost_a_real_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = SpyHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: spy)

    assert await passwords.verify_password(None, "any-password") is False
    # Checked against a hash made with the production parameters: it costs what a real one costs.
    (dummy,) = spy.verified
    assert dummy.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # And no password verifies against "no user", not even the dummy's own.
    assert await passwords.verify_password(None, "an unguessable password nobody has") is False


async def test_a_corrupt_stored_hash_fails_closed() -> None:
    assert await passwords.verify_password("not-a-hash", "whatever") is False
    assert await passwords.verify_password("$argon2id$v=19$garbage", "whatever") is False


async def test_login_upgrades_a_weaker_hash(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    async with identity.database.session() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == identity.member.id)
            .values(password_hash=weak.hash(USER_PASSWORD))
        )

    await identity.login("member", USER_PASSWORD)

    stored = await identity.stored_user(identity.member.id)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    await identity.login("member", USER_PASSWORD)


async def test_concurrent_logins_do_not_block_the_event_loop(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    """While passwords are checked, the loop keeps answering other requests."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    body = {"username": "member", "password": USER_PASSWORD}
    responses = await asyncio.gather(*(client.post("/api/v1/login", json=body) for _ in range(3)))
    stop.set()
    await task
    assert [response.status_code for response in responses] == [200] * 3
    assert ticks >= 3


async def test_the_unknown_user_hash_is_made_at_startup(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    before = passwords._dummy_hash.cache_info()
    response = await client.post("/api/v1/login", json={"username": "ghost", "password": "x" * 8})
    assert response.status_code == 401
    after = passwords._dummy_hash.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)

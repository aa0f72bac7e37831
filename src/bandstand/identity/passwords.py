"""argon2id password hashing at OWASP's parameters, off the event loop.

Every hash and check (register, login, password change) holds one slot of `HASHING` from the
moment it is asked for until its thread has finished; with every slot taken, the request is
refused at once with 503 and `Retry-After`, so a flood of logins (even for names of no account)
cannot queue up unbounded work on every core."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bandstand.platform.concurrency import ConcurrencyLimit

# OWASP: m=19 MiB, t=2, p=1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


T = TypeVar("T")

# One hashing thread per core: more would only queue for the CPU while each held 19 MiB.
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


HASHING = ConcurrencyLimit(8)
"""Hashes computed or waiting at once in this process (`password_hashing_max_concurrent`)."""


def limit_concurrency(limit: int) -> None:
    HASHING.limit = limit


async def _in_pool(function: Callable[[], T]) -> T:
    HASHING.acquire()
    try:
        future = _POOL.submit(function)
    except BaseException:
        HASHING.release()
        raise
    # Given back when the thread is done, not when the caller stops waiting (a cancelled
    # request's hash still runs to its end).
    future.add_done_callback(lambda _future: HASHING.release())
    return await asyncio.wrap_future(future)


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID
    )


@lru_cache(maxsize=4)
def _dummy_hash(password_hasher: PasswordHasher) -> str:
    return password_hasher.hash("an unguessable password nobody has")


async def prepare() -> None:
    """Make the unknown-user hash ahead of the first login, so that one costs no more."""
    password_hasher = hasher()
    await _in_pool(lambda: _dummy_hash(password_hasher))


async def hash_password(password: str) -> str:
    password_hasher = hasher()
    return await _in_pool(lambda: password_hasher.hash(password))


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check `password`; with no hash (unknown user) spend the same time and fail."""
    password_hasher = hasher()

    def check() -> bool:
        # The dummy hash is made with the same hasher, in this thread, the first time it is needed.
        target = password_hash or _dummy_hash(password_hasher)
        try:
            return password_hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await _in_pool(check) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)

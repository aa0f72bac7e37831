"""argon2id password hashing at OWASP's parameters, off the event loop."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP: m=19 MiB, t=2, p=1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


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
    await asyncio.to_thread(_dummy_hash, hasher())


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher().hash, password)


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

    return await asyncio.to_thread(check) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)

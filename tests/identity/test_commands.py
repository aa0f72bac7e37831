"""`create_superuser`, which the CLI's `createsuperuser` runs outside any request."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from bandstand.identity.commands import create_superuser
from bandstand.identity.service import EmailTaken, UsernameTaken, WeakPassword
from tests.identity.conftest import IdentityHarness


async def test_create_superuser_makes_an_admin_who_can_log_in(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    user = await create_superuser(identity.settings, "root", "root@example.com", "super-secret-1")

    assert (user.role, user.is_active) == ("admin", True)
    tokens = await identity.login("root@example.com", "super-secret-1")
    users = await client.get("/api/v1/users", headers=tokens.headers)
    assert users.status_code == 200
    assert users.json()["count"] == 3
    (event,) = await identity.outbox("identity.user.registered")
    assert event["payload"]["role"] == "admin"


@pytest.mark.parametrize(
    ("username", "email", "password", "error"),
    [
        ("BOSS", "other@example.com", "super-secret-1", UsernameTaken),
        ("root", "Boss@Example.com", "super-secret-1", EmailTaken),
        ("rootroot", "root@example.com", "RootRoot", WeakPassword),
        ("root", "root@example.com", "short", ValidationError),
        ("root", "not-an-email", "super-secret-1", ValidationError),
    ],
)
async def test_create_superuser_applies_the_account_rules(
    identity: IdentityHarness,
    username: str,
    email: str,
    password: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await create_superuser(identity.settings, username, email, password)
    assert await identity.user_count() == 2
    assert await identity.outbox() == []


async def test_an_admin_created_beside_the_running_platform_is_in_the_next_count(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    """The command's commit moves identity's write generation, so the users list's kept count,
    read just before, is not answered again."""
    await create_superuser(identity.settings, "root", "root@example.com", "super-secret-1")
    tokens = await identity.login("root@example.com", "super-secret-1")
    before = (await client.get("/api/v1/users", headers=tokens.headers)).json()["count"]
    await create_superuser(identity.settings, "second", "second@example.com", "super-secret-2")
    after = await client.get("/api/v1/users", headers=tokens.headers)
    assert after.json()["count"] == before + 1

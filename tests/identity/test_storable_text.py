"""Text PostgreSQL cannot store (NUL) or that is not UTF-8 (a lone surrogate) is a validation
error naming the field on every identity route, body or query, never a 500; and text it can
store comes back exactly as it was sent."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.identity.conftest import IdentityHarness, Tokens, error_locations
from tests.identity.test_bad_input import ROUTES, WriteRoute

UNSTORABLE = {"NUL": "\x00", "a lone surrogate": "\ud800"}


def _with(route: WriteRoute, name: str, bad: str) -> bytes:
    """The route's valid body with `bad` inside field `name` (otherwise a valid value), as
    JSON text: `\\ud800` travels escaped, as a client's JSON encoder sends it."""
    base = route.valid.get(name)
    text = base if isinstance(base, str) else "valid-value-1"
    middle = len(text) // 2
    return json.dumps({**route.valid, name: text[:middle] + bad + text[middle:]}).encode()


@pytest.mark.parametrize("route", ROUTES, ids=str)
async def test_unstorable_text_is_refused_naming_the_field(
    identity: IdentityHarness, client: httpx.AsyncClient, route: WriteRoute
) -> None:
    tokens: Tokens | None = None
    if route.caller is not None:
        tokens = await identity.tokens(getattr(identity, route.caller))
    headers = {"Content-Type": "application/json", **(tokens.headers if tokens else {})}
    path = route.path.format(member=identity.member.id)
    users_before = await identity.users_snapshot()

    for name in route.strings:
        for kind, bad in UNSTORABLE.items():
            body = _with(route, name, bad)
            response = await client.request(route.method, path, content=body, headers=headers)
            assert response.status_code == route.status, (name, kind, response.text)
            assert name in error_locations(response.json()), (name, kind, response.json())
            if route.legacy_key:
                assert name in response.json()[route.legacy_key]

    assert await identity.users_snapshot() == users_before
    assert await identity.outbox() == []


async def test_a_nul_in_the_user_search_is_refused(
    client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    response = await client.get("/api/v1/users/?search=ad%00a", headers=admin_tokens.headers)
    assert response.status_code == 422, response.text
    assert error_locations(response.json()) == ["query", "search"]


async def test_storable_text_is_kept_as_sent(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    names = {"first_name": "Zoë 🎸 ﬁ", "last_name": "Ŋ\u200b\U0001d11e\ufeff"}
    registered = await client.post(
        "/api/v1/register",
        json={"username": "zoe", "email": "zoe@example.com", "password": "pässwörd-🎸", **names},
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()["user"]
    assert {key: user[key] for key in names} == names
    stored = await identity.stored_user(user["id"])
    assert stored is not None
    assert (stored.first_name, stored.last_name) == (names["first_name"], names["last_name"])
    await identity.login("zoe", "pässwörd-🎸")

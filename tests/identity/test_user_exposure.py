"""The music player's `GET /users` and `GET /users/{id}` show a caller only the public fields of
other accounts (id, username, names); the owner sees the whole record, an admin every one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.identity.conftest import IdentityHarness, Tokens

PUBLIC = {"id", "username", "first_name", "last_name"}
FULL = PUBLIC | {"email", "role", "is_active", "created_at", "updated_at"}


def _by_name(users: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {user["username"]: user for user in users}


async def test_a_user_sees_only_the_public_fields_of_others(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    other = await identity.add_user("other", first_name="Ada", last_name="Byron")

    listed = await client.get("/users", headers=member_tokens.headers)
    assert listed.status_code == 200
    users = _by_name(listed.json())
    assert set(users["member"]) == FULL
    assert users["member"]["email"] == "member@example.com"
    for name in ("boss", "other"):
        assert set(users[name]) == PUBLIC, users[name]
    assert users["other"] == {
        "id": other.id,
        "username": "other",
        "first_name": "Ada",
        "last_name": "Byron",
    }

    one = await client.get(f"/users/{other.id}", headers=member_tokens.headers)
    assert one.status_code == 200
    assert one.json() == users["other"]
    admin = await client.get(f"/users/{identity.admin.id}", headers=member_tokens.headers)
    assert set(admin.json()) == PUBLIC  # not even that this account is an admin's
    own = await client.get(f"/users/{identity.member.id}", headers=member_tokens.headers)
    assert set(own.json()) == FULL


async def test_an_admin_sees_every_field_of_everyone(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    listed = await client.get("/users", headers=admin_tokens.headers)
    assert listed.status_code == 200
    assert all(set(user) == FULL for user in listed.json())
    one = await client.get(f"/users/{identity.member.id}", headers=admin_tokens.headers)
    assert set(one.json()) == FULL
    assert one.json()["email"] == "member@example.com"


async def test_the_documented_responses_name_both_shapes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert set(schemas["PublicUser"]["properties"]) == PUBLIC
    assert schemas["PublicUser"]["additionalProperties"] is False
    for path in ("/users", "/users/{user_id}"):
        ok = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        text = str(ok["schema"])
        assert "#/components/schemas/PublicUser" in text
        assert "#/components/schemas/UserRead" in text

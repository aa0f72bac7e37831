"""The admin's user management (`/api/v1/users/`) and the music player's `/users` routes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from tests.identity.conftest import USER_PASSWORD, IdentityHarness, Tokens
from tests.support.bodies import assert_lists_exactly

USERS = "/api/v1/users/"
READ_FIELDS = {"id", "username", "email", "first_name", "last_name", "created_at", "updated_at"}


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def test_list_users_is_a_page(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    response = await client.get(USERS, headers=admin_tokens.headers)

    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["next"], page["previous"]) == (2, None, None)
    assert [user["username"] for user in page["results"]] == ["boss", "member"]
    assert {"id", "username", "email", "role", "is_active"} <= set(page["results"][0])


async def test_list_users_paginates(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    for number in range(23):
        await identity.add_user(f"fan{number:02d}")
    headers = admin_tokens.headers

    first = (await client.get(USERS, params={"page_size": 10}, headers=headers)).json()
    assert first["count"] == 25
    assert len(first["results"]) == 10
    assert first["previous"] is None
    # `next` carries a cursor after the page's last user; page=2 is the same page by number.
    assert set(_query(first["next"])) == {"cursor", "page_size"}
    second = (await client.get(first["next"], headers=headers)).json()
    by_number = await client.get(USERS, params={"page": 2, "page_size": 10}, headers=headers)
    assert second["results"] == by_number.json()["results"]

    last = (await client.get(USERS, params={"page": 3, "page_size": 10}, headers=headers)).json()
    assert [user["username"] for user in last["results"]] == [f"fan{n}" for n in range(18, 23)]
    assert last["next"] is None
    assert _query(last["previous"]) == {"page": ["2"], "page_size": ["10"]}

    default = (await client.get(USERS, headers=headers)).json()
    assert len(default["results"]) == 20

    beyond = await client.get(USERS, params={"page": 4, "page_size": 10}, headers=headers)
    assert beyond.status_code == 404
    assert beyond.json() == {"detail": "Invalid page."}
    for params in ({"page": 0}, {"page_size": 101}, {"page_size": 0}, {"page": "two"}):
        response = await client.get(USERS, params=params, headers=headers)
        assert response.status_code == 422, params
        assert next(iter(params)) in str(response.json()["detail"])


FILTERS = [
    ({"search": "ADA"}, ["ada", "adam"]),
    ({"search": "lovelace"}, ["ada"]),
    ({"search": "@example.org"}, ["adam"]),
    ({"search": "%"}, []),
    ({"search": "_"}, ["under_score"]),
    ({"role": "instructor"}, ["adam"]),
    ({"role": "admin"}, ["boss"]),
    ({"role": "user", "search": "ad"}, ["ada"]),
    ({"search": "nobody"}, []),
]


async def test_list_users_filters(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    await identity.add_user("ada", first_name="Ada", last_name="Lovelace")
    await identity.add_user("adam", email="adam@example.org", role="instructor")
    await identity.add_user("under_score")

    for params, expected in FILTERS:
        response = await client.get(USERS, params=params, headers=admin_tokens.headers)

        assert response.status_code == 200
        assert [user["username"] for user in response.json()["results"]] == expected, params
        assert response.json()["count"] == len(expected)


async def test_list_users_refuses_unknown_roles_and_long_searches(
    client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    for params in ({"role": "wizard"}, {"search": "x" * 101}):
        response = await client.get(USERS, params=params, headers=admin_tokens.headers)
        assert response.status_code == 422
        assert next(iter(params)) in str(response.json()["detail"])


async def test_a_listed_user_is_written_exactly_as_the_user_alone(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    await identity.add_user("zoë", first_name="Zoë ✓", last_name='"Q"', role="instructor")
    await identity.add_user("off", is_active=False, email="Off@Example.com")
    headers = admin_tokens.headers
    page = await client.get(USERS, headers=headers)
    ids = [user["id"] for user in page.json()["results"]]
    assert len(ids) == 4
    alone = []
    for user_id in ids:
        response = await client.get(f"{USERS}{user_id}", headers=headers)
        assert response.status_code == 200
        alone.append(response.content)
    assert page.content.startswith(b'{"count":4,"next":null,"previous":null,"results":[')
    assert_lists_exactly(page.content, alone)
    assert b"password" not in page.content
    second = await client.get(USERS, params={"page_size": 3, "page": 2}, headers=headers)
    assert_lists_exactly(second.content, alone[3:])


async def test_get_one_user(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    response = await client.get(f"{USERS}{identity.member.id}", headers=admin_tokens.headers)
    assert response.status_code == 200
    assert response.json()["username"] == "member"

    missing = await client.get(f"{USERS}999", headers=admin_tokens.headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "User with id 999 not found"}
    wrong = await client.get(f"{USERS}abc", headers=admin_tokens.headers)
    assert wrong.status_code == 422


async def test_admin_changes_a_role(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    member_tokens = await identity.tokens(identity.member)

    response = await client.put(
        f"{USERS}{identity.member.id}", json={"role": "instructor"}, headers=admin_tokens.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "instructor"
    # The next access token carries the new role.
    refreshed = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": member_tokens.refresh_token}
    )
    claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "instructor"

    invalid = await client.put(
        f"{USERS}{identity.member.id}", json={"role": "root"}, headers=admin_tokens.headers
    )
    assert invalid.status_code == 422
    assert "role" in str(invalid.json()["detail"])


async def test_admin_deactivates_and_reactivates_a_user(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    member_tokens = await identity.tokens(identity.member)
    url = f"{USERS}{identity.member.id}"

    response = await client.put(url, json={"is_active": False}, headers=admin_tokens.headers)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    login = {"username": "member", "password": USER_PASSWORD}
    assert (await client.post("/api/v1/login", json=login)).status_code == 401
    refresh = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": member_tokens.refresh_token}
    )
    assert refresh.status_code == 401
    assert all(t.revoked_at is not None for t in await identity.refresh_tokens(identity.member.id))

    await client.patch(url, json={"is_active": True}, headers=admin_tokens.headers)
    assert (await client.post("/api/v1/login", json=login)).status_code == 200


ADMIN_UPDATE_REFUSALS: list[tuple[dict[str, Any], int, str]] = [
    ({"username": "BOSS"}, 400, "Username already exists"),
    ({"email": "boss@EXAMPLE.com"}, 400, "Email already exists"),
    ({"id": 77}, 422, "id"),
    ({"created_at": "2000-01-01T00:00:00Z"}, 422, "created_at"),
    ({"password": "new-password-1"}, 422, "password"),
    ({"is_active": "perhaps"}, 422, "is_active"),
]


async def test_admin_update_refusals_change_nothing(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    before = await identity.users_snapshot()
    for changes, status, field in ADMIN_UPDATE_REFUSALS:
        response = await client.put(
            f"{USERS}{identity.member.id}",
            json={"first_name": "Changed", **changes},
            headers=admin_tokens.headers,
        )
        assert response.status_code == status, changes
        assert field in str(response.json()["detail"]), changes
    assert await identity.users_snapshot() == before
    assert await identity.outbox() == []


async def test_admin_update_of_a_missing_user_is_404(
    client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    response = await client.put(f"{USERS}999", json={"role": "user"}, headers=admin_tokens.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "User with id 999 not found"}


async def test_admin_deletes_a_user(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    member_tokens = await identity.tokens(identity.member)
    url = f"{USERS}{identity.member.id}"

    response = await client.delete(url, headers=admin_tokens.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(url, headers=admin_tokens.headers)).status_code == 404
    again = await client.delete(url, headers=admin_tokens.headers)
    assert again.status_code == 404
    assert again.json() == {"detail": f"User with id {identity.member.id} not found"}
    assert await identity.user_count() == 1
    assert await identity.refresh_tokens(identity.member.id) == []
    refresh = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": member_tokens.refresh_token}
    )
    assert refresh.status_code == 401
    login = {"username": "member", "password": USER_PASSWORD}
    assert (await client.post("/api/v1/login", json=login)).status_code == 401


# --- the music player's routes (contract C) ---------------------------------------------------


async def test_legacy_list_users_is_a_bare_list(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    for number in range(3):
        await identity.add_user(f"fan{number}")

    everyone = await client.get("/users", headers=member_tokens.headers)
    assert everyone.status_code == 200
    assert [user["username"] for user in everyone.json()] == [
        "boss",
        "member",
        "fan0",
        "fan1",
        "fan2",
    ]
    limited = await client.get("/users/", params={"limit": 2}, headers=member_tokens.headers)
    assert [user["username"] for user in limited.json()] == ["boss", "member"]
    for limit in (0, 1001, "many"):
        response = await client.get(
            "/users", params={"limit": limit}, headers=member_tokens.headers
        )
        assert response.status_code == 422


async def test_legacy_get_user(
    identity: IdentityHarness, client: httpx.AsyncClient, member_tokens: Tokens
) -> None:
    response = await client.get(f"/users/{identity.member.id}", headers=member_tokens.headers)
    assert response.status_code == 200
    user = response.json()
    assert {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "created_at",
        "updated_at",
    } <= set(user)
    assert user["username"] == "member"

    missing = await client.get("/users/42", headers=member_tokens.headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "User with id 42 not found"}


async def test_legacy_update_user_may_set_a_password(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    member_tokens = await identity.tokens(identity.member)

    response = await client.put(
        f"/users/{identity.member.id}",
        json={"last_name": "Renamed", "password": "set-by-the-admin"},
        headers=admin_tokens.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["last_name"] == "Renamed"
    refresh = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": member_tokens.refresh_token}
    )
    assert refresh.status_code == 401
    await identity.login("member", "set-by-the-admin")
    (event,) = await identity.outbox("identity.user.updated")
    assert sorted(event["payload"]["changed"]) == ["last_name", "password"]

    weak = await client.put(
        f"/users/{identity.member.id}", json={"password": "member"}, headers=admin_tokens.headers
    )
    assert weak.status_code == 422
    same_as_name = await client.put(
        f"/users/{identity.member.id}",
        json={"password": "MEMBER@example.com"},
        headers=admin_tokens.headers,
    )
    assert same_as_name.status_code == 400
    assert same_as_name.json() == {"detail": "Password must not be the username or email"}


async def test_legacy_delete_user(
    identity: IdentityHarness, client: httpx.AsyncClient, admin_tokens: Tokens
) -> None:
    response = await client.delete(f"/users/{identity.member.id}", headers=admin_tokens.headers)
    assert response.status_code == 200
    assert response.json() == {"detail": "User deleted"}
    again = await client.delete(f"/users/{identity.member.id}", headers=admin_tokens.headers)
    assert again.status_code == 404
    assert again.json() == {"detail": f"User with id {identity.member.id} not found"}

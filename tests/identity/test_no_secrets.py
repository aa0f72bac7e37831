"""No response ever carries a password or a password hash.

Every client of these tests also checks each response it receives (see `assert_no_secrets` in
conftest.py); this test walks every successful route explicitly and reads the raw bodies.
"""

from __future__ import annotations

import httpx

from tests.identity.conftest import USER_PASSWORD, IdentityHarness

REGISTER = {"username": "alice", "email": "alice@example.com", "password": "correct-horse-1"}


async def test_no_successful_response_contains_a_password_or_hash(
    identity: IdentityHarness, client: httpx.AsyncClient
) -> None:
    admin = (await identity.tokens(identity.admin)).headers
    login = await client.post(
        "/api/v1/login", json={"username": "member", "password": USER_PASSWORD}
    )
    member = {"Authorization": f"Bearer {login.json()['access_token']}"}
    member_id = identity.member.id
    responses = [
        login,
        await client.post("/api/v1/register", json=REGISTER),
        await client.post(
            "/users", json={**REGISTER, "username": "bob", "email": "bob@example.com"}
        ),
        await client.post("/auth/login", json={"email": "alice", "password": REGISTER["password"]}),
        await client.post(
            "/api/v1/token/refresh", json={"refresh_token": login.json()["refresh_token"]}
        ),
        await client.get("/api/v1/profile", headers=member),
        await client.put("/api/v1/profile", json={"first_name": "M"}, headers=member),
        await client.get("/api/v1/users", headers=admin),
        await client.get(f"/api/v1/users/{member_id}", headers=admin),
        await client.put(f"/api/v1/users/{member_id}", json={"last_name": "L"}, headers=admin),
        await client.get("/users", headers=member),
        await client.get(f"/users/{member_id}", headers=member),
        await client.get("/.well-known/jwks.json"),
        await client.post("/api/v1/logout", headers=member),
        # Last: a password set by an admin ends the member's tokens.
        await client.put(f"/users/{member_id}", json={"password": "reset-by-admin"}, headers=admin),
    ]

    for response in responses:
        assert response.status_code < 300, (response.request.url, response.text)
        assert "password" not in response.text, response.request.url
        assert "$argon2" not in response.text, response.request.url


async def test_the_openapi_read_schemas_have_no_password(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("UserRead", "UserSummary", "RegisterResponse", "LoginResponse", "ProfileResponse"):
        assert not any("password" in field for field in schemas[name]["properties"]), name

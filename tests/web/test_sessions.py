"""Signed-in sessions of the pages: tokens kept server-side, rotated transparently, revoked."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bandstand.platform.runtime import Runtime
from bandstand.web.sessions import COOKIE, Sessions
from tests.web.inprocess import PASSWORD, Pages


def _session_key(pages: Pages) -> str:
    return Sessions._key(pages.client.cookies[COOKIE])


async def _expire_access_token(runtime: Runtime, key: str) -> dict[str, object]:
    stored = json.loads(await runtime.cache.get(key) or "{}")
    stored["expires_at"] = 0
    await runtime.cache.set(key, json.dumps(stored))
    return stored


async def test_the_browser_holds_an_id_and_the_tokens_stay_on_the_server(
    pages: Pages,
) -> None:
    client, runtime = pages.client, pages.runtime
    await pages.sign_up_by_form("keeper")
    cookie = client.cookies[COOKIE]
    stored = json.loads(await runtime.cache.get(_session_key(pages)) or "{}")
    assert stored["username"] == "keeper"
    assert stored["access_token"] not in cookie
    assert stored["refresh_token"] not in cookie
    account = await client.get("/account")
    assert account.status_code == 200
    assert 'value="keeper@example.com"' in account.text


async def test_an_expired_access_token_is_rotated_once_for_requests_arriving_together(
    pages: Pages,
) -> None:
    client, runtime = pages.client, pages.runtime
    await pages.sign_up_by_form("rotator")
    key = _session_key(pages)
    before = await _expire_access_token(runtime, key)
    answers = await asyncio.gather(*(client.get("/account") for _ in range(5)))
    assert [answer.status_code for answer in answers] == [200] * 5
    after = json.loads(await runtime.cache.get(key) or "{}")
    assert after["refresh_token"] != before["refresh_token"]
    assert after["expires_at"] > 0
    # Had two requests each rotated the same refresh token, identity would have taken the second
    # for a stolen token's reuse and ended the session: it is alive.
    assert (await client.get("/account")).status_code == 200


async def test_a_session_whose_refresh_token_was_revoked_is_signed_out(
    pages: Pages,
) -> None:
    client, runtime = pages.client, pages.runtime
    await pages.sign_up_by_form("revoked")
    key = _session_key(pages)
    stored = await _expire_access_token(runtime, key)
    revoked = await client.post(
        "/api/v1/logout",
        json={"refresh_token": stored["refresh_token"]},
        headers={"Authorization": f"Bearer {stored['access_token']}"},
    )
    assert revoked.status_code == 200
    page = await client.get("/account")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Faccount"
    assert await runtime.cache.get(key) is None


async def test_log_out_revokes_the_refresh_token_at_identity(
    pages: Pages,
) -> None:
    client, runtime = pages.client, pages.runtime
    await pages.sign_up_by_form("leaving")
    key = _session_key(pages)
    stored = json.loads(await runtime.cache.get(key) or "{}")
    logged_out = await pages.post("/logout")
    assert logged_out.status_code == 303
    assert await runtime.cache.get(key) is None
    reused = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": stored["refresh_token"]}
    )
    assert reused.status_code == 401


async def test_log_in_takes_a_username_or_an_email_and_goes_back_where_asked(
    pages: Pages,
) -> None:
    client = pages.client
    await pages.sign_up_by_form("returner")
    client.cookies.delete(COOKIE)
    for login in ("returner", "returner@example.com"):
        answer = await pages.post("/login", login=login, password=PASSWORD, next="/account")
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/account"
        client.cookies.delete(COOKIE)
    elsewhere = await pages.post(
        "/login", login="returner", password=PASSWORD, next="//evil.example"
    )
    assert elsewhere.headers["location"] == "/"


async def test_pages_send_their_security_headers(
    pages: Pages,
) -> None:
    client = pages.client
    home = await client.get("/")
    policy = home.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"] == "same-origin"
    assert home.headers["x-frame-options"] == "DENY"
    asset = await client.get(re.search(r'href="(/static/app\.css\?v=[^"]+)"', home.text).group(1))  # type: ignore[union-attr]
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    # An unknown path outside the pages stays the API's JSON 404.
    assert (await client.get("/nowhere")).json() == {"detail": "Not Found"}


async def test_log_out_with_an_expired_access_token_still_revokes_the_refresh_token(
    pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, runtime = pages.client, pages.runtime
    await pages.sign_up_by_form("lateleaver")
    key = _session_key(pages)
    await _expire_access_token(runtime, key)
    written: list[dict[str, object]] = []
    keep = runtime.cache.set

    async def recording_set(name: str, value: str, ttl: float | None = None) -> None:
        if name == key:
            written.append(json.loads(value))
        await keep(name, value, ttl)

    monkeypatch.setattr(runtime.cache, "set", recording_set)
    logged_out = await pages.post("/logout")
    assert logged_out.status_code == 303
    assert await runtime.cache.get(key) is None
    (rotated,) = written  # rotated once, then revoked with the new tokens
    reused = await client.post(
        "/api/v1/token/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert reused.status_code == 401
    profile = await client.get(
        "/api/v1/profile", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert profile.status_code == 401

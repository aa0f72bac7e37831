"""Settings: contract D's routes, public settings for anyone, bad input refused with nothing
stored, and every change audited end to end (outbox → broker → the audit consumer → the log)."""

from __future__ import annotations

from typing import Any

import pytest

from bandstand.admin.schemas import SettingCreate
from tests.admin.conftest import ADMIN_ID, Admin
from tests.support.bodies import assert_lists_exactly
from tests.support.waiting import eventually

SETTING = {"key": "site.name", "value": "Bandstand", "description": "Shown in titles"}


async def _create(admin: Admin, **fields: Any) -> dict[str, Any]:
    response = await admin.client.post(
        "/api/v1/settings/", json={**SETTING, **fields}, headers=admin.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_read_update_delete(admin: Admin) -> None:
    created = await _create(admin)
    assert {key: created[key] for key in ("key", "value", "description", "is_public")} == {
        **SETTING,
        "is_public": False,
    }
    assert created["updated_by"] == ADMIN_ID

    listed = (await admin.client.get("/api/v1/settings/", headers=admin.admin)).json()
    assert listed["count"] == 1
    assert listed["results"][0]["key"] == "site.name"
    one = await admin.client.get("/api/v1/settings/site.name/", headers=admin.admin)
    assert one.json()["value"] == "Bandstand"
    # Stored times come back in UTC with their offset, a JSON Schema `date-time`.
    assert one.json()["created_at"].endswith(("Z", "+00:00")), one.json()["created_at"]

    updated = await admin.client.put(
        "/api/v1/settings/site.name/", json={"value": "Bandstand Live"}, headers=admin.admin
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["value"] == "Bandstand Live"
    assert updated.json()["description"] == "Shown in titles"

    deleted = await admin.client.delete("/api/v1/settings/site.name/", headers=admin.admin)
    assert deleted.status_code == 204
    assert await admin.settings_snapshot() == []
    types = [event["type"] for event in await admin.outbox()]
    assert types == ["admin.setting.created", "admin.setting.updated", "admin.setting.deleted"]
    payloads = [event["payload"] for event in await admin.outbox()]
    assert all(p["key"] == "site.name" and p["actor_id"] == ADMIN_ID for p in payloads)
    assert payloads[1]["changed"] == ["value"]


async def test_a_listed_setting_is_written_exactly_as_the_setting_alone(admin: Admin) -> None:
    await _create(admin, key="b.theme", value="dark ✓", is_public=True)
    await _create(admin, key="a.motto", value='"Quoted"\nand\ttabbed', description="")
    alone = []
    for key in ("a.motto", "b.theme"):
        response = await admin.client.get(f"/api/v1/settings/{key}", headers=admin.admin)
        assert response.status_code == 200
        alone.append(response.content)
    listed = await admin.client.get("/api/v1/settings", headers=admin.admin)
    assert listed.content.startswith(b'{"count":2,"next":null,"previous":null,"results":[')
    assert_lists_exactly(listed.content, alone)
    public = await admin.client.get("/api/v1/settings/public")
    assert public.content == (
        b'{"count":1,"next":null,"previous":null,"results":[{"key":"b.theme",'
        + '"value":"dark ✓","description":"Shown in titles","is_public":true}]}'.encode()
    )


async def test_public_settings_are_readable_by_anyone(admin: Admin) -> None:
    await _create(admin, key="theme", value="dark", is_public=True)
    await _create(admin, key="smtp.password", value="secret")
    for headers in ({}, admin.alice, admin.admin):
        response = await admin.client.get("/api/v1/settings/public/", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        assert body["results"] == [
            {"key": "theme", "value": "dark", "description": "Shown in titles", "is_public": True}
        ]


async def test_unknown_setting_is_404_with_error(admin: Admin) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await admin.client.request(
            method, "/api/v1/settings/nope/", json={"value": "x"}, headers=admin.admin
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Setting not found", "error": "Setting not found"}


async def test_a_duplicate_key_is_409_and_changes_nothing(admin: Admin) -> None:
    await _create(admin)
    again = await admin.client.post(
        "/api/v1/settings/", json={**SETTING, "value": "Other"}, headers=admin.admin
    )
    assert again.status_code == 409
    assert again.json()["error"] == "Setting already exists"
    assert await admin.settings_snapshot() == [("site.name", "Bandstand", "Shown in titles", False)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "key"),
        ({"key": "a b", "value": "x"}, "key"),
        ({"key": "", "value": "x"}, "key"),
        ({"key": "k" * 101, "value": "x"}, "key"),
        ({"key": "public", "value": "x"}, "key"),
        ({"key": "k"}, "value"),
        ({"key": "k", "value": 5}, "value"),
        ({"key": "k", "value": "a\x00b"}, "value"),
        ({"key": "k", "value": "v" * 10_001}, "value"),
        ({"key": "k", "value": "v", "description": "d" * 501}, "description"),
        ({"key": "k", "value": "v", "is_public": "maybe"}, "is_public"),
        ({"key": "k", "value": "v", "is_public": 1}, "is_public"),
        ({"key": "k", "value": "v", "created_at": "2020-01-01"}, "created_at"),
        ({"key": "k", "value": "v", "updated_by": 9}, "updated_by"),
    ],
)
async def test_bad_creations_are_400_naming_the_field_and_store_nothing(
    admin: Admin, body: dict[str, Any], field: str
) -> None:
    response = await admin.client.post("/api/v1/settings/", json=body, headers=admin.admin)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert await admin.settings_snapshot() == []
    assert await admin.outbox() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"value": None}, "value"),
        ({"is_public": None}, "is_public"),
        ({"is_public": 0}, "is_public"),
        ({"value": 3}, "value"),
        ({"description": "d" * 501}, "description"),
        ({"key": "renamed"}, "key"),
    ],
)
async def test_bad_updates_are_400_and_change_nothing(
    admin: Admin, body: dict[str, Any], field: str
) -> None:
    await _create(admin)
    before = await admin.settings_snapshot()
    events_before = await admin.outbox()
    response = await admin.client.put("/api/v1/settings/site.name/", json=body, headers=admin.admin)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]
    assert await admin.settings_snapshot() == before
    assert await admin.outbox() == events_before


async def test_a_bad_key_in_the_path_is_400(admin: Admin) -> None:
    response = await admin.client.put(
        "/api/v1/settings/bad%20key/", json={"value": "x"}, headers=admin.admin
    )
    assert response.status_code == 400
    assert "key" in response.json()["error"]


async def test_an_unchanged_update_publishes_nothing(admin: Admin) -> None:
    await _create(admin)
    for method in ("PUT", "PATCH"):
        response = await admin.client.request(
            method, "/api/v1/settings/site.name/", json={"value": "Bandstand"}, headers=admin.admin
        )
        assert response.status_code == 200
    assert [event["type"] for event in await admin.outbox()] == ["admin.setting.created"]


async def test_every_change_reaches_the_audit_log(admin: Admin) -> None:
    """Through the outbox relay, the broker and admin's own audit subscription."""
    await admin.subscribed()
    await _create(admin)
    await admin.client.put(
        "/api/v1/settings/site.name/", json={"is_public": True}, headers=admin.admin
    )
    await admin.client.delete("/api/v1/settings/site.name/", headers=admin.admin)

    async def logged() -> bool:
        return await admin.entry_count() == 3

    await eventually(logged)
    response = await admin.client.get("/api/v1/logs/?service=admin", headers=admin.admin)
    results = response.json()["results"]
    assert [item["action"] for item in results] == [
        "admin.setting.deleted",
        "admin.setting.updated",
        "admin.setting.created",
    ]
    assert all(item["user"] == ADMIN_ID for item in results)
    assert all(item["model_name"] == "setting" for item in results)
    assert all(item["object_id"] == "site.name" for item in results)
    assert results[1]["details"]["changed"] == ["is_public"]


def test_the_create_schema_refuses_mass_assignment() -> None:
    assert set(SettingCreate.model_fields) == {"key", "value", "description", "is_public"}

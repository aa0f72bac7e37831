"""Admin's part of retention: audit entries older than `retention_audit_days` are pruned by the
service's scheduled job (0 keeps them), and a deleted user's IP address and user agent are erased
from the entries they acted in. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bandstand.platform.messaging import Message
from bandstand.platform.settings import Settings
from tests.admin.conftest import Admin, event, running_admin
from tests.support.tokens import TokenFactory
from tests.support.waiting import eventually

NOW = datetime.now(UTC)
CLIENT = {"ip_address": "198.51.100.7", "user_agent": "Firefox/140"}


def login(user_id: int, **extra: object) -> dict[str, object]:
    return {"user_id": user_id, "username": f"u{user_id}", "actor_id": user_id, **extra}


async def test_a_deleted_users_address_and_browser_are_erased(admin: Admin) -> None:
    await admin.record(
        [
            event("identity.user.logged_in", login(5, **CLIENT)),
            event("identity.user.logged_in", login(5, **CLIENT)),
            event("music.song.liked", {"song_id": 1, "user_id": 5, "actor_id": 5}),
            event("identity.user.logged_in", login(6, **CLIENT)),
        ]
    )
    await admin.record([event("identity.user.deleted", {"user_id": 5, "actor_id": 1})])

    entries = {entry.id: entry for entry in await admin.entries()}
    of_5 = [entry for entry in entries.values() if entry.actor_id == 5]
    assert len(of_5) == 3
    for entry in of_5:
        assert entry.ip_address is None
        assert entry.user_agent is None
        assert "ip_address" not in entry.details
        assert "user_agent" not in entry.details
    logins_of_5 = [entry for entry in of_5 if entry.action == "identity.user.logged_in"]
    assert [entry.details["username"] for entry in logins_of_5] == ["u5", "u5"]
    [other] = [entry for entry in entries.values() if entry.actor_id == 6]
    assert other.ip_address == CLIENT["ip_address"]
    assert other.user_agent == CLIENT["user_agent"]
    assert other.details["ip_address"] == CLIENT["ip_address"]


async def test_a_deletion_in_the_same_batch_as_the_login_erases_it_too(admin: Admin) -> None:
    await admin.record(
        [
            event("identity.user.logged_in", login(7, **CLIENT)),
            event("identity.user.deleted", {"user_id": 7, "actor_id": 7}),
        ]
    )
    [logged_in] = [e for e in await admin.entries() if e.action == "identity.user.logged_in"]
    assert logged_in.ip_address is None
    assert logged_in.user_agent is None


def dated(days_ago: float, n: int) -> Message:
    return event("music.song.liked", {"song_id": n}, at=NOW - timedelta(days=days_ago))


async def test_the_services_job_prunes_old_audit_entries(
    make_settings: Callable[..., Settings], admin_database_url: str, tokens: TokenFactory
) -> None:
    settings = make_settings(
        databases={"admin": admin_database_url},
        retention_interval_seconds=0.05,
        retention_batch_size=2,
    )
    async with running_admin(settings, tokens) as admin:
        await admin.record(
            [dated(400, 1), dated(366, 2), dated(380, 3), dated(364, 4), dated(1, 5)]
        )

        async def pruned() -> bool:
            return await admin.entry_count() == 2

        await eventually(pruned)
        left = sorted(entry.details["song_id"] for entry in await admin.entries())
        assert left == [4, 5]


async def test_zero_keeps_audit_entries_forever(
    make_settings: Callable[..., Settings], admin_database_url: str, tokens: TokenFactory
) -> None:
    settings = make_settings(databases={"admin": admin_database_url}, retention_audit_days=0)
    async with running_admin(settings, tokens) as admin:
        await admin.record([dated(4000, 1), dated(1, 2)])
        report = await admin.app.state.retention.run_once()
        assert "audit_log" not in report.deleted
        assert await admin.entry_count() == 2

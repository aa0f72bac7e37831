"""Every list of the platform answers the same through a `LeanRoute`'s plan as through FastAPI's
own dependency solving: valid and invalid parameters, signed in and anonymous, inherited
contracts included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bandstand.platform import lean_routes
from bandstand.platform.settings import Settings
from tests.web.inprocess import Pages, migrated, pages_of

TARGETS = [
    "/api/v1/songs",
    "/api/v1/songs?page_size=1",
    "/api/v1/songs?search=blue&ordering=-likes",
    "/api/v1/songs?page_size=0",
    "/api/v1/songs?page=abc",
    "/api/v1/songs?ordering=loudest",
    "/api/v1/songs?page=7",
    "/api/v1/songs?cursor=nonsense",
    "/api/v1/songs/facets",
    "/api/v1/albums?ordering=-title",
    "/api/v1/pictures",
    "/api/v1/concerts?upcoming=true",
    "/api/v1/concerts?upcoming=perhaps",
    "/api/v1/movies?page_size=1",
    "/api/v1/movies?title=blue",
    "/api/v1/courses",
    "/api/v1/courses?difficulty=impossible",
    "/api/v1/instruments?search=guitar",
    "/api/v1/instruments?max_price=-1",
    "/api/v1/settings",
    "/api/v1/billing/orders",
    "/api/v1/billing/dead-letters",
    "/api/v1/logs?service=music",
    "/api/v1/users?page_size=1",
    "/api/v1/me/likes",
    "/api/v1/me/concerts?status=going",
    "/api/v1/courses/popular",
    "/api/v1/songs/1",
    "/api/v1/songs/one",
    "/api/v1/albums/1/songs",
    "/songs/",
    "/albums/",
    "/api/movies/",
    "/listInstrument?page=1",
]


async def _answers(pages: Pages, token: str | None) -> list[tuple[str, int, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answers = []
    for target in TARGETS:
        answer = await pages.client.get(target, headers=headers)
        body = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else answer.text
        )
        answers.append((target, answer.status_code, body))
    return answers


async def _audit_log_has(pages: Pages, entries: int) -> None:
    headers = {"Authorization": f"Bearer {pages.admin_token}"}
    for _ in range(150):
        answer = await pages.client.get("/api/v1/logs?service=music", headers=headers)
        if answer.status_code == 200 and answer.json()["count"] >= entries:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the songs' events did not reach the audit log")


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return migrated(make_settings())


async def test_every_list_answers_alike_planned_or_not(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with pages_of(settings) as pages:
        for n in range(3):
            await pages.create(
                "/api/v1/songs",
                {
                    "title": f"Blue {n}",
                    "artist": "Ada",
                    "genre": "jazz",
                    "duration": 200 + n,
                    "file_url": f"https://example.com/{n}.mp3",
                },
            )
        await _audit_log_has(pages, 3)  # the events arrive through the broker: both passes see them
        runs = 0
        plain_run = lean_routes._Plan.run

        async def counted(self: Any, request: Any) -> Any:
            nonlocal runs
            runs += 1
            return await plain_run(self, request)

        monkeypatch.setattr(lean_routes._Plan, "run", counted)
        planned = [
            *await _answers(pages, pages.admin_token),
            *await _answers(pages, None),
        ]
        assert runs >= len(TARGETS), "the lists' routes are planned"
        assert any(status == 422 for _, status, _ in planned)
        assert all(status < 500 for _, status, _ in planned), planned

        async def fastapi_only(self: Any, request: Any) -> Any:
            raise lean_routes._Invalid

        monkeypatch.setattr(lean_routes._Plan, "run", fastapi_only)
        solved = [
            *await _answers(pages, pages.admin_token),
            *await _answers(pages, None),
        ]
    for one, other in zip(planned, solved, strict=True):
        assert one == other

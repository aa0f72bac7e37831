"""The console's pages over ASGI (the embedded gateway in-process): bad input is a 4xx page
naming the field, never a 500; the console is for admins only; an upload without JavaScript
passes the CSRF check."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import ASGIApp

from bandstand import registry
from bandstand.identity.commands import create_superuser
from bandstand.platform.migrations import upgrade_blocking
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings
from bandstand.web.pages.admin.charts import bar_chart
from tests.support.client import api_client

ADMIN = ("olga", "olga@example.com", "Console-Pass-1")
USER_PASSWORD = "Nosy-Pass-1"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("console")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        broker_url=f"embedded://{data_dir / 'broker.sqlite3'}",
        cache_url="memory://",
        log_json=False,
        access_log=False,
        public_cache_seconds=0,
    )
    for entry in registry.SERVICES:
        if entry.has_database:
            upgrade_blocking(settings.database_url(entry.name), entry.name, entry.migrations)
    return settings


@pytest.fixture(scope="module")
async def gateway(settings: Settings) -> AsyncIterator[ASGIApp]:
    await create_superuser(settings, *ADMIN)
    app = registry.embedded_gateway(Runtime(settings))
    async with api_client(app):  # its lifespan runs while the module's tests do
        yield app


def _client(gateway: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway, client=("203.0.113.10", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


async def _signed_in(gateway: ASGIApp, username: str, password: str) -> httpx.AsyncClient:
    client = _client(gateway)
    form = await client.get("/login")
    answer = await client.post(
        "/login", data={"csrftoken": _token(form), "login": username, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return client


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture(scope="module")
async def admin(gateway: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    client = await _signed_in(gateway, ADMIN[0], ADMIN[2])
    yield client
    await client.aclose()


async def post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={"csrftoken": client.cookies["csrftoken"], **data})


async def test_a_bad_query_is_a_400_page_naming_it(admin: httpx.AsyncClient) -> None:
    for path, named in (
        ("/admin/users?page=0", "page"),
        ("/admin/users?role=superuser", "role"),
        ("/admin/songs?page=abc", "page"),
        ("/admin/songs/not-a-number", "item_id"),
        ("/admin/audit?date_from=yesterday", "YYYY-MM-DD"),
        ("/admin/audit?date_from=2026-03-02&date_to=2026-03-01", "before the first"),
        ("/admin/audit?actor=nobody-is-called-this", "nobody-is-called-this"),
        ("/admin/orders?user_id=-4", "user"),
        ("/admin/orders?status=lost", "status"),
    ):
        answer = await admin.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert named in answer.text, path


async def test_a_refused_form_shows_the_error_beside_its_field(admin: httpx.AsyncClient) -> None:
    song = {"title": "T", "artist": "A", "genre": "G", "file_url": "u", "duration": "3"}
    for path, data, field in (
        ("/admin/songs/new", {**song, "duration": "long"}, "duration"),
        ("/admin/songs/new", {**song, "title": ""}, "title"),
        (
            "/admin/concerts/new",
            {"concert_name": "C", "city": "Oslo", "date": "soon", "duration": "90"},
            "date",
        ),
        (
            "/admin/movies/new",
            {"title": "M", "description": "D", "release_year": "1200"},
            "release_year",
        ),
        ("/admin/courses/new", {"title": "C", "difficulty_level": "EXPERT"}, "difficulty_level"),
        (
            "/admin/instruments/new",
            {"name": "N", "link": "l", "website": "w", "price": "lots"},
            "price",
        ),
        ("/admin/settings", {"key": "no spaces allowed", "value": "v"}, "key"),
    ):
        answer = await post(admin, path, data)
        assert answer.status_code == 400, (path, answer.text)
        assert f'id="{field}-error"' in answer.text, (path, answer.text)


async def test_an_import_without_a_file_or_with_an_unreadable_one_says_why(
    admin: httpx.AsyncClient,
) -> None:
    token = {"csrftoken": admin.cookies["csrftoken"]}
    empty = await admin.post("/admin/instruments/import", data=token, files={"file": ("", b"")})
    assert empty.status_code == 400
    assert "Choose a CSV or JSON Lines file." in empty.text
    headless = await admin.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.csv", b"title,price\nDrum,12\n", "text/csv")},
    )
    assert headless.status_code == 400
    assert "no column" in headless.text
    unknown = await admin.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.xlsx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert unknown.status_code == 400
    assert 'id="format-error"' in unknown.text


async def test_an_import_without_javascript_is_a_plain_multipart_form(
    admin: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    listing = f"name,link\nSnare {tag},https://shop.example/snare-{tag}\nbad,\n".encode()
    answer = await admin.post(
        "/admin/instruments/import",
        data={"csrftoken": admin.cookies["csrftoken"]},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "Imported snare.csv" in answer.text
    assert re.search(r"<td>3</td><td>link</td>", answer.text), answer.text
    forged = await admin.post(
        "/admin/instruments/import",
        data={"csrftoken": "forged"},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert forged.status_code == 403
    assert "security token" in forged.text


async def test_an_unknown_item_is_a_404_page(admin: httpx.AsyncClient) -> None:
    for path in ("/admin/users/999999", "/admin/songs/999999", "/admin/settings/no-such-key"):
        answer = await admin.get(path)
        assert answer.status_code == 404, path


async def test_the_last_admin_is_kept_and_the_refusal_shown(admin: httpx.AsyncClient) -> None:
    users = await admin.get(f"/admin/users?search={ADMIN[0]}")
    user_id = re.search(r'href="/admin/users/(\d+)"', users.text)
    assert user_id
    for path, data in (("role", {"role": "user"}), ("active", {"is_active": "false"})):
        answer = await post(admin, f"/admin/users/{user_id.group(1)}/{path}", data)
        assert answer.status_code == 400
        assert "last active admin" in answer.text
    deleted = await post(admin, f"/admin/users/{user_id.group(1)}/delete", {})
    assert deleted.status_code == 400
    assert "last active admin" in deleted.text


async def test_a_user_is_refused_every_console_page(gateway: ASGIApp) -> None:
    username = f"nosy{uuid.uuid4().hex[:8]}"
    async with _client(gateway) as anonymous:
        registered = await anonymous.post(
            "/api/v1/register",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": USER_PASSWORD,
            },
        )
        assert registered.status_code == 201, registered.text
        sent_away = await anonymous.get("/admin/audit")
        assert sent_away.status_code == 303
        assert sent_away.headers["location"] == "/login?next=%2Fadmin%2Faudit"
    client = await _signed_in(gateway, username, USER_PASSWORD)
    try:
        for path in ("/admin/", "/admin/users", "/admin/dead-letters", "/admin/instruments/import"):
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert "Not allowed" in answer.text
        refused = await post(client, "/admin/users/1/role", {"role": "user"})
        assert refused.status_code == 403
    finally:
        await client.aclose()


async def _created(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> str:
    """Posts a new item's form; the item's console URL it was sent to."""
    answer = await post(client, path, data)
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert re.fullmatch(r"/admin/[a-z/0-9]+/\d+(#\w+)?", location), location
    return location


async def test_catalogue_items_are_added_changed_and_deleted(admin: httpx.AsyncClient) -> None:
    concert = await _created(
        admin,
        "/admin/concerts/new",
        {
            "concert_name": "Winter Lights",
            "city": "Oslo",
            "date": "2030-01-12T20:30",
            "duration": "90",
        },
    )
    page = await admin.get(concert)
    assert 'value="2030-01-12T20:30"' in page.text
    assert "Nobody has answered yet." in page.text
    changed = await post(
        admin,
        concert,
        {
            "concert_name": "Winter Lights",
            "city": "Bergen",
            "date": "2030-01-12T21:00",
            "duration": "95",
        },
    )
    assert changed.status_code == 303, changed.text
    assert 'value="Bergen"' in (await admin.get(concert)).text

    movie = await _created(
        admin,
        "/admin/movies/new",
        {
            "title": "Brass",
            "description": "A band film.",
            "genres": "Drama, Music",
            "release_year": "1999",
        },
    )
    assert 'value="Drama, Music"' in (await admin.get(movie)).text

    course = await _created(
        admin,
        "/admin/courses/new",
        {"title": "Scales", "difficulty_level": "ADVANCED", "is_active": "true"},
    )
    lesson = await post(admin, f"{course}/lessons/new", {"title": "C major", "order": "1"})
    assert lesson.status_code == 303, lesson.text
    shown = await admin.get(course)
    assert "C major" in shown.text
    assert "draft" in shown.text

    song = await _created(
        admin,
        "/admin/songs/new",
        {
            "title": "Ferry",
            "artist": "A",
            "genre": "Folk",
            "file_url": "https://m.example/f.mp3",
            "duration": "180",
        },
    )
    album = await _created(admin, "/admin/albums/new", {"title": "Harbour", "artist": "A"})
    song_id = song.rsplit("/", 1)[1]
    added = await post(admin, f"{album}/tracks", {"song_id": song_id, "track_number": "1"})
    assert added.status_code == 303
    assert "/admin/songs/" + song_id in (await admin.get(album)).text

    for item, listing in (
        (concert, "/admin/concerts"),
        (movie, "/admin/movies"),
        (album, "/admin/albums"),
    ):
        deleted = await post(admin, f"{item}/delete", {})
        assert deleted.status_code == 303
        assert deleted.headers["location"] == listing
        assert (await admin.get(item)).status_code == 404


async def test_settings_and_orders_pages(admin: httpx.AsyncClient) -> None:
    added = await post(
        admin, "/admin/settings", {"key": "site.motto", "value": "Play on", "is_public": "true"}
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/settings/site.motto"
    saved = await post(admin, "/admin/settings/site.motto", {"value": "Play louder"})
    assert saved.status_code == 303
    page = await admin.get("/admin/settings")
    assert "Play louder" in page.text
    orders = await admin.get("/admin/orders?status=completed")
    assert orders.status_code == 200
    assert "No order matches." in orders.text


async def test_the_dashboard_draws_its_figures_as_accessible_charts(
    admin: httpx.AsyncClient,
) -> None:
    page = await admin.get("/admin/")
    assert page.status_code == 200
    charts = re.findall(
        r'<svg class="console-chart"[^>]*role="img" aria-label="([^"]+)"', page.text
    )
    assert len(charts) >= 5
    assert charts[0].startswith("Registrations per day: ")
    assert "<title" in page.text
    assert page.text.count('<details class="chart-data">') == len(charts)
    assert "style=" not in page.text


def test_a_chart_axis_climbs_in_round_steps() -> None:
    def ticks(largest: float) -> list[str]:
        chart = bar_chart("c", "Count", [("2026-12-01", 0), ("2026-12-02", largest)])
        return [tick.label for tick in chart.ticks]

    assert ticks(0) == ["0", "1", "2", "3", "4"]
    assert ticks(9) == ["0", "5", "10", "15", "20"]
    assert ticks(37) == ["0", "10", "20", "30", "40"]
    assert bar_chart("c", "Count", [("2026-12-01", 0)]).empty
    assert bar_chart("c", "Count", [("2026-12-05", 2)]).bars[0].short == "5 Dec"

"""The console's pages over ASGI (the embedded gateway in-process): bad input is a 4xx page
naming the field, never a 500; the console is for admins only; an upload without JavaScript
passes the CSRF check."""

from __future__ import annotations

import re
import uuid

import pytest

from bandstand.web.pages.admin.charts import bar_chart
from tests.web.inprocess import ADMIN, Pages


@pytest.fixture
async def admin(pages: Pages) -> Pages:
    """The shared platform, its client signed in to the console as the administrator."""
    await pages.log_in(ADMIN[0])
    return pages


async def test_a_bad_query_is_a_400_page_naming_it(admin: Pages) -> None:
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
        answer = await admin.client.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert named in answer.text, path


async def test_a_refused_form_shows_the_error_beside_its_field(admin: Pages) -> None:
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
        answer = await admin.post(path, **data)
        assert answer.status_code == 400, (path, answer.text)
        assert f'id="{field}-error"' in answer.text, (path, answer.text)


async def test_an_import_without_a_file_or_with_an_unreadable_one_says_why(
    admin: Pages,
) -> None:
    token = {"csrftoken": admin.csrf}
    empty = await admin.client.post(
        "/admin/instruments/import", data=token, files={"file": ("", b"")}
    )
    assert empty.status_code == 400
    assert "Choose a CSV or JSON Lines file." in empty.text
    headless = await admin.client.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.csv", b"title,price\nDrum,12\n", "text/csv")},
    )
    assert headless.status_code == 400
    assert "no column" in headless.text
    unknown = await admin.client.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.xlsx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert unknown.status_code == 400
    assert 'id="format-error"' in unknown.text


async def test_an_import_without_javascript_is_a_plain_multipart_form(
    admin: Pages,
) -> None:
    tag = uuid.uuid4().hex[:6]
    listing = f"name,link\nSnare {tag},https://shop.example/snare-{tag}\nbad,\n".encode()
    answer = await admin.client.post(
        "/admin/instruments/import",
        data={"csrftoken": admin.csrf},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "Imported snare.csv" in answer.text
    assert re.search(r"<td>3</td><td>link</td>", answer.text), answer.text
    forged = await admin.client.post(
        "/admin/instruments/import",
        data={"csrftoken": "forged"},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert forged.status_code == 403
    assert "security token" in forged.text


async def test_an_unknown_item_is_a_404_page(admin: Pages) -> None:
    for path in ("/admin/users/999999", "/admin/songs/999999", "/admin/settings/no-such-key"):
        answer = await admin.client.get(path)
        assert answer.status_code == 404, path


async def test_the_last_admin_is_kept_and_the_refusal_shown(admin: Pages) -> None:
    users = await admin.client.get(f"/admin/users?search={ADMIN[0]}")
    user_id = re.search(r'href="/admin/users/(\d+)"', users.text)
    assert user_id
    for path, data in (("role", {"role": "user"}), ("active", {"is_active": "false"})):
        answer = await admin.post(f"/admin/users/{user_id.group(1)}/{path}", **data)
        assert answer.status_code == 400
        assert "last active admin" in answer.text
    deleted = await admin.post(f"/admin/users/{user_id.group(1)}/delete")
    assert deleted.status_code == 400
    assert "last active admin" in deleted.text


async def test_a_user_is_refused_every_console_page(pages: Pages) -> None:
    username = f"nosy{uuid.uuid4().hex[:8]}"
    await pages.register(username)
    sent_away = await pages.client.get("/admin/audit")
    assert sent_away.status_code == 303
    assert sent_away.headers["location"] == "/login?next=%2Fadmin%2Faudit"
    await pages.log_in(username)
    for path in ("/admin/", "/admin/users", "/admin/dead-letters", "/admin/instruments/import"):
        answer = await pages.client.get(path)
        assert answer.status_code == 403, path
        assert "Not allowed" in answer.text
    refused = await pages.post("/admin/users/1/role", role="user")
    assert refused.status_code == 403


async def _created(admin: Pages, path: str, data: dict[str, str]) -> str:
    """Posts a new item's form; the item's console URL it was sent to."""
    answer = await admin.post(path, **data)
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert re.fullmatch(r"/admin/[a-z/0-9]+/\d+(#\w+)?", location), location
    return location


async def test_catalogue_items_are_added_changed_and_deleted(admin: Pages) -> None:
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
    page = await admin.client.get(concert)
    assert 'value="2030-01-12T20:30"' in page.text
    assert "Nobody has answered yet." in page.text
    changed = await admin.post(
        concert, concert_name="Winter Lights", city="Bergen", date="2030-01-12T21:00", duration="95"
    )
    assert changed.status_code == 303, changed.text
    assert 'value="Bergen"' in (await admin.client.get(concert)).text

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
    assert 'value="Drama, Music"' in (await admin.client.get(movie)).text

    course = await _created(
        admin,
        "/admin/courses/new",
        {"title": "Scales", "difficulty_level": "ADVANCED", "is_active": "true"},
    )
    lesson = await admin.post(f"{course}/lessons/new", title="C major", order="1")
    assert lesson.status_code == 303, lesson.text
    shown = await admin.client.get(course)
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
    added = await admin.post(f"{album}/tracks", song_id=song_id, track_number="1")
    assert added.status_code == 303
    assert "/admin/songs/" + song_id in (await admin.client.get(album)).text

    for item, listing in (
        (concert, "/admin/concerts"),
        (movie, "/admin/movies"),
        (album, "/admin/albums"),
    ):
        deleted = await admin.post(f"{item}/delete")
        assert deleted.status_code == 303
        assert deleted.headers["location"] == listing
        assert (await admin.client.get(item)).status_code == 404


async def test_settings_and_orders_pages(admin: Pages) -> None:
    added = await admin.post("/admin/settings", key="site.motto", value="Play on", is_public="true")
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/settings/site.motto"
    saved = await admin.post("/admin/settings/site.motto", value="Play louder")
    assert saved.status_code == 303
    page = await admin.client.get("/admin/settings")
    assert "Play louder" in page.text
    orders = await admin.client.get("/admin/orders?status=completed")
    assert orders.status_code == 200
    assert "No order matches." in orders.text


async def test_the_dashboard_draws_its_figures_as_accessible_charts(
    admin: Pages,
) -> None:
    page = await admin.client.get("/admin/")
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

"""The music and photos pages over the in-process platform (the music demo loaded): what they
show, and that bad addresses answer a 4xx page, never a crash."""

from __future__ import annotations

import re

import httpx
import pytest

from bandstand.music.demo import seed_demo
from bandstand.platform.database import Database
from bandstand.platform.settings import Settings
from tests.web.inprocess import Pages


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """The migrated platform with the music demo loaded."""
    database = Database(settings.database_url("music"))
    try:
        async with database.unit_of_work() as session:
            await seed_demo(session)
    finally:
        await database.dispose()
    return settings


async def _song_id(client: httpx.AsyncClient, title: str) -> int:
    page = await client.get("/music", params={"search": title})
    found = re.search(rf'href="/music/songs/(\d+)">{re.escape(title)}<', page.text)
    assert found, page.text
    return int(found.group(1))


BAD_ADDRESSES = [
    "/music?page=abc",
    "/music?page=0",
    "/music?page=99999",
    "/music?album=abc",
    "/music?album=-3",
    "/music?album=99999999999",
    "/music?ordering=loudness",
    "/music?search=" + "x" * 201,
    "/music?genre=%00",
    "/music/albums?page=-1",
    "/music/albums?page=50",
    "/music/albums/abc",
    "/music/albums/0",
    "/music/songs/abc",
    "/music/songs/0",
    "/music/songs/99999999999",
    "/music/likes?page=abc",
    "/photos?page=abc",
    "/photos?page=999",
]


async def test_bad_addresses_answer_a_4xx_page(pages: Pages) -> None:
    await pages.sign_up_by_form("prober")
    for path in BAD_ADDRESSES:
        answer = await pages.client.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in answer.text, path


async def test_unknown_songs_and_albums_are_not_found(pages: Pages) -> None:
    await pages.sign_up_by_form("seeker")
    for path in ("/music/songs/999999", "/music/albums/999999"):
        answer = await pages.client.get(path)
        assert answer.status_code == 404, path
        assert "Not found" in answer.text
    liked = await pages.post("/music/songs/999999/like")
    assert liked.status_code == 404


async def test_anonymous_visitors_see_the_lists_and_log_in_for_the_rest(
    pages: Pages,
) -> None:
    for path in ("/music", "/music/albums", "/photos"):
        assert (await pages.client.get(path)).status_code == 200, path
    for path in ("/music/likes", "/music/songs/1", "/music/albums/1"):
        answer = await pages.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/login?next=" + path.replace("/", "%2F")


async def test_like_by_form_and_by_htmx(pages: Pages) -> None:
    await pages.sign_up_by_form("fan")
    song = await _song_id(pages.client, "Kettle Song")

    liked = await pages.post(f"/music/songs/{song}/like")
    assert liked.status_code == 303
    assert liked.headers["location"] == f"/music/songs/{song}"
    page = await pages.client.get(f"/music/songs/{song}")
    assert "1 like · you like this song" in page.text
    assert f'action="/music/songs/{song}/unlike"' in page.text
    listed = await pages.client.get("/music", params={"search": "kettle"})
    assert "You like it" in listed.text

    # htmx gets the button back, not a page.
    fragment = await pages.client.post(
        f"/music/songs/{song}/unlike",
        data={"csrftoken": pages.csrf},
        headers={"HX-Request": "true", "x-csrftoken": pages.csrf},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<form id="like-form"')
    assert "0 likes" in fragment.text
    assert f'hx-post="/music/songs/{song}/like"' in fragment.text
    likes = await pages.client.get("/music/likes")
    assert "You have not liked any song yet" in likes.text

    # A plain form from the likes page goes back there.
    await pages.post(f"/music/songs/{song}/like")
    back = await pages.post(f"/music/songs/{song}/unlike", next="/music/likes")
    assert back.headers["location"] == "/music/likes"
    outside = await pages.post(f"/music/songs/{song}/like", next="//evil.example/")
    assert outside.headers["location"] == f"/music/songs/{song}"


async def test_a_song_page_names_every_album_it_is_on(pages: Pages) -> None:
    await pages.sign_up_by_form("reader")
    song = await _song_id(pages.client, "Paper Boats at Dawn")
    page = await pages.client.get(f"/music/songs/{song}")
    assert "We fold the night in squares of white" in page.text
    assert '<audio controls preload="metadata" src="/media/demo/audio/' in page.text
    # Its own album and the sampler, which names another artist.
    assert ">Paper Boats</a>" in page.text
    assert ">Bandstand Sampler, Vol. 1</a>" in page.text


async def test_songs_filters_offer_every_genre_and_keep_the_chosen_one(
    pages: Pages,
) -> None:
    page = await pages.client.get("/music", params={"genre": "Jazz"})
    assert page.status_code == 200
    assert "<option selected>Jazz</option>" in page.text
    assert "<option>Latin Jazz</option>" in page.text
    assert "4 songs found" in page.text
    unknown = await pages.client.get("/music", params={"artist": "Nobody At All"})
    assert "<option selected>Nobody At All</option>" in unknown.text
    assert "No song matches" in unknown.text
    # A short word before a longer one, as typed (it once crashed SQLite's trigram search).
    typing = await pages.client.get("/music", params={"search": "at dawn"})
    assert typing.status_code == 200
    assert ">Paper Boats at Dawn</a>" in typing.text
    # htmx's search as you type gets the results without the filters' choices.
    typed = await pages.client.get(
        "/music", params={"search": "kettle"}, headers={"HX-Request": "true"}
    )
    assert 'id="song-results"' in typed.text
    assert "<option>Latin Jazz</option>" not in typed.text


async def test_photos_show_each_picture_with_its_place_and_date(
    pages: Pages,
) -> None:
    page = await pages.client.get("/photos")
    assert page.status_code == 200
    assert 'alt="Concert in Lisbon, Lisboa, Portugal on 14 March 2026"' in page.text
    assert '<time class="meta" datetime="2026-03-14">14 March 2026</time>' in page.text

"""The demo's generated media: valid SVG posters and WAV songs, cached and seekable, and every
media URL of the music demo answered."""

from __future__ import annotations

import wave
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from io import BytesIO

import httpx
import pytest
from starlette.applications import Starlette

from bandstand.music.demo import demo_file
from bandstand.web import media
from tests.support.client import api_client

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(Starlette(routes=media.media_routes())) as http:
        yield http


def _demo_media_urls() -> set[str]:
    urls: set[str] = set()
    for song in demo_file("songs"):
        urls.update({song["file_url"], song["cover_image_url"]})
    urls.update(album["cover_image_url"] for album in demo_file("albums"))
    urls.update(picture["pic_url"] for picture in demo_file("pictures"))
    return urls


async def test_every_media_url_of_the_music_demo_is_served(client: httpx.AsyncClient) -> None:
    urls = _demo_media_urls()
    assert all(url.startswith("/media/demo/") for url in urls), urls
    for url in sorted(urls):
        if url.endswith(".wav"):  # made on first request, a fraction of a second each
            name = url.removeprefix("/media/demo/audio/").removesuffix(".wav")
            assert name in media.SONGS, url
            continue
        assert (await client.get(url)).status_code == 200, url


def _title(name: str) -> str:
    if name in media.EVENTS:
        return media.EVENTS[name][0]
    if name in media.COVERS:
        return media.COVERS[name][0]
    return media.INSTRUMENTS[name]


@pytest.mark.parametrize("name", sorted({*media.EVENTS, *media.COVERS, *media.INSTRUMENTS}))
async def test_pictures_are_valid_svg_posters(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/media/demo/pictures/{name}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "public, max-age=86400"
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    assert root.find(f".//{SVG}linearGradient") is not None
    assert root.findtext(f"{SVG}title") == _title(name)
    # Nothing is fetched from anywhere: no href to any other document or host.
    assert b"href" not in response.content
    assert b"http://" not in response.content.replace(b"http://www.w3.org/2000/svg", b"")


def test_text_on_a_poster_is_escaped() -> None:
    body = media.poster_svg("x", 'Rock & <Roll> "live"', "<script>", "a & b", square=True)
    root = ET.fromstring(body)  # noqa: S314 - our own output
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "<script>" in texts
    assert b"<script>" not in body
    assert root.findtext(f"{SVG}title") == 'Rock & <Roll> "live"'


def test_posters_are_the_same_every_time_and_differ_by_name() -> None:
    one = media.poster_svg("lisbon", "Lisbon", "Portugal", "", square=False)
    assert one == media.poster_svg("lisbon", "Lisbon", "Portugal", "", square=False)
    assert one != media.poster_svg("porto", "Lisbon", "Portugal", "", square=False)


async def test_a_song_is_a_short_wav_file(client: httpx.AsyncClient) -> None:
    response = await client.get("/media/demo/audio/kettle-song.wav")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    with wave.open(BytesIO(response.content)) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 22_050)
        assert file.getnframes() == 22_050 * media.SECONDS
        frames = file.readframes(file.getnframes())
    assert max(frames) > 0  # not silence
    assert response.content == media.melody_wav("kettle-song")
    assert response.content != media.melody_wav("sunday-bus")


async def test_audio_answers_byte_ranges_for_seeking(client: httpx.AsyncClient) -> None:
    url = "/media/demo/audio/cafe-orbit.wav"
    whole = (await client.get(url)).content
    size = len(whole)
    part = await client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == whole[100:200]
    assert part.headers["content-type"] == "audio/wav"
    tail = await client.get(url, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, whole[-10:])
    rest = await client.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert rest.headers["content-range"] == f"bytes {size - 5}-{size - 1}/{size}"
    assert rest.content == whole[-5:]
    clipped = await client.get(url, headers={"Range": f"bytes=10-{size * 2}"})
    assert clipped.content == whole[10:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    several = await client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert (several.status_code, several.content) == (200, whole)
    stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, whole)


@pytest.mark.parametrize(
    "url", ["/media/demo/pictures/lisbon-2026-03-14.svg", "/media/demo/audio/small-hours.wav"]
)
async def test_etag_gives_304(client: httpx.AsyncClient, url: str) -> None:
    first = await client.get(url)
    etag = first.headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert not again.content
    changed = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/media/demo/pictures/nowhere.svg",
        "/media/demo/pictures/kettle-song.svg",
        "/media/demo/audio/lisbon-2026-03-14.wav",
        "/media/demo/audio/unknown.wav",
        "/media/demo/audio/kettle-song.mp3",
    ],
)
async def test_unknown_media_is_404(client: httpx.AsyncClient, url: str) -> None:
    assert (await client.get(url)).status_code == 404

"""Journeys through the music and photos pages, and what they answer to bad addresses."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.browser.conftest import Site
from tests.web.browser.looking import DESKTOP, look, sign_up

PASSWORD = "Browser-Pass-1"
SONG = "Kettle Song"
ALBUM = "Paper Boats"
ALBUM_TRACKS = [
    "Paper Boats at Dawn",
    "Kettle Song",
    "Lighthouse Keeper's Daughter",
    "Small Hours",
]


@pytest.fixture
def browser_without_js(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=site.base, java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_like_a_song_and_find_it_in_my_likes(page: Page) -> None:
    sign_up(page, f"liker{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto("/music")
    expect(page.get_by_role("heading", name="Songs", exact=True)).to_be_visible()
    look(page, "songs")

    # Search as you type: the results change without the page being loaded again.
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search").press_sequentially("kettle", delay=30)
    expect(page).to_have_url(re.compile(r"search=kettle"))
    results = page.locator("#song-results")
    expect(results.get_by_role("link", name=SONG)).to_be_visible()
    expect(results.locator(".song-row")).to_have_count(1)
    # The count is told in a live region that stays in place, so screen readers hear it.
    expect(page.locator("#song-count")).to_have_text("1 song found")
    expect(page.locator("#song-count *")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("link", name=SONG).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SONG)
    expect(page.get_by_role("heading", name="Lyrics")).to_be_visible()
    expect(page.locator(".lyrics")).not_to_be_empty()
    expect(page.get_by_role("link", name=ALBUM, exact=True)).to_be_visible()
    # The recording plays here: its metadata loads from the site (byte ranges).
    audio = page.locator("audio[controls]")
    expect(audio).to_have_attribute("preload", "metadata")
    page.wait_for_function(
        "audio => audio.readyState >= 1 && audio.duration > 0", arg=audio.element_handle()
    )
    count = page.locator("#like-count")
    before = int(count.inner_text().split()[0])

    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Like", exact=True).click()
    expect(page.get_by_role("button", name="Unlike")).to_be_visible()
    expect(count).to_contain_text(f"{before + 1} like")
    expect(count).to_contain_text("you like this song")
    assert page.evaluate("window.notReloaded") is True
    look(page, "song")

    page.get_by_role("link", name="Songs", exact=True).first.click()
    liked_row = page.locator(".song-row", has=page.get_by_role("link", name=SONG, exact=True))
    expect(liked_row.locator(".liked-badge")).to_have_text("♥ You like it")
    page.get_by_role("link", name="My likes").click()
    expect(page.get_by_role("heading", name="My likes")).to_be_visible()
    expect(page.get_by_role("link", name=SONG)).to_be_visible()
    look(page, "my likes")

    page.get_by_role("button", name=f"Unlike {SONG}").click()
    expect(page.get_by_role("status").first).to_contain_text("Removed from your likes")
    expect(page.locator(".empty")).to_contain_text("You have not liked any song yet")
    expect(page.locator(".empty").get_by_role("link", name="Browse the songs")).to_have_attribute(
        "href", "/music"
    )
    look(page, "my likes empty")

    page.goto("/music?search=kettle")
    page.get_by_role("link", name=SONG).click()
    expect(count).to_contain_text(f"{before} like")
    expect(page.get_by_role("button", name="Like", exact=True)).to_be_visible()


def test_the_like_button_works_without_javascript(browser_without_js: Page) -> None:
    page = browser_without_js
    sign_up(page, f"plain{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto("/music?search=kettle")
    page.get_by_role("link", name=SONG).click()
    page.get_by_role("button", name="Like", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Added to your likes")
    expect(page.get_by_role("button", name="Unlike")).to_be_visible()
    page.get_by_role("button", name="Unlike").click()
    expect(page.get_by_role("button", name="Like", exact=True)).to_be_visible()


def test_songs_filter_and_order(page: Page) -> None:
    page.goto("/music")
    expect(page.get_by_role("link", name="Log in", exact=True).last).to_be_visible()
    look(page, "songs anonymous")
    page.get_by_label("Genre").select_option("Jazz")
    expect(page).to_have_url(re.compile(r"genre=Jazz"))
    rows = page.locator("#song-results .song-row")
    expect(rows).to_have_count(4)
    for badge in page.locator("#song-results .song-row .badge").all_inner_texts():
        assert badge == "Jazz"
    page.get_by_label("Order").select_option("-title")
    expect(page).to_have_url(re.compile(r"ordering=-title"))
    titles = page.locator("#song-results .song-title").all_inner_texts()
    assert titles == sorted(titles, key=str.casefold, reverse=True)
    page.goto("/music")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(4)
    page.goto("/music?search=no-such-song-at-all")
    expect(page.locator(".empty")).to_contain_text("No song matches")


def test_an_album_plays_its_tracks_in_order(page: Page) -> None:
    sign_up(page, f"listener{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto("/music/albums")
    expect(page.get_by_role("heading", name="Albums", exact=True)).to_be_visible()
    look(page, "albums")
    page.get_by_label("Search").press_sequentially("boats", delay=30)
    expect(page.locator("#album-count")).to_have_text("1 album found")
    expect(page.locator("#album-results .album-card")).to_have_count(1)
    page.get_by_role("link", name=ALBUM, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ALBUM)
    titles = page.locator(".track-list .song-title").all_inner_texts()
    assert titles == ALBUM_TRACKS
    numbers = page.locator(".track-list .track-number").all_inner_texts()
    assert numbers == ["1", "2", "3", "4"]
    look(page, "album")

    plays = page.locator("[data-track]")
    expect(plays).to_have_count(len(ALBUM_TRACKS))
    player = page.locator("audio[data-player]")
    first = plays.nth(0).get_attribute("href")
    assert player.get_attribute("src") == first
    expect(plays.nth(0)).to_have_attribute("aria-current", "true")
    # The end of a track starts the next one.
    player.evaluate("audio => audio.dispatchEvent(new Event('ended'))")
    expect(plays.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.locator("[data-now-playing]")).to_have_text(ALBUM_TRACKS[1])
    assert player.get_attribute("src") == plays.nth(1).get_attribute("href")
    # A track is chosen from the keyboard.
    plays.nth(3).focus()
    page.keyboard.press("Enter")
    expect(plays.nth(3)).to_have_attribute("aria-current", "true")
    expect(plays.nth(1)).not_to_have_attribute("aria-current", "true")
    assert player.get_attribute("src") == plays.nth(3).get_attribute("href")


def test_the_photos_gallery(page: Page) -> None:
    page.goto("/photos")
    expect(page.get_by_role("heading", name="Photos")).to_be_visible()
    photos = page.locator(".gallery .photo")
    expect(photos.first).to_be_visible()
    assert photos.count() >= 6
    expect(photos.first.locator("figcaption")).not_to_be_empty()
    look(page, "photos")
    images = page.locator(".gallery img")
    assert images.count() == photos.count()
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert (image.get_attribute("alt") or "").startswith("Concert in ")
        page.wait_for_function("img => img.complete", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") > 0, image.get_attribute("src")

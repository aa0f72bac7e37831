"""Pages: the songs (search, filters, order), one song with its lyrics and player, likes.

The albums' pages are in `music_albums` and hang under this router."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Path, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values, safe_next
from bandstand.web.pages import music_albums
from bandstand.web.pages.music_catalogue import FilterChoices, albums_of, filter_choices
from bandstand.web.pages.present import HELPERS, INT_MAX, optional_id
from bandstand.web.visit import PageError, PageVisit

router = ServiceRouter(include_in_schema=False)
router.include_router(music_albums.router)

SONGS_PER_PAGE = 20

PageNumber = Annotated[int, Query(ge=1, le=100_000)]
SongId = Annotated[int, Path(ge=1, le=INT_MAX)]
Text = Annotated[str | None, Query(max_length=200)]
SongOrder = Literal["title", "-title", "-release_date", "release_date", "-likes"]
ORDERINGS: tuple[tuple[str, str], ...] = (
    ("title", "Title, A to Z"),
    ("-title", "Title, Z to A"),
    ("-release_date", "Newest first"),
    ("release_date", "Oldest first"),
    ("-likes", "Most liked"),
)


@router.get("/music")
async def songs_page(
    visit: PageVisit,
    page: PageNumber = 1,
    search: Text = None,
    genre: Text = None,
    artist: Text = None,
    album: Annotated[str | None, Query(max_length=20)] = None,
    ordering: SongOrder = "title",
) -> Response:
    album_id = optional_id(album, "album")
    search, genre, artist = ((text or "").strip() or None for text in (search, genre, artist))
    songs, choices = await asyncio.gather(
        visit.get(
            "/api/v1/songs",
            {
                "page": page,
                "page_size": SONGS_PER_PAGE,
                "search": search,
                "genre": genre,
                "artist": artist,
                "album": album_id,
                "ordering": ordering,
            },
        ),
        _choices(visit, genre, artist),
    )
    return visit.page(
        "music/songs.html",
        songs=songs,
        page=page,
        filters={
            "search": search or "",
            "genre": genre or "",
            "artist": artist or "",
            "album": album_id,
            "ordering": ordering,
        },
        filtered=bool(search or genre or artist or album_id),
        choices=choices,
        orderings=ORDERINGS,
        **HELPERS,
    )


async def _choices(visit: PageVisit, genre: str | None, artist: str | None) -> FilterChoices:
    """The filters' choices; none for htmx's update of the results alone (it keeps the form)."""
    headers = visit.request.headers
    if headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true":
        return FilterChoices([], [], [])
    return await filter_choices(visit, genre, artist)


@router.get("/music/songs/{song_id}")
async def song_page(visit: PageVisit, song_id: SongId) -> Response:
    song, on_albums = await asyncio.gather(
        visit.get(f"/api/v1/songs/{song_id}"), albums_of(visit, song_id)
    )
    return visit.page("music/song.html", song=song, on_albums=on_albums, **HELPERS)


@router.post("/music/songs/{song_id}/like")
async def like(visit: PageVisit, request: Request, song_id: SongId) -> Response:
    return await _change_like(visit, request, song_id, liked=True)


@router.post("/music/songs/{song_id}/unlike")
async def unlike(visit: PageVisit, request: Request, song_id: SongId) -> Response:
    return await _change_like(visit, request, song_id, liked=False)


async def _change_like(
    visit: PageVisit, request: Request, song_id: int, *, liked: bool
) -> Response:
    """Likes or unlikes; htmx gets the like button back, a plain form goes back to the page
    it came from (`next`, the song's page by default)."""
    song_url = f"/music/songs/{song_id}"
    if visit.user is None:
        return visit.redirect(f"/login?next={quote(song_url, safe='')}")
    values = await form_values(request)
    path = f"/api/v1/songs/{song_id}/like"
    if liked:
        answer = await visit.call("PUT", path)
        if not answer.ok:
            raise _refused(answer.status)
        like_count = int(answer.body["like_count"])
    else:
        answer = await visit.call("DELETE", path)
        if not answer.ok:
            raise _refused(answer.status)
        like_count = int((await visit.get(f"/api/v1/songs/{song_id}"))["like_count"])
    if visit.request.headers.get("hx-request") == "true":
        return visit.page(
            "music/_like.html",
            song={"id": song_id, "liked_by_me": liked, "like_count": like_count},
            **HELPERS,
        )
    message = "Added to your likes." if liked else "Removed from your likes."
    return visit.redirect(safe_next(values.get("next"), song_url), message)


@router.get("/music/songs/{song_id}/like")
@router.get("/music/songs/{song_id}/unlike")
async def like_address(song_id: SongId) -> Response:
    """Where a log-in sends back a visitor whose session ended as they pressed the button."""
    return RedirectResponse(f"/music/songs/{song_id}", status_code=303)


def _refused(status: int) -> PageError:
    """The API refused the like: the page's usual error (404 unknown song, 503, ...)."""
    if status == 404:
        return PageError(404, "Not found", "There is no such song.")
    if status >= 500:
        return PageError(503, "Temporarily unavailable", "The like was not saved. Try again.")
    return PageError(status, "Something went wrong", "The like was not saved.")


@router.get("/music/likes")
async def likes_page(visit: PageVisit, page: PageNumber = 1) -> Response:
    visit.signed_in()
    likes = await visit.get("/api/v1/me/likes", {"page": page, "page_size": SONGS_PER_PAGE})
    return visit.page("music/likes.html", likes=likes, page=page, **HELPERS)

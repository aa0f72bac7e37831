"""Music's use cases: the catalogue (songs, albums and their tracks) and likes.

Every method takes the request's session and never commits; events go to the outbox in the
same transaction. Pictures are in `bandstand.music.pictures`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bandstand.music import events
from bandstand.music.models import SONG_TEXT, Album, AlbumSong, Song
from bandstand.music.repository import (
    AlbumRepository,
    LikeRepository,
    SongFilters,
    SongRepository,
    TrackRepository,
)
from bandstand.music.schemas import (
    AlbumCreate,
    AlbumTrack,
    LegacySongCreate,
    LikedSong,
    LikeStatus,
    SongCreate,
    SongDetail,
    SongFacets,
    SongRead,
    TrackCreate,
)
from bandstand.music.search import search_text
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import Conflict, NotFound
from bandstand.platform.json_rows import JsonRows
from bandstand.platform.list_counts import ListCounts
from bandstand.platform.pagination import PageParams, paginate
from bandstand.platform.rows import apply_changes, changed_fields, field_dicts
from bandstand.platform.security import Principal

LEGACY_SONG_DEFAULTS: dict[str, Any] = {
    "artist": "Unknown artist",
    "genre": "Unknown",
    "file_url": "",
    "duration": 0,
}
"""The catalogue fields a song created on the concert app's `/song` route lacks."""
SONG_ROWS = JsonRows.of(SongRead, kept=SONG_TEXT)
LIKED_ROWS = JsonRows.of(LikedSong)
TRACK_ROWS = JsonRows.of(AlbumTrack)


class SongNotFound(NotFound):
    def __init__(self, song_id: int) -> None:
        super().__init__(f"Song with id {song_id} not found.")
        self.song_id = song_id


class AlbumNotFound(NotFound):
    def __init__(self, album_id: int) -> None:
        super().__init__(f"Album with id {album_id} not found.")


class TrackNotFound(NotFound):
    def __init__(self, album_id: int, song_id: int) -> None:
        super().__init__(f"Song with id {song_id} not found on album {album_id}.")


class SongIdTaken(Conflict):
    def __init__(self, song_id: int) -> None:
        super().__init__(f"song with id {song_id} already present")


class SongAlreadyOnAlbum(Conflict):
    def __init__(self, album_id: int, song_id: int) -> None:
        super().__init__(f"Song with id {song_id} is already on album {album_id}")


class TrackNumberTaken(Conflict):
    def __init__(self, album_id: int, track_number: int) -> None:
        super().__init__(f"Album {album_id} already has a track number {track_number}")


def _apply(row: Song | Album, changes: dict[str, Any]) -> list[str]:
    """Set the fields that differ, keep the search key and `updated_at` in step; the changed
    field names (none: nothing was touched)."""
    changed = changed_fields(row, changes)
    if changed:
        apply_changes(row, changes, changed)
    if "title" in changed or "artist" in changed:
        row.search_text = search_text(row.title, row.artist)
    return changed


class SongService:
    def __init__(self) -> None:
        self.songs = SongRepository()
        self.likes = LikeRepository()

    async def get(self, session: AsyncSession, song_id: int) -> Song:
        song = await self.songs.get(session, song_id)
        if song is None:
            raise SongNotFound(song_id)
        return song

    async def detail(self, session: AsyncSession, song: Song, viewer_id: int | None) -> SongDetail:
        liked = None
        if viewer_id is not None:
            liked = await self.likes.is_liked(session, viewer_id, song.id)
        return SongDetail.model_validate(song).model_copy(update={"liked_by_me": liked})

    async def page(
        self,
        session: AsyncSession,
        filters: SongFilters,
        pagination: PageParams,
        request: Request,
        viewer_id: int | None,
    ) -> dict[str, Any]:
        """One page of songs and their count: two statements whatever the page size, the
        caller's likes read with the page (`liked_by_me`, left null without a caller). Its
        results are `SongRead`'s JSON, written by the database (`platform.json_rows`)."""
        statement = self.songs.listing(filters, viewer_id, kept_text=True)
        return await paginate(
            session, statement, pagination, request, scalars=False, as_json=SONG_ROWS
        )

    async def first(
        self, session: AsyncSession, limit: int, viewer_id: int | None
    ) -> list[dict[str, Any]]:
        """The first `limit` songs by id, as plain dicts of `SongRead`'s fields."""
        return field_dicts(await self.songs.first(session, limit, viewer_id))

    async def facets(self, session: AsyncSession, request: Request) -> SongFacets:
        """The genres and artists of the catalogue with their numbers of songs. Each grouping
        reads the whole column (some 25 ms per 100,000 songs on PostgreSQL), so its result is
        kept like the lists' counts: until the service's next write (`platform.list_counts`)."""
        genres = await self._facet(session, request, Song.genre)
        artists = await self._facet(session, request, Song.artist)
        return SongFacets.model_validate({"genres": genres, "artists": artists})

    async def _facet(
        self, session: AsyncSession, request: Request, column: InstrumentedAttribute[str]
    ) -> list[dict[str, Any]]:
        async def compute() -> list[dict[str, Any]]:
            return await self.songs.facet(session, column)

        counts: ListCounts | None = getattr(request.app.state, "list_counts", None)
        if counts is None:
            return await compute()
        facet: list[dict[str, Any]] = await counts.value(
            session, "facet", self.songs.facet_statement(column), compute
        )
        return facet

    async def create(
        self,
        session: AsyncSession,
        data: SongCreate,
        actor_id: int | None,
        *,
        song_id: int | None = None,
    ) -> Song:
        """A new song; `song_id` only for the legacy route whose clients chose ids."""
        if song_id is not None and await self.songs.exists(session, song_id):
            raise SongIdTaken(song_id)
        song = Song(
            **data.model_dump(), search_text=search_text(data.title, data.artist), like_count=0
        )
        if song_id is not None:
            song.id = song_id
        await self.songs.add(session, song, explicit_id=song_id is not None)
        return await events.SONGS.created(session, song, actor_id)

    async def count(self, session: AsyncSession) -> int:
        return await self.songs.count(session)

    async def create_legacy(
        self, session: AsyncSession, data: LegacySongCreate, actor_id: int | None
    ) -> Song:
        fields = {**LEGACY_SONG_DEFAULTS, "title": data.title, "lyrics": data.lyrics}
        # Already validated by LegacySongCreate; the defaults are not client input.
        song = SongCreate.model_construct(**fields)
        return await self.create(session, song, actor_id, song_id=data.id)

    async def update(
        self, session: AsyncSession, song: Song, changes: dict[str, Any], actor_id: int | None
    ) -> Song:
        changed = _apply(song, changes)
        if not changed:
            return song
        await session.flush()
        await events.SONGS.updated(session, song, changed, actor_id)
        return song

    async def delete(self, session: AsyncSession, song: Song, actor_id: int | None) -> None:
        await self.songs.delete(session, song)
        await events.SONGS.deleted(session, song, actor_id)

    async def like(self, session: AsyncSession, song_id: int, user_id: int) -> LikeStatus:
        """The caller likes the song; liking it again changes nothing."""
        count = await self.songs.like_count(session, song_id)
        if count is None:
            raise SongNotFound(song_id)
        if await self.likes.add(session, user_id, song_id):
            count = await self.songs.add_to_like_count(session, song_id, 1)
            await events.song_liked(session, song_id, user_id, count)
        return LikeStatus(song_id=song_id, liked=True, like_count=count)

    async def unlike(self, session: AsyncSession, song_id: int, user_id: int) -> LikeStatus:
        """The caller's like goes; when there is none, nothing changes."""
        count = await self.songs.like_count(session, song_id)
        if count is None:
            raise SongNotFound(song_id)
        if await self.likes.remove(session, user_id, song_id):
            count = await self.songs.add_to_like_count(session, song_id, -1)
            await events.song_unliked(session, song_id, user_id, count)
        return LikeStatus(song_id=song_id, liked=False, like_count=count)

    async def liked_page(
        self, session: AsyncSession, user_id: int, pagination: PageParams, request: Request
    ) -> dict[str, Any]:
        """A page of `user_id`'s liked songs, as `LikedSong`'s JSON."""
        statement = self.likes.liked_songs(user_id)
        return await paginate(
            session, statement, pagination, request, scalars=False, as_json=LIKED_ROWS
        )


class AlbumService:
    def __init__(self, songs: SongService) -> None:
        self.albums = AlbumRepository()
        self.tracks = TrackRepository()
        self._songs = songs

    async def get(self, session: AsyncSession, album_id: int) -> Album:
        album = await self.albums.get(session, album_id)
        if album is None:
            raise AlbumNotFound(album_id)
        return album

    async def page(
        self,
        session: AsyncSession,
        pagination: PageParams,
        request: Request,
        *,
        search: str | None = None,
        genre: str | None = None,
        artist: str | None = None,
        ordering: str | None = None,
        song: int | None = None,
    ) -> dict[str, Any]:
        """A page of albums, as plain dicts of `AlbumRead`'s fields (`SongAlbum`'s with
        `song`: an unknown song is on no album, an empty page)."""
        statement = self.albums.listing(
            search=search, genre=genre, artist=artist, ordering=ordering, song=song
        )
        page = await paginate(session, statement, pagination, request, scalars=False)
        page["results"] = field_dicts(page["results"])
        return page

    async def first(self, session: AsyncSession, limit: int) -> list[dict[str, Any]]:
        return field_dicts(await self.albums.first(session, limit))

    async def create(self, session: AsyncSession, data: AlbumCreate, actor_id: int | None) -> Album:
        album = Album(**data.model_dump(), search_text=search_text(data.title, data.artist))
        return await events.ALBUMS.created(session, await self.albums.add(session, album), actor_id)

    async def update(
        self, session: AsyncSession, album: Album, changes: dict[str, Any], actor_id: int | None
    ) -> Album:
        changed = _apply(album, changes)
        if not changed:
            return album
        await session.flush()
        await events.ALBUMS.updated(session, album, changed, actor_id)
        return album

    async def delete(self, session: AsyncSession, album: Album, actor_id: int | None) -> None:
        await self.albums.delete(session, album)
        await events.ALBUMS.deleted(session, album, actor_id)

    async def tracks_page(
        self,
        session: AsyncSession,
        album_id: int,
        pagination: PageParams,
        request: Request,
        viewer_id: int | None,
    ) -> dict[str, Any]:
        """A page of the album's songs, as `AlbumTrack`'s JSON."""
        await self._ensure_album(session, album_id)
        statement = self.tracks.tracks(album_id, viewer_id)
        return await paginate(
            session, statement, pagination, request, scalars=False, as_json=TRACK_ROWS
        )

    async def first_tracks(
        self, session: AsyncSession, album_id: int, limit: int, viewer_id: int | None
    ) -> list[dict[str, Any]]:
        await self._ensure_album(session, album_id)
        return field_dicts(await self.tracks.first(session, album_id, limit, viewer_id))

    async def track(
        self, session: AsyncSession, album_id: int, song_id: int, viewer_id: int | None
    ) -> AlbumTrack:
        await self._ensure_album(session, album_id)
        row = await self.tracks.track(session, album_id, song_id, viewer_id)
        if row is None:
            raise TrackNotFound(album_id, song_id)
        return AlbumTrack.model_validate(row)

    async def add_track(
        self, session: AsyncSession, album_id: int, data: TrackCreate, actor_id: int | None
    ) -> AlbumTrack:
        album = await self.get(session, album_id)
        if not await self._songs.songs.exists(session, data.song_id):
            raise SongNotFound(data.song_id)
        if await self.tracks.get(session, album_id, data.song_id) is not None:
            raise SongAlreadyOnAlbum(album_id, data.song_id)
        if await self.tracks.number_taken(session, album_id, data.track_number):
            raise TrackNumberTaken(album_id, data.track_number)
        track = AlbumSong(
            album_id=album_id,
            song_id=data.song_id,
            track_number=data.track_number,
            created_at=utcnow(),
        )
        await self.tracks.add(session, track)
        await self._tracks_changed(session, album, actor_id, "track_added", track)
        return await self.track(session, album_id, data.song_id, actor_id)

    async def remove_track(
        self, session: AsyncSession, album_id: int, song_id: int, actor_id: int | None
    ) -> None:
        album = await self.get(session, album_id)
        track = await self.tracks.get(session, album_id, song_id)
        if track is None:
            raise TrackNotFound(album_id, song_id)
        await self.tracks.delete(session, track)
        await self._tracks_changed(session, album, actor_id, "track_removed", track)

    async def _tracks_changed(
        self,
        session: AsyncSession,
        album: Album,
        actor_id: int | None,
        change: str,
        track: AlbumSong,
    ) -> None:
        album.updated_at = utcnow()
        await session.flush()
        await events.ALBUMS.updated(
            session,
            album,
            ["tracks"],
            actor_id,
            **{change: {"song_id": track.song_id, "track_number": track.track_number}},
        )

    async def _ensure_album(self, session: AsyncSession, album_id: int) -> None:
        if not await self.albums.exists(session, album_id):
            raise AlbumNotFound(album_id)


song_service = SongService()
album_service = AlbumService(song_service)


async def song_detail(session: AsyncSession, song: Song, viewer: Principal) -> SongDetail:
    """A song as the caller sees it (with whether they like it): how the song routes answer."""
    return await song_service.detail(session, song, viewer.id)

"""Events music publishes (through the outbox, in the business transaction) and the handlers of
the events it consumes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music.models import Album, Picture, Song
from bandstand.music.repository import LikeRepository, SongRepository
from bandstand.platform.messaging import Message, Subscription, publish_event

logger = logging.getLogger(__name__)

SOURCE = "music"
SONG_CREATED = "music.song.created"
SONG_UPDATED = "music.song.updated"
SONG_DELETED = "music.song.deleted"
SONG_LIKED = "music.song.liked"
SONG_UNLIKED = "music.song.unliked"
ALBUM_CREATED = "music.album.created"
ALBUM_UPDATED = "music.album.updated"
ALBUM_DELETED = "music.album.deleted"
PICTURE_CREATED = "music.picture.created"
PICTURE_UPDATED = "music.picture.updated"
PICTURE_DELETED = "music.picture.deleted"

USER_DELETED = "identity.user.deleted"
IDENTITY_EVENTS_QUEUE = "music.identity-events"

_likes = LikeRepository()
_songs = SongRepository()


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def song_fields(song: Song) -> dict[str, Any]:
    """A song in an event: its catalogue fields, without the lyrics."""
    return {
        "song_id": song.id,
        "title": song.title,
        "artist": song.artist,
        "genre": song.genre,
        "file_url": song.file_url,
        "duration": song.duration,
        "release_date": _iso(song.release_date),
    }


def album_fields(album: Album) -> dict[str, Any]:
    return {
        "album_id": album.id,
        "title": album.title,
        "artist": album.artist,
        "genre": album.genre,
    }


def picture_fields(picture: Picture) -> dict[str, Any]:
    return {
        "picture_id": picture.id,
        "pic_url": picture.pic_url,
        "event_country": picture.event_country,
        "event_state": picture.event_state,
        "event_city": picture.event_city,
        "event_date": _iso(picture.event_date),
    }


async def _publish(session: AsyncSession, type_: str, payload: dict[str, Any]) -> None:
    await publish_event(session, type_, payload, source=SOURCE)


async def song_created(session: AsyncSession, song: Song, actor_id: int | None) -> None:
    await _publish(session, SONG_CREATED, {**song_fields(song), "actor_id": actor_id})


async def song_updated(
    session: AsyncSession, song: Song, changed: Sequence[str], actor_id: int | None
) -> None:
    payload = {**song_fields(song), "changed": list(changed), "actor_id": actor_id}
    await _publish(session, SONG_UPDATED, payload)


async def song_deleted(session: AsyncSession, song: Song, actor_id: int | None) -> None:
    payload = {"song_id": song.id, "title": song.title, "artist": song.artist}
    await _publish(session, SONG_DELETED, {**payload, "actor_id": actor_id})


async def song_liked(session: AsyncSession, song_id: int, user_id: int, like_count: int) -> None:
    payload = {"song_id": song_id, "user_id": user_id, "like_count": like_count}
    await _publish(session, SONG_LIKED, payload)


async def song_unliked(session: AsyncSession, song_id: int, user_id: int, like_count: int) -> None:
    payload = {"song_id": song_id, "user_id": user_id, "like_count": like_count}
    await _publish(session, SONG_UNLIKED, payload)


async def album_created(session: AsyncSession, album: Album, actor_id: int | None) -> None:
    await _publish(session, ALBUM_CREATED, {**album_fields(album), "actor_id": actor_id})


async def album_updated(
    session: AsyncSession,
    album: Album,
    changed: Sequence[str],
    actor_id: int | None,
    **details: Any,
) -> None:
    """`details` says what changed when it is not a column (a track added or removed)."""
    payload = {**album_fields(album), "changed": list(changed), **details, "actor_id": actor_id}
    await _publish(session, ALBUM_UPDATED, payload)


async def album_deleted(session: AsyncSession, album: Album, actor_id: int | None) -> None:
    payload = {"album_id": album.id, "title": album.title, "artist": album.artist}
    await _publish(session, ALBUM_DELETED, {**payload, "actor_id": actor_id})


async def picture_created(session: AsyncSession, picture: Picture, actor_id: int | None) -> None:
    await _publish(session, PICTURE_CREATED, {**picture_fields(picture), "actor_id": actor_id})


async def picture_updated(
    session: AsyncSession, picture: Picture, changed: Sequence[str], actor_id: int | None
) -> None:
    payload = {**picture_fields(picture), "changed": list(changed), "actor_id": actor_id}
    await _publish(session, PICTURE_UPDATED, payload)


async def picture_deleted(session: AsyncSession, picture: Picture, actor_id: int | None) -> None:
    payload = {"picture_id": picture.id, "actor_id": actor_id}
    await _publish(session, PICTURE_DELETED, payload)


async def on_user_deleted(session: AsyncSession, message: Message) -> None:
    """A deleted account's likes go, and the counts of the songs it liked go down with them,
    by exactly the likes deleted (the DELETE returns them), in the handler's transaction."""
    user_id = int(message.payload["user_id"])
    song_ids = await _likes.remove_all_of(session, user_id)
    await _songs.decrement_like_counts(session, song_ids)
    logger.info("erased %d likes of deleted user %d", len(song_ids), user_id)


SUBSCRIPTIONS = [Subscription(IDENTITY_EVENTS_QUEUE, {USER_DELETED: on_user_deleted})]

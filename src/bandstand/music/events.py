"""Events music publishes (through the outbox, in the business transaction) and the handlers of
the events it consumes."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.music.models import Album, Picture, Song
from bandstand.music.repository import LikeRepository, SongRepository
from bandstand.platform.messaging import Message, ResourceEvents, Subscription, publish_event

logger = logging.getLogger(__name__)

SOURCE = "music"
SONG_LIKED = "music.song.liked"
SONG_UNLIKED = "music.song.unliked"

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


SONGS = ResourceEvents[Song](
    SOURCE,
    "song",
    song_fields,
    deleted_fields=lambda song: {"song_id": song.id, "title": song.title, "artist": song.artist},
)
ALBUMS = ResourceEvents[Album](
    SOURCE,
    "album",
    album_fields,
    deleted_fields=lambda album: {
        "album_id": album.id,
        "title": album.title,
        "artist": album.artist,
    },
)
PICTURES = ResourceEvents[Picture](
    SOURCE, "picture", picture_fields, deleted_fields=lambda picture: {"picture_id": picture.id}
)


async def song_liked(session: AsyncSession, song_id: int, user_id: int, like_count: int) -> None:
    payload = {"song_id": song_id, "user_id": user_id, "like_count": like_count}
    await _publish(session, SONG_LIKED, payload)


async def song_unliked(session: AsyncSession, song_id: int, user_id: int, like_count: int) -> None:
    payload = {"song_id": song_id, "user_id": user_id, "like_count": like_count}
    await _publish(session, SONG_UNLIKED, payload)


async def on_user_deleted(session: AsyncSession, message: Message) -> None:
    """A deleted account's likes go, and the counts of the songs it liked go down with them,
    by exactly the likes deleted (the DELETE returns them), in the handler's transaction."""
    user_id = int(message.payload["user_id"])
    song_ids = await _likes.remove_all_of(session, user_id)
    await _songs.decrement_like_counts(session, song_ids)
    logger.info("erased %d likes of deleted user %d", len(song_ids), user_id)


SUBSCRIPTIONS = [Subscription(IDENTITY_EVENTS_QUEUE, {USER_DELETED: on_user_deleted})]

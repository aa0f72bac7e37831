"""Every list of the platform that pages through the kernel is paged by key: its ORDER BY ends
in a key unique in the list, so `next` links carry cursors (`platform.keyset`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select

from bandstand.academy.repository.catalogue import CourseRepository, LessonRepository
from bandstand.admin.repository import AuditRepository, SettingRepository
from bandstand.admin.service import audit_filters
from bandstand.billing.repository import OrderFilters, OrderRepository
from bandstand.concerts.repository import AttendanceRepository, ConcertFilters, ConcertRepository
from bandstand.concerts.service import concert_service
from bandstand.identity.repository import UserRepository
from bandstand.inventory.repository import ORDERINGS as MOVIE_ORDERINGS
from bandstand.inventory.repository import MovieFilters, MovieRepository
from bandstand.music.picture_repository import PictureRepository
from bandstand.music.repository import (
    SONG_ORDERINGS,
    AlbumRepository,
    LikeRepository,
    SongFilters,
    SongRepository,
    TrackRepository,
)
from bandstand.platform.keyset import Ordering


def _lists() -> dict[str, Select[Any]]:
    lists: dict[str, Select[Any]] = {
        "users": UserRepository().listing(),
        "songs": SongRepository().listing(SongFilters()),
        "liked songs": LikeRepository().liked_songs(3),
        "album tracks": TrackRepository().tracks(3),
        "pictures": PictureRepository().listing(),
        "concerts": ConcertRepository().listing(ConcertFilters()),
        "attendees": AttendanceRepository().of_concert(3, status="going"),
        "my concerts": concert_service.my_concerts(5, status=None, upcoming=False),
        "orders": OrderRepository().listing(OrderFilters(user_id=4)),
        "courses": CourseRepository().listing(difficulty=None, search=None),
        "lessons": LessonRepository().of_course(1, published_only=True),
        "settings": SettingRepository().listing(),
        "audit log": AuditRepository().listing(
            audit_filters(service="music", action=None, user=None)
        ),
    }
    for ordering in SONG_ORDERINGS:
        lists[f"songs {ordering}"] = SongRepository().listing(SongFilters(ordering=ordering))
    for ordering in (None, "title", "-title"):
        lists[f"albums {ordering}"] = AlbumRepository().listing(ordering=ordering)
    for ordering in MOVIE_ORDERINGS:
        lists[f"movies {ordering}"] = MovieRepository().listing(MovieFilters(ordering=ordering))
    return lists


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name", list(_lists()))
def test_every_list_is_paged_by_key(name: str, dialect: str) -> None:
    ordering = Ordering.of(_lists()[name], dialect)
    assert ordering is not None, name

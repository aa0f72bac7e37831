"""The demo catalogue ships in the package, validates, and seeds once."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select

from bandstand.inventory.demo import demo_movies, seed_demo
from bandstand.inventory.models import Movie
from tests.inventory.conftest import Inventory


def test_the_json_ships_in_the_package_and_validates() -> None:
    source = resources.files("bandstand.inventory").joinpath("demo", "movies.json")
    documents = json.loads(source.read_text(encoding="utf-8"))
    movies = demo_movies()

    assert len(documents) == len(movies) == 30
    assert len({movie.title for movie in movies}) == 30
    assert all(movie.description for movie in movies)
    assert len({genre for movie in movies for genre in movie.genres}) >= 10


async def test_seeding_twice_creates_nothing_the_second_time(inventory: Inventory) -> None:
    advanced: list[int] = []
    async with inventory.session() as session:
        first = await seed_demo(session, advanced.append)
    async with inventory.session() as session:
        second = await seed_demo(session)

    assert (first, second) == (30, 0)
    assert sum(advanced) == 30
    assert await inventory.count() == 30
    assert len(await inventory.outbox("inventory.movie.created")) == 30


async def test_seeding_fills_in_what_is_missing(inventory: Inventory) -> None:
    async with inventory.session() as session:
        await seed_demo(session)
    async with inventory.session() as session:
        first = (await session.execute(select(Movie).order_by(Movie.id))).scalars().first()
        assert first is not None
        await session.delete(first)
    async with inventory.session() as session:
        assert await seed_demo(session) == 1
    assert await inventory.count() == 30


async def test_the_seeded_catalogue_is_served_and_searchable(inventory: Inventory) -> None:
    async with inventory.session() as session:
        await seed_demo(session)
    page = (await inventory.client.get("/api/v1/movies?page_size=100")).json()
    assert page["count"] == 30
    cafe = (await inventory.client.get("/api/v1/movies?title=CAFE")).json()
    assert [movie["title"] for movie in cafe["results"]] == ["Café at the Edge of Winter"]
    documentaries = (await inventory.client.get("/api/v1/movies?genre=documentary")).json()
    assert documentaries["count"] == 3
    legacy = (await inventory.client.get("/api/movies?title=krakow")).json()
    assert [movie["title"] for movie in legacy] == ["Kites Over Kraków"]

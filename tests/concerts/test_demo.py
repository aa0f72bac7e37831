"""The demo calendar ships in the package and seeds once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import select

from bandstand.concerts.demo import demo_concerts, seed_demo
from bandstand.concerts.models import Concert
from tests.concerts.conftest import Concerts


def test_the_json_ships_in_the_package_and_validates() -> None:
    source = resources.files("bandstand.concerts").joinpath("demo", "concerts.json")
    documents = json.loads(source.read_text(encoding="utf-8"))
    concerts = demo_concerts()

    assert len(documents) == len(concerts) == 8
    assert len({(concert.concert_name, concert.date) for concert in concerts}) == 8
    assert all(concert.date.year == 2027 for concert in concerts)
    assert all(concert.date.tzinfo == UTC for concert in concerts)
    assert len({concert.city for concert in concerts}) >= 5


async def test_seeding_twice_creates_nothing_the_second_time(concerts: Concerts) -> None:
    advanced: list[int] = []
    async with concerts.database.session() as session, session.begin():
        first = await seed_demo(session, advanced.append)
    async with concerts.database.session() as session, session.begin():
        second = await seed_demo(session)

    assert (first, second) == (8, 0)
    assert sum(advanced) == 8
    assert await concerts.concert_count() == 8
    created = await concerts.outbox("concerts.concert.created")
    assert len(created) == 8


async def test_seeding_fills_in_what_is_missing(concerts: Concerts) -> None:
    async with concerts.database.session() as session, session.begin():
        await seed_demo(session)
    async with concerts.database.session() as session, session.begin():
        oldest = (await session.execute(select(Concert).order_by(Concert.date))).scalars().first()
        assert oldest is not None
        await session.delete(oldest)
    async with concerts.database.session() as session, session.begin():
        assert await seed_demo(session) == 1
    assert await concerts.concert_count() == 8


async def test_the_seeded_calendar_is_served(concerts: Concerts) -> None:
    async with concerts.database.session() as session, session.begin():
        await seed_demo(session)
    page = (await concerts.client.get("/api/v1/concerts?page_size=100")).json()
    dates = [datetime.fromisoformat(item["date"]) for item in page["results"]]
    assert page["count"] == 8
    assert dates == sorted(dates)
    lisbon = (await concerts.client.get("/api/v1/concerts?city=LISBON")).json()
    assert lisbon["count"] == 2

"""Every change to the catalogue writes its event to the outbox in the same transaction; a
change that changes nothing, or is refused, writes none."""

from __future__ import annotations

from tests.inventory.conftest import ADMIN_ID, Inventory, movie_body


async def test_create_update_and_delete_publish_their_events(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1, title="Low Frequency")
    movie_id = movie["id"]
    url = f"/api/v1/movies/{movie_id}"
    await inventory.client.patch(url, json={"genres": ["Thriller"]}, headers=inventory.admin)
    await inventory.client.put(
        f"/api/movies/{movie_id}", json={"title": "Lower Frequency"}, headers=inventory.admin
    )
    await inventory.client.delete(url, headers=inventory.admin)

    events = await inventory.outbox()

    assert [event["type"] for event in events] == [
        "inventory.movie.created",
        "inventory.movie.updated",
        "inventory.movie.updated",
        "inventory.movie.deleted",
    ]
    payloads = [event["payload"] for event in events]
    assert payloads[0] == {"movie_id": movie_id, "title": "Low Frequency", "actor_id": ADMIN_ID}
    assert payloads[1] == {
        "movie_id": movie_id,
        "title": "Low Frequency",
        "changed": ["genres"],
        "actor_id": ADMIN_ID,
    }
    assert payloads[2]["changed"] == ["title"]
    assert payloads[2]["title"] == "Lower Frequency"
    assert payloads[3] == {"movie_id": movie_id, "title": "Lower Frequency", "actor_id": ADMIN_ID}
    assert len({event["id"] for event in events}) == 4
    assert all(event["source"] == "inventory" for event in events)


async def test_the_inherited_routes_publish_the_same_events(inventory: Inventory) -> None:
    created = await inventory.client.post(
        "/api/movies", json={"title": "Metronome", "description": "d"}, headers=inventory.admin
    )
    movie_id = created.json()["id"]
    await inventory.client.delete(f"/api/movies/{movie_id}", headers=inventory.admin)
    types = [event["type"] for event in await inventory.outbox()]
    assert types == ["inventory.movie.created", "inventory.movie.deleted"]


async def test_clearing_publishes_one_event_with_the_number_deleted(inventory: Inventory) -> None:
    await inventory.insert_movies([{"title": f"Reel {n}"} for n in range(3)])
    await inventory.client.delete("/api/movies", headers=inventory.admin)
    await inventory.client.delete("/api/movies", headers=inventory.admin)
    events = await inventory.outbox()
    assert [event["type"] for event in events] == ["inventory.movies.cleared"] * 2
    assert [event["payload"] for event in events] == [
        {"deleted": 3, "actor_id": ADMIN_ID},
        {"deleted": 0, "actor_id": ADMIN_ID},
    ]


async def test_a_change_that_changes_nothing_publishes_nothing(inventory: Inventory) -> None:
    movie = await inventory.add_movie(1, genres=["Drama", "Comedy"])
    url = f"/api/v1/movies/{movie['id']}"
    same = {key: movie[key] for key in ("title", "description", "genres", "release_year")}
    response = await inventory.client.patch(url, json=same, headers=inventory.admin)
    assert response.status_code == 200
    assert response.json()["updated_at"] == movie["updated_at"]
    reordered = await inventory.client.patch(
        url, json={"genres": ["Comedy", "Drama"]}, headers=inventory.admin
    )
    assert reordered.json()["genres"] == ["Comedy", "Drama"]
    types = [event["type"] for event in await inventory.outbox()]
    assert types == ["inventory.movie.created", "inventory.movie.updated"]


async def test_a_refused_write_publishes_nothing(inventory: Inventory) -> None:
    await inventory.client.post("/api/v1/movies", json=movie_body(), headers=inventory.user)
    await inventory.client.post(
        "/api/v1/movies", json=movie_body(release_year=1), headers=inventory.admin
    )
    await inventory.client.post("/api/movies", json={"title": "x"}, headers=inventory.admin)
    await inventory.client.delete("/api/movies/12345", headers=inventory.admin)
    assert await inventory.outbox() == []

"""The mixed load's users: Locust user classes, one per journey, with their weights and think
times. Requests are named by route (`name=`), so that a row of the report is a route whatever
its ids or query.

A user waits `THINK` seconds (uniform) between actions, the time to read a page or listen to a
song: 5 s on average, so one concurrent user sends about 0.2 requests per second. Signed-in users
take an account of the pool (signed in beforehand) and now and then sign in again.
"""

from __future__ import annotations

import itertools
import random
import threading
import urllib.parse
import uuid
from typing import Any, ClassVar

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

from _mixed_mix import ADMINS, THINK, WEIGHTS

SONG_WORDS = ("corazon", "noche", "luna", "fuego", "rio", "camino", "ciudad", "amor", "lluvia")
SONG_ORDERINGS = ("title", "-likes", "-release_date", None)
MOVIE_WORDS = ("the", "night", "love", "war", "city", "star", "man", "day")


class Shared:
    """What the runner hands the users: the catalogue, the accounts, the searches."""

    catalogue: ClassVar[dict[str, Any]] = {}
    accounts: ClassVar[list[dict[str, Any]]] = []
    learner_accounts: ClassVar[list[dict[str, Any]]] = []
    admin: ClassVar[dict[str, Any]] = {}
    instrument_queries: ClassVar[list[str]] = []
    _next = itertools.count()
    _next_learner = itertools.count()
    _lock = threading.Lock()

    @classmethod
    def account(cls) -> dict[str, Any]:
        """An account of the pool, shared in turn (browsing and liking do not conflict)."""
        with cls._lock:
            return cls.accounts[next(cls._next) % len(cls.accounts)]

    @classmethod
    def learner_account(cls) -> dict[str, Any]:
        """An account of its own: two learners on one account would withdraw each other."""
        with cls._lock:
            index = next(cls._next_learner)
        if index >= len(cls.learner_accounts):
            raise RuntimeError("more learners than learner accounts: register more")
        return cls.learner_accounts[index]


class Journey(FastHttpUser):
    abstract = True
    wait_time = between(*THINK)
    network_timeout = 30.0
    connection_timeout = 10.0
    signed_in = True

    def on_start(self) -> None:
        self.rng = random.Random()
        self.account = Shared.account() if self.signed_in else {}

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account['token']}"} if self.account else {}

    def get(self, path: str, name: str) -> None:
        self.client.get(path, name=name, headers=self.auth())

    def song_id(self) -> int:
        # A few songs are played far more than the rest (the bulk load's likes are skewed too).
        return int(Shared.catalogue["songs"] * self.rng.random() ** 3) + 1


class Listener(Journey):
    """Browses and searches songs, opens one, likes it (or takes the like back), their likes."""

    weight = WEIGHTS["Listener"]

    @task(30)
    def browse(self) -> None:
        page = self.rng.choice((1, 1, 1, 2, 3, 5))
        query: dict[str, Any] = {"page": page}
        ordering = self.rng.choice(SONG_ORDERINGS)
        if ordering:
            query["ordering"] = ordering
        self.get(f"/api/v1/songs?{urllib.parse.urlencode(query)}", "/api/v1/songs")

    @task(25)
    def search(self) -> None:
        word = self.rng.choice(SONG_WORDS)
        word = word[: self.rng.randint(3, len(word))]
        self.get(f"/api/v1/songs?search={word}", "/api/v1/songs?search=")

    @task(20)
    def song(self) -> None:
        self.get(f"/api/v1/songs/{self.song_id()}", "/api/v1/songs/{id}")

    @task(10)
    def like(self) -> None:
        path = f"/api/v1/songs/{self.song_id()}/like"
        self.client.put(path, name="/api/v1/songs/{id}/like", headers=self.auth())

    @task(4)
    def unlike(self) -> None:
        path = f"/api/v1/songs/{self.song_id()}/like"
        self.client.delete(path, name="/api/v1/songs/{id}/like", headers=self.auth())

    @task(10)
    def my_likes(self) -> None:
        self.get("/api/v1/me/likes", "/api/v1/me/likes")

    @task(5)
    def facets(self) -> None:
        self.get("/api/v1/songs/facets", "/api/v1/songs/facets")

    @task(1)
    def sign_in(self) -> None:
        """A new session: the password checked again (argon2id), a new token."""
        body = {"username": self.account["username"], "password": self.account["password"]}
        with self.client.post(
            "/api/v1/login", json=body, name="/api/v1/login", catch_response=True
        ) as response:
            if response.status_code == 200 and response.json():
                self.account = {**self.account, "token": response.json()["access_token"]}


class Visitor(Journey):
    """Not signed in: the first pages of songs, concerts, movies, instruments and courses."""

    weight = WEIGHTS["Visitor"]
    signed_in = False

    @task(4)
    def songs(self) -> None:
        self.get("/api/v1/songs", "/api/v1/songs (anonymous)")

    @task(2)
    def concerts(self) -> None:
        self.get("/api/v1/concerts?upcoming=true", "/api/v1/concerts (anonymous)")

    @task(2)
    def movies(self) -> None:
        self.get("/api/v1/movies", "/api/v1/movies (anonymous)")

    @task(2)
    def instruments(self) -> None:
        self.get("/api/v1/instruments", "/api/v1/instruments (anonymous)")

    @task(1)
    def courses(self) -> None:
        self.get("/api/v1/courses", "/api/v1/courses (anonymous)")


class ConcertGoer(Journey):
    """The calendar, a concert, their answer about it, their concerts."""

    weight = WEIGHTS["ConcertGoer"]

    def concert(self) -> int:
        return int(self.rng.choice(Shared.catalogue["concerts"]))

    @task(4)
    def calendar(self) -> None:
        ordering = self.rng.choice(("date", "-date"))
        self.get(f"/api/v1/concerts?ordering={ordering}", "/api/v1/concerts")

    @task(3)
    def one(self) -> None:
        self.get(f"/api/v1/concerts/{self.concert()}", "/api/v1/concerts/{id}")

    @task(2)
    def attend(self) -> None:
        status = self.rng.choice(("Attending", "Attending", "Not Attending", "-"))
        self.client.put(
            f"/api/v1/concerts/{self.concert()}/attendance",
            json={"status": status},
            name="/api/v1/concerts/{id}/attendance",
            headers=self.auth(),
        )

    @task(2)
    def mine(self) -> None:
        self.get("/api/v1/me/concerts", "/api/v1/me/concerts")


class Shopper(Journey):
    """Searches instruments as people type, the categories of a search, a listing."""

    weight = WEIGHTS["Shopper"]
    signed_in = False

    @task(6)
    def search(self) -> None:
        query = self.rng.choice(Shared.instrument_queries)
        self.get(f"/api/v1/instruments?{query}", "/api/v1/instruments?search=")

    @task(2)
    def categories(self) -> None:
        query = self.rng.choice(Shared.instrument_queries)
        self.get(f"/api/v1/instruments/categories?{query}", "/api/v1/instruments/categories")

    @task(3)
    def listing(self) -> None:
        listing = self.rng.choice(Shared.catalogue["listings"])
        self.get(f"/api/v1/instruments/{listing}", "/api/v1/instruments/{id}")


class Learner(Journey):
    """Courses and lessons; enrols, completes lessons one by one, withdraws when done and
    takes the next course; their progress. It starts from where its account is (its progress,
    read first), as an app does: an account may come back from an earlier run enrolled."""

    weight = WEIGHTS["Learner"]
    signed_in = False  # not from the shared pool: an account of its own

    def on_start(self) -> None:
        super().on_start()
        self.account = Shared.learner_account()
        self.courses = list(Shared.catalogue["courses"].items())
        self.rng.shuffle(self.courses)
        self.current = 0
        self.resume: dict[str, list[int]] = {}
        with self.client.get(
            "/api/v1/progress", name="/api/v1/progress", headers=self.auth(), catch_response=True
        ) as response:
            if response.status_code == 200 and response.json():
                for item in response.json()["progress"]:
                    self.resume[str(item["course"]["id"])] = item["completed_lesson_ids"]
        self.take_course()

    def take_course(self) -> None:
        course, _ = self.courses[self.current]
        self.enrolled = course in self.resume
        self.done: list[int] = list(self.resume.pop(course, []))

    @task(2)
    def catalogue(self) -> None:
        self.get("/api/v1/courses", "/api/v1/courses")

    @task(3)
    def lessons(self) -> None:
        course, _ = self.courses[self.current]
        self.get(f"/api/v1/courses/{course}/lessons", "/api/v1/courses/{id}/lessons")

    @task(4)
    def study(self) -> None:
        course, lessons = self.courses[self.current]
        if not self.enrolled:
            self.client.post(
                f"/api/v1/enroll/{course}", name="/api/v1/enroll/{id}", headers=self.auth()
            )
            self.enrolled, self.done = True, []
            return
        remaining = [lesson for lesson in lessons if lesson not in self.done]
        if remaining:
            lesson = remaining[0]
            self.client.put(
                f"/api/v1/courses/{course}/lessons/{lesson}/completion",
                name="/api/v1/courses/{id}/lessons/{id}/completion",
                headers=self.auth(),
            )
            self.done.append(lesson)
            return
        self.client.delete(
            f"/api/v1/enroll/{course}", name="/api/v1/enroll/{id}", headers=self.auth()
        )
        self.current = (self.current + 1) % len(self.courses)
        self.take_course()

    @task(2)
    def progress(self) -> None:
        self.get("/api/v1/progress", "/api/v1/progress")


class MovieBuyer(Journey):
    """Looks for a movie, opens it, orders it (202, the worker completes it), their orders."""

    weight = WEIGHTS["MovieBuyer"]

    @task(4)
    def search(self) -> None:
        self.get(f"/api/v1/movies?title={self.rng.choice(MOVIE_WORDS)}", "/api/v1/movies?title=")

    @task(3)
    def movie(self) -> None:
        movie = self.rng.choice(Shared.catalogue["movies"])
        self.get(f"/api/v1/movies/{movie}", "/api/v1/movies/{id}")

    @task(1)
    def order(self) -> None:
        body = {"number_of_items": self.rng.randint(1, 3), "total_amount": "12.99"}
        headers = {**self.auth(), "Idempotency-Key": str(uuid.uuid4())}
        self.client.post(
            "/api/v1/billing/orders", json=body, name="/api/v1/billing/orders", headers=headers
        )

    @task(2)
    def orders(self) -> None:
        self.get("/api/v1/billing/orders", "/api/v1/billing/orders")


class Admin(Journey):
    """An operator: the audit log, the users, the dashboard, every order."""

    fixed_count = ADMINS
    signed_in = False

    def on_start(self) -> None:
        super().on_start()
        self.account = Shared.admin

    @task(3)
    def logs(self) -> None:
        self.get("/api/v1/logs", "/api/v1/logs (admin)")

    @task(2)
    def users(self) -> None:
        self.get("/api/v1/users", "/api/v1/users (admin)")

    @task(1)
    def dashboard(self) -> None:
        self.get("/api/v1/dashboard", "/api/v1/dashboard (admin)")

    @task(1)
    def orders(self) -> None:
        self.get("/api/v1/billing/orders", "/api/v1/billing/orders (admin)")


JOURNEYS: list[type[Journey]] = [
    Listener,
    Visitor,
    ConcertGoer,
    Shopper,
    Learner,
    MovieBuyer,
    Admin,
]

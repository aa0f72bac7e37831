"""A mixed load on the gateways from a background thread, every request recorded.

Virtual users loop over what people do (search and open songs, like and unlike, look at
concerts and attend, search instruments, order, browse courses and enrol, an admin reading the
audit log). A small load balancer spreads them over the gateways as any would: a gateway that
refuses a connection (the request never reached it) is tried again on the other one, and one
whose answer says it is draining, or whose `/ready` fails, gets nothing new until `/ready`
passes again.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bandstand.platform.draining import DRAINING_HEADER

SEARCHES = ("love", "night", "corazon", "blue", "rain", "river", "a", "dawn")
INSTRUMENT_SEARCHES = ("yamaha", "fender", "violin", "piano", "drum", "guitar")
GOOD = frozenset({200, 201, 202, 204, 404, 409})
"""404 and 409 are answers, not failures: an enrolment twice, a like already removed."""


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    name: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status in GOOD


@dataclass
class Gateways:
    """The load balancer in front of the gateways."""

    urls: list[str]
    out_since: dict[str, float] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def pick(self, exclude: str | None = None) -> str:
        live = [url for url in self.urls if url not in self.out_since and url != exclude]
        if live:
            return live[next(self._turn) % len(live)]
        others = [url for url in self.urls if url != exclude] or self.urls
        return min(others, key=lambda url: self.out_since.get(url, 0.0))

    async def probe(self, http: httpx.AsyncClient) -> None:
        for url, since in list(self.out_since.items()):
            if time.monotonic() - since < 0.2:
                continue
            try:
                ready = (await http.get(f"{url}/ready", timeout=1)).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                self.out_since.pop(url, None)
            else:
                self.out_since[url] = time.monotonic()


class Session:
    """One virtual user: their token, and a request helper that records every outcome."""

    def __init__(self, load: MixedLoad, token: str) -> None:
        self.load = load
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        *,
        also_fine: Callable[[httpx.Response], bool] = lambda _response: False,
        **kwargs: Any,
    ) -> httpx.Response | None:
        gateways = self.load.gateways
        started = time.monotonic()
        url = gateways.pick()
        for attempt in (1, 2):
            try:
                response = await self.load.http.request(
                    method, f"{url}{path}", headers=self.headers, **kwargs
                )
            except httpx.ConnectError as exc:
                gateways.out_since.setdefault(url, time.monotonic())
                if attempt == 1:
                    url = gateways.pick(exclude=url)
                    continue
                self.load.record(Outcome(started, time.monotonic(), name, None, repr(exc)))
                return None
            except httpx.HTTPError as exc:
                self.load.record(Outcome(started, time.monotonic(), name, None, repr(exc)))
                return None
            if DRAINING_HEADER.decode() in response.headers:
                gateways.out_since.setdefault(url, time.monotonic())
            outcome = Outcome(started, time.monotonic(), name, response.status_code)
            if also_fine(response):
                outcome = Outcome(started, outcome.ended, name, 200)
            elif not outcome.ok:
                outcome = Outcome(
                    started, outcome.ended, name, response.status_code, response.text[:300]
                )
            self.load.record(outcome)
            return response
        return None


class MixedLoad:
    """`users` virtual users on `gateways` until stopped; `outcomes` holds every request."""

    def __init__(
        self, gateways: list[str], users: list[str], admin: str, catalogue: dict[str, list[int]]
    ) -> None:
        self.gateways = Gateways(list(gateways))
        self.tokens = users
        self.admin = admin
        self.catalogue = catalogue
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mixed-load", daemon=True)
        self.http: httpx.AsyncClient

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def __enter__(self) -> MixedLoad:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive(), "the load did not stop"

    def since(self, moment: float) -> list[Outcome]:
        return [outcome for outcome in list(self.outcomes) if outcome.started >= moment]

    def failures(self, outcomes: list[Outcome] | None = None) -> list[Outcome]:
        return [o for o in (self.outcomes if outcomes is None else outcomes) if not o.ok]

    def wait_for_requests(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.outcomes)
        while len(self.outcomes) - start < count:
            assert time.monotonic() < deadline, (
                f"the load made {len(self.outcomes) - start} requests"
            )
            assert self._thread.is_alive(), "the load stopped"
            time.sleep(0.05)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=30, limits=limits) as self.http:
            users = [
                self._user(Session(self, token), seed) for seed, token in enumerate(self.tokens)
            ]
            admin = self._admin(Session(self, self.admin))
            await asyncio.gather(*users, admin, self._balance())

    async def _balance(self) -> None:
        while not self._stop.is_set():
            await self.gateways.probe(self.http)
            await asyncio.sleep(0.1)

    async def _user(self, session: Session, seed: int) -> None:
        rng = random.Random(seed)
        journeys: list[tuple[int, Callable[[Session, random.Random], Awaitable[None]]]] = [
            (5, self._songs),
            (2, self._like),
            (2, self._concerts),
            (3, self._instruments),
            (1, self._order),
            (2, self._academy),
        ]
        weights = [weight for weight, _ in journeys]
        while not self._stop.is_set():
            (journey,) = rng.choices([j for _, j in journeys], weights)
            await journey(session, rng)
            await asyncio.sleep(rng.uniform(0.01, 0.05))

    async def _admin(self, session: Session) -> None:
        while not self._stop.is_set():
            await session.call("admin logs", "GET", "/api/v1/logs/?page_size=20")
            await session.call("admin users", "GET", "/api/v1/users?page_size=20")
            await asyncio.sleep(0.2)

    async def _songs(self, session: Session, rng: random.Random) -> None:
        search = rng.choice(SEARCHES)
        await session.call("song search", "GET", f"/api/v1/songs?search={search}&page_size=20")
        song = rng.choice(self.catalogue["songs"])
        await session.call("song", "GET", f"/api/v1/songs/{song}")

    async def _like(self, session: Session, rng: random.Random) -> None:
        song = rng.choice(self.catalogue["songs"])
        await session.call("like", "PUT", f"/api/v1/songs/{song}/like")
        await session.call("my likes", "GET", "/api/v1/me/likes")
        await session.call("unlike", "DELETE", f"/api/v1/songs/{song}/like")

    async def _concerts(self, session: Session, rng: random.Random) -> None:
        await session.call("concerts", "GET", "/api/v1/concerts?upcoming=true")
        concert = rng.choice(self.catalogue["concerts"])
        status = rng.choice(("Attending", "Not Attending"))
        await session.call(
            "attend", "PUT", f"/api/v1/concerts/{concert}/attendance", json={"status": status}
        )

    async def _instruments(self, session: Session, rng: random.Random) -> None:
        search = rng.choice(INSTRUMENT_SEARCHES)
        await session.call(
            "instrument search", "GET", f"/api/v1/instruments?search={search}&ordering=price"
        )

    async def _order(self, session: Session, rng: random.Random) -> None:
        order = {"number_of_items": rng.randint(1, 3), "total_amount": "3.99"}
        await session.call("order", "POST", "/api/v1/billing/orders", json=order)

    async def _academy(self, session: Session, rng: random.Random) -> None:
        await session.call("courses", "GET", "/api/v1/courses")
        course = rng.choice(self.catalogue["courses"])
        await session.call("enrol", "POST", f"/api/v1/enroll/{course}", also_fine=_enrolled)
        await session.call("my progress", "GET", "/api/v1/progress")
        await session.call("withdraw", "DELETE", f"/api/v1/enroll/{course}")


def _enrolled(response: httpx.Response) -> bool:
    """The inherited contract answers 400 to an enrolment twice (a journey the load stopped)."""
    return response.status_code == 400 and "Already enrolled" in response.text

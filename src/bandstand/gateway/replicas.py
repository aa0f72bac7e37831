"""The replicas of one service: which one takes the next request, and which are out.

A replica whose connect failed, whose `/ready` failed, or which said it is draining is taken out
of the rotation; one task per such replica asks its
`/ready` after a short back-off (doubling up to a ceiling) and puts it back when it answers 200,
as does a passing `/ready` the gateway asks for its own readiness. While every replica is out,
requests still go to the one out the longest, so a service that comes back is found at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from yarl import URL

logger = logging.getLogger("bandstand.gateway")

# Answers whether the replica at this base URL is ready (its `/ready` said 200).
Probe = Callable[[URL], Awaitable[bool]]


@dataclass(eq=False)
class Replica:
    url: URL
    outstanding: int = 0
    """Requests sent to it and not yet answered to the end."""
    out_since: float | None = None
    """When it was taken out of the rotation; None while it is in."""
    probe_task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def live(self) -> bool:
        return self.out_since is None


class ReplicaSet:
    """Least outstanding requests first; ties go round robin."""

    def __init__(
        self,
        name: str,
        urls: Sequence[str],
        probe: Probe,
        *,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        if not urls:
            raise ValueError(f"{name}: no replica URL")
        self.name = name
        self.replicas = [Replica(URL(url.rstrip("/"))) for url in urls]
        self._probe = probe
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._turn = 0

    def pick(self, exclude: Replica | None = None) -> Replica | None:
        """The replica for the next attempt; None when `exclude` was the only one."""
        replicas = self.replicas
        if exclude is None and len(replicas) == 1:
            return replicas[0]  # the one replica, in or out, takes every request
        others = [replica for replica in self.replicas if replica is not exclude]
        if not others:
            return None
        live = [replica for replica in others if replica.live]
        if not live:
            return min(others, key=lambda replica: replica.out_since or 0.0)
        start = self._turn % len(live)
        self._turn += 1
        rotated = live[start:] + live[:start]
        return min(rotated, key=lambda replica: replica.outstanding)

    def using(self, replica: Replica) -> _InFlight:
        """Counts a request as outstanding on `replica` while the `with` block runs."""
        return _InFlight(replica)

    def answered(self, replica: Replica) -> None:
        """It answered a request: back in the rotation if it was out."""
        self.mark_up(replica)

    def mark_down(self, replica: Replica, reason: str = "unreachable") -> None:
        """Its connect failed, its `/ready` did, or it is draining: out of the rotation until
        its `/ready` passes."""
        if not replica.live:
            return
        replica.out_since = time.monotonic()
        logger.warning("%s replica %s %s; taken out", self.name, replica.url, reason)
        replica.probe_task = asyncio.create_task(
            self._watch(replica), name=f"probe {self.name} {replica.url}"
        )

    def mark_up(self, replica: Replica) -> None:
        if replica.live:
            return
        replica.out_since = None
        logger.info("%s replica %s is back", self.name, replica.url)
        task, replica.probe_task = replica.probe_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def close(self) -> None:
        tasks = [r.probe_task for r in self.replicas if r.probe_task is not None]
        for replica in self.replicas:
            replica.probe_task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, replica: Replica) -> None:
        delay = self._backoff
        while not replica.live:
            await asyncio.sleep(delay)
            try:
                ready = await self._probe(replica.url)
            except Exception:  # a probe that cannot tell is a probe that failed
                ready = False
            if ready:
                self.mark_up(replica)
                return
            delay = min(delay * 2, self._max_backoff)


class _InFlight:
    __slots__ = ("replica",)

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    def __enter__(self) -> None:
        self.replica.outstanding += 1

    def __exit__(self, *_exc: object) -> None:
        self.replica.outstanding -= 1

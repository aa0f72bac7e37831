"""A job a service runs in the background every so often (retention, the text indexes' upkeep):
a first run soon after start, then one every `interval_seconds`; a run that fails is logged and
the next one comes as planned (a database that is down now may be back by then)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any

logger = logging.getLogger("bandstand.periodic")


class PeriodicJob(ABC):
    """Subclasses say what a run does (`run_once`) and whether the job runs at all
    (`wanted`)."""

    def __init__(self, name: str, interval_seconds: float, first_delay_seconds: float) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self.first_delay_seconds = first_delay_seconds
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def wanted(self) -> bool:
        return True

    @abstractmethod
    async def run_once(self) -> Any:
        """One run of the job."""

    def start(self) -> None:
        if self._task is None and self.wanted():
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        await asyncio.sleep(min(self.interval_seconds, self.first_delay_seconds))
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("%s failed", self.name)
            await asyncio.sleep(self.interval_seconds)

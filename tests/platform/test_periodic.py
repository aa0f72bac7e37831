"""A periodic job: its first run soon after start, the next ones at its interval, a failed run
logged without ending the job, nothing when it is not wanted, and stopped on demand."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bandstand.platform.periodic import PeriodicJob


class Counting(PeriodicJob):
    def __init__(self, *, wanted: bool = True, failing: bool = False) -> None:
        super().__init__("counting", interval_seconds=0.01, first_delay_seconds=0.0)
        self.runs = 0
        self._wanted = wanted
        self._failing = failing

    def wanted(self) -> bool:
        return self._wanted

    async def run_once(self) -> int:
        self.runs += 1
        if self._failing:
            raise RuntimeError("the database went away")
        return self.runs


async def _until(job: Counting, runs: int) -> None:
    for _ in range(500):
        if job.runs >= runs:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{job.runs} runs, not {runs}")


async def test_a_job_runs_again_at_its_interval_until_stopped() -> None:
    job = Counting()
    job.start()
    assert job.running
    await _until(job, 3)
    await job.stop()
    assert not job.running
    runs = job.runs
    await asyncio.sleep(0.05)
    assert job.runs == runs


async def test_a_failed_run_is_logged_and_the_next_comes(caplog: pytest.LogCaptureFixture) -> None:
    job = Counting(failing=True)
    with caplog.at_level(logging.ERROR, logger="bandstand.periodic"):
        job.start()
        await _until(job, 2)
        await job.stop()
    assert "counting failed" in caplog.text


async def test_a_job_not_wanted_never_starts() -> None:
    job = Counting(wanted=False)
    job.start()
    assert not job.running
    await job.stop()
    assert job.runs == 0

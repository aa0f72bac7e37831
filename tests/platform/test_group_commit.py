"""Group commit: batches follow the load, and a failure stays with the item at fault."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from bandstand.platform.group_commit import GroupCommit


class Writer:
    """Records each batch it is given; items named in `bad` fail whatever batch they are in."""

    def __init__(self, *, bad: set[int] | None = None, unavailable: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.bad = bad or set()
        self.unavailable = unavailable
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: list[int]) -> list[str]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.unavailable:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("database down"))
        if self.bad & set(items):
            raise ValueError(f"bad item among {items}")
        return [f"stored {item}" for item in items]


async def test_a_lone_item_is_written_at_once() -> None:
    writer = Writer()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    assert await group.submit(1) == "stored 1"
    assert writer.batches == [[1]]


async def test_items_arriving_during_a_write_form_the_next_batch() -> None:
    writer = Writer()
    writer.gate.clear()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)  # the first batch is being written
    rest = [asyncio.create_task(group.submit(i)) for i in range(1, 26)]
    await asyncio.sleep(0)
    writer.gate.set()
    results = await asyncio.gather(first, *rest)
    assert results == [f"stored {i}" for i in range(26)]
    assert writer.batches == [[0], list(range(1, 11)), list(range(11, 21)), list(range(21, 26))]


async def test_a_failing_batch_is_written_again_one_by_one() -> None:
    writer = Writer(bad={3})
    writer.gate.clear()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(group.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    writer.gate.set()
    assert await first == "stored 0"
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["str", "str", "ValueError", "str", "str"]
    assert writer.batches[1:] == [[1, 2, 3, 4, 5], [1], [2], [3], [4], [5]]


async def test_an_unavailable_database_fails_the_whole_batch_without_retrying() -> None:
    writer = Writer(unavailable=True)
    writer.gate.clear()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    tasks = [asyncio.create_task(group.submit(i)) for i in range(4)]
    await asyncio.sleep(0)
    writer.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, OperationalError) for r in results)
    assert writer.batches == [[0, 1, 2, 3]]


async def test_a_caller_that_left_before_its_batch_is_not_written() -> None:
    writer = Writer()
    writer.gate.clear()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group.submit(1))
    kept = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    gone.cancel()
    writer.gate.set()
    assert await first == "stored 0"
    assert await kept == "stored 2"
    assert writer.batches == [[0], [2]]


async def test_stopping_the_writer_releases_every_waiting_caller() -> None:
    writer = Writer()
    writer.gate.clear()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test")
    tasks = [asyncio.create_task(group.submit(i)) for i in range(3)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is being written
    tasks.append(asyncio.create_task(group.submit(3)))
    await asyncio.sleep(0)
    for task in asyncio.all_tasks():
        if task.get_name() == "test":
            task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def test_with_a_linger_items_arriving_soon_after_join_the_first_batch() -> None:
    writer = Writer()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=10, name="test", linger=0.05)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.01)
    rest = [asyncio.create_task(group.submit(i)) for i in range(1, 4)]
    assert await asyncio.gather(first, *rest) == [f"stored {i}" for i in range(4)]
    assert writer.batches == [[0, 1, 2, 3]]


async def test_a_full_batch_does_not_linger() -> None:
    writer = Writer()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=3, name="test", linger=60)
    results = await asyncio.wait_for(asyncio.gather(*(group.submit(i) for i in range(3))), 5)
    assert results == ["stored 0", "stored 1", "stored 2"]


async def test_a_lingering_batch_goes_as_soon_as_it_is_full() -> None:
    writer = Writer()
    group: GroupCommit[int, str] = GroupCommit(writer.write, max_size=3, name="test", linger=60)
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0.01)  # the first item lingers
    rest = [asyncio.create_task(group.submit(i)) for i in (1, 2)]
    results = await asyncio.wait_for(asyncio.gather(first, *rest), 5)
    assert results == ["stored 0", "stored 1", "stored 2"]
    assert writer.batches == [[0, 1, 2]]


def test_a_batch_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(Writer().write, max_size=0, name="test")

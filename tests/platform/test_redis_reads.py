"""The pipelined reads from Redis: answers in order however many are in flight, the database of
the URL, errors that leave the stream in step, and a server gone, back, or silent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from bandstand.platform.redis_reads import PipelinedReader, RedisReplyError
from tests.support.servers import RedisServer


@pytest.fixture
async def writer(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def _reader(url: str, timeout: float = 0.5) -> PipelinedReader:
    reader = PipelinedReader.from_url(url, timeout=timeout)
    assert reader is not None
    return reader


@pytest.mark.redis
async def test_many_reads_in_flight_each_get_their_own_answer(
    redis_url: str, writer: Redis
) -> None:
    await writer.mset({f"key:{n}": f"välue {n}" for n in range(300)})
    reader = _reader(redis_url)
    try:
        found = await asyncio.gather(*(reader.get(f"key:{n}") for n in range(300)))
        assert found == [f"välue {n}" for n in range(300)]
        assert await reader.get("missing") is None
        assert await reader.mget(["key:1", "missing", "key:2"]) == ["välue 1", None, "välue 2"]
        assert await reader.mget(["missing"]) == [None]
        assert await reader.mget([]) == []
    finally:
        await reader.close()


@pytest.mark.redis
async def test_the_database_of_the_url_is_read(redis_url: str) -> None:
    other = urlsplit(redis_url)._replace(path="/3").geturl()
    client = Redis.from_url(other, decode_responses=True)
    await client.set("in-three", "yes")
    reader = _reader(other)
    default = _reader(redis_url)
    try:
        assert await reader.get("in-three") == "yes"
        assert await default.get("in-three") is None
    finally:
        await client.flushdb()
        await client.aclose()
        await reader.close()
        await default.close()


@pytest.mark.redis
async def test_an_error_answer_fails_its_read_only(redis_url: str, writer: Redis) -> None:
    await writer.rpush("a-list", "x")
    await writer.set("a-string", "y")
    reader = _reader(redis_url)
    try:
        wrong, right = await asyncio.gather(
            reader.get("a-list"), reader.get("a-string"), return_exceptions=True
        )
        assert isinstance(wrong, RedisReplyError)
        assert "WRONGTYPE" in str(wrong)
        assert right == "y"
    finally:
        await reader.close()


@pytest.mark.redis
async def test_a_server_gone_fails_reads_and_one_back_is_read_again(
    redis_server: RedisServer, redis_url: str, writer: Redis
) -> None:
    await writer.set("kept", "1")
    reader = _reader(redis_url, timeout=0.3)
    try:
        assert await reader.get("kept") == "1"
        redis_server.stop()
        try:
            with pytest.raises(ConnectionError):
                await reader.get("kept")
        finally:
            redis_server.start()
        assert await reader.get("kept") in (None, "1")  # connected again
    finally:
        await reader.close()


async def test_a_server_that_never_answers_fails_the_reads_within_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = _reader(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    try:
        started = time.monotonic()
        results = await asyncio.gather(reader.get("a"), reader.get("b"), return_exceptions=True)
        assert all(isinstance(result, TimeoutError) for result in results)
        assert time.monotonic() - started < 2
    finally:
        await reader.close()
        server.close()


def test_only_plain_redis_urls_are_read_this_way() -> None:
    assert PipelinedReader.from_url("redis://127.0.0.1:6379/2") is not None
    assert PipelinedReader.from_url("redis://:secret@cache.internal") is not None
    assert PipelinedReader.from_url("rediss://cache.internal:6380/0") is None
    assert PipelinedReader.from_url("unix:///run/redis.sock") is None
    assert PipelinedReader.from_url("redis://127.0.0.1/0?socket_timeout=2") is None


async def test_a_connection_logs_in_and_selects_its_database_before_reading() -> None:
    received: list[bytes] = []

    async def fake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answers = [b"+OK\r\n", b"+OK\r\n", b"$5\r\nvalue\r\n"]
        while answers:
            data = await reader.read(1 << 16)
            if not data:
                return
            received.append(data)
            for _ in range(data.count(b"*")):
                writer.write(answers.pop(0))
            await writer.drain()

    server = await asyncio.start_server(fake, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader = _reader(f"redis://app:s%40cret@127.0.0.1:{port}/2")
    try:
        assert await reader.get("k") == "value"
        sent = b"".join(received)
        assert sent.startswith(b"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$6\r\ns@cret\r\n")
        assert b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n" in sent
        assert sent.endswith(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
    finally:
        await reader.close()
        server.close()


@pytest.mark.redis
def test_each_event_loop_reads_on_its_own_connection(redis_url: str) -> None:
    reader = _reader(redis_url)

    async def read() -> str | None:
        return await reader.get("nothing")

    assert asyncio.run(read()) is None
    assert asyncio.run(read()) is None  # the first loop, and its connection, are gone

"""The private test servers really start, answer, and survive a stop/start cycle."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import aio_pika
import asyncpg
import pytest
import redis.asyncio as aioredis
import redis.exceptions

from tests.support.servers import PostgresServer, RabbitMQServer, RedisServer


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
async def test_postgres_serves_a_fresh_database(
    postgres_url_factory: Callable[[str], str],
) -> None:
    url = postgres_url_factory("servers probe")
    assert url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")

    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        assert await connection.fetchval("SELECT 1") == 1
        assert await connection.fetchval("SELECT current_database()") == url.rsplit("/", 1)[1]
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_postgres_drops_a_database_that_still_has_clients(
    postgres_server: PostgresServer,
) -> None:
    name = _unique("drop_probe")
    postgres_server.create_database(name)
    connection = await asyncpg.connect(postgres_server.dsn(name))
    try:
        postgres_server.drop_database(name)
    finally:
        connection.terminate()

    admin = await asyncpg.connect(postgres_server.dsn("postgres"))
    try:
        count = await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    assert count == 0


@pytest.mark.postgres
async def test_postgres_stop_and_start_keep_port_and_data(
    postgres_server: PostgresServer,
    postgres_url_factory: Callable[[str], str],
) -> None:
    dsn = _asyncpg_dsn(postgres_url_factory("restart"))
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TABLE kept (value int); INSERT INTO kept VALUES (42)")
    finally:
        await connection.close()

    postgres_server.stop()
    try:
        assert not postgres_server.running
        with pytest.raises(ConnectionRefusedError):
            await asyncpg.connect(dsn, timeout=5)
    finally:
        postgres_server.start()

    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT value FROM kept") == 42
    finally:
        await connection.close()


# --------------------------------------------------------------------------- Redis


@pytest.mark.redis
async def test_redis_answers(redis_url: str) -> None:
    assert redis_url.startswith("redis://127.0.0.1:")
    client = aioredis.from_url(redis_url)
    try:
        assert await client.ping()
        assert await client.dbsize() == 0
        await client.set("greeting", "hello")
        assert await client.get("greeting") == b"hello"
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_flushall_empties_the_server(redis_server: RedisServer) -> None:
    assert redis_server.command("SET", "leftover", "1") == b"+OK"
    redis_server.flushall()
    assert redis_server.command("DBSIZE") == b":0"


@pytest.mark.redis
async def test_redis_stop_and_start_on_the_same_port(
    redis_server: RedisServer, redis_url: str
) -> None:
    redis_server.stop()
    try:
        client = aioredis.from_url(redis_url, socket_connect_timeout=1)
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                await client.ping()
        finally:
            await client.aclose()
    finally:
        redis_server.start()

    client = aioredis.from_url(redis_url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()


# --------------------------------------------------------------------------- RabbitMQ


async def _publish(url: str, queue_name: str, body: bytes) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        await channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue.name,
        )


async def _get(url: str, queue_name: str) -> bytes:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        message = await queue.get(timeout=10)
        await message.ack()
        return message.body


@pytest.mark.rabbitmq
async def test_rabbitmq_round_trips_a_message(rabbitmq_url: str) -> None:
    assert rabbitmq_url.startswith("amqp://guest:guest@127.0.0.1:")
    await _publish(rabbitmq_url, "servers.probe", b"hello")
    assert await _get(rabbitmq_url, "servers.probe") == b"hello"


@pytest.mark.rabbitmq
async def test_rabbitmq_reset_deletes_queues_and_exchanges(
    rabbitmq_server: RabbitMQServer, rabbitmq_url: str
) -> None:
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_exchange("servers.events", aio_pika.ExchangeType.TOPIC, durable=True)
        await channel.declare_queue("servers.leftover", durable=True)

    rabbitmq_server.reset()

    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await channel.declare_queue("servers.leftover", passive=True)
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
            await channel.get_exchange("servers.events")
        channel = await connection.channel()
        await channel.get_exchange("amq.topic")


@pytest.mark.rabbitmq
async def test_rabbitmq_purge_keeps_queues(
    rabbitmq_server: RabbitMQServer, rabbitmq_url: str
) -> None:
    await _publish(rabbitmq_url, "servers.purged", b"stale")
    rabbitmq_server.purge_all_queues()

    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("servers.purged", passive=True)
        assert await queue.get(fail=False) is None


@pytest.mark.rabbitmq
async def test_rabbitmq_stop_app_and_start_app(
    rabbitmq_server: RabbitMQServer, rabbitmq_url: str
) -> None:
    await _publish(rabbitmq_url, "servers.paused", b"kept")

    rabbitmq_server.stop_app()
    try:
        with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
            await aio_pika.connect(rabbitmq_url, timeout=5)
    finally:
        rabbitmq_server.start()

    assert await _get(rabbitmq_url, "servers.paused") == b"kept"


@pytest.mark.rabbitmq
async def test_rabbitmq_stop_and_start_keep_ports_and_durable_messages(
    rabbitmq_server: RabbitMQServer, rabbitmq_url: str
) -> None:
    await _publish(rabbitmq_url, "servers.durable", b"survivor")

    rabbitmq_server.stop()
    try:
        assert not rabbitmq_server.running
        with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
            await aio_pika.connect(rabbitmq_url, timeout=5)
    finally:
        rabbitmq_server.start()

    assert await _get(rabbitmq_url, "servers.durable") == b"survivor"

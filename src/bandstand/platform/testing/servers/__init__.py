"""Private PostgreSQL, RabbitMQ and Redis servers for tests, on free loopback ports."""

from bandstand.platform.testing.servers.base import EngineUnavailable, ServerCommandError, free_port
from bandstand.platform.testing.servers.postgres import PostgresServer
from bandstand.platform.testing.servers.rabbitmq import RabbitMQServer
from bandstand.platform.testing.servers.redis import RedisServer

__all__ = [
    "EngineUnavailable",
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "ServerCommandError",
    "free_port",
]

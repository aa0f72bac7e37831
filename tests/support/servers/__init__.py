"""Private PostgreSQL, RabbitMQ and Redis servers for tests, on free loopback ports."""

from tests.support.servers.base import EngineUnavailable, ServerCommandError, free_port
from tests.support.servers.postgres import PostgresServer
from tests.support.servers.rabbitmq import RabbitMQServer
from tests.support.servers.redis import RedisServer

__all__ = [
    "EngineUnavailable",
    "PostgresServer",
    "RabbitMQServer",
    "RedisServer",
    "ServerCommandError",
    "free_port",
]

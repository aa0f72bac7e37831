"""The durable queues a service or worker needs, declared before it publishes or consumes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from bandstand.platform.messaging.broker import Broker

Queues = Mapping[str, Sequence[str]]
"""Queue name → the routing-key patterns it is bound by (none for a work queue)."""


def declare_queues(broker: Broker, queues: Queues) -> Callable[[], Awaitable[None]]:
    """Declares each durable queue with its bindings (idempotent); raises `BrokerUnavailable`.

    The result is what `OutboxRelay(prepare=...)` runs before publishing and after the broker was
    lost, so events reach queues whose consumer has never run."""

    async def declare() -> None:
        for queue, routing_keys in queues.items():
            await broker.declare_queue(queue, routing_keys)

    return declare

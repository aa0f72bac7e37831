"""Events and work items between services: messages, the outbox, brokers and consumers.

A service writes messages to its outbox with `publish_event` in the business transaction; an
`OutboxRelay` publishes them through a `Broker` (RabbitMQ, or the embedded SQLite broker);
consumers handle them with `handle_idempotently`, which records processed message ids.
"""

from bandstand.platform.messaging.batching import BatchHandler, BatchSubscription
from bandstand.platform.messaging.broker import (
    EVENTS_EXCHANGE,
    Broker,
    BrokerUnavailable,
    Consumer,
    Delivery,
    Handler,
    Peeked,
    RetryPolicy,
    dead_letter_queue,
)
from bandstand.platform.messaging.consumer import (
    MessageHandler,
    handle_idempotently,
    idempotent_handler,
)
from bandstand.platform.messaging.factory import create_broker
from bandstand.platform.messaging.idempotency import (
    attach_processed_messages,
    mark_processed,
    processed_messages_columns,
)
from bandstand.platform.messaging.message import Message, MessageFormatError
from bandstand.platform.messaging.outbox import (
    attach_outbox,
    outbox_columns,
    publish_event,
    publish_events,
)
from bandstand.platform.messaging.queues import Queues, declare_queues
from bandstand.platform.messaging.relay import OutboxRelay
from bandstand.platform.messaging.resource_events import ResourceEvents
from bandstand.platform.messaging.subscriptions import (
    Subscribing,
    Subscription,
    SubscriptionRunner,
)

__all__ = [
    "EVENTS_EXCHANGE",
    "BatchHandler",
    "BatchSubscription",
    "Broker",
    "BrokerUnavailable",
    "Consumer",
    "Delivery",
    "Handler",
    "Message",
    "MessageFormatError",
    "MessageHandler",
    "OutboxRelay",
    "Peeked",
    "Queues",
    "ResourceEvents",
    "RetryPolicy",
    "Subscribing",
    "Subscription",
    "SubscriptionRunner",
    "attach_outbox",
    "attach_processed_messages",
    "create_broker",
    "dead_letter_queue",
    "declare_queues",
    "handle_idempotently",
    "idempotent_handler",
    "mark_processed",
    "outbox_columns",
    "processed_messages_columns",
    "publish_event",
    "publish_events",
]

"""The broker interface every backend implements, and the retry policy they share."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bandstand.platform.messaging.message import Message

EVENTS_EXCHANGE = "bandstand.events"


class BrokerUnavailable(Exception):
    """The broker cannot be reached or did not confirm an operation; try again later."""


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def is_dead_letter_queue(queue: str) -> bool:
    return queue.endswith(".dlq")


_EPOCH = datetime.fromtimestamp(0, UTC)


def stand_in(message_id: str) -> Message:
    """The `message` of a parked delivery: only its id is known."""
    return Message(id=message_id, type="", occurred_at=_EPOCH, payload={}, source="")


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a message gets and how long to wait before each retry.

    A delivery whose handler failed counts, and so does one whose consumer went away with the
    message; after `max_attempts` the message is dead-lettered."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 300.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.base_delay * self.factor ** max(attempt - 1, 0), self.max_delay)


class Delivery(abc.ABC):
    """A message handed to a consumer; settle it exactly once with `ack` or `reject`.

    `attempts` counts the deliveries of the message to this queue, this one included, that ended
    in a failure or with their consumer gone (a process that died, a connection lost) — the same
    in every broker. A delivery given back with `release` does not count. A message that comes
    back from a consumer gone with it on its last attempt is dead-lettered, not handed out.
    """

    malformed: str | None = None
    """Why the body is not a `Message`, for a message parked in a dead-letter queue: nothing
    drops it there; it is handed out with this set, `raw` its body and `message` a stand-in
    carrying only its id (the broker's message id), to be listed, re-driven or deleted."""
    raw: bytes | None = None

    def __init__(self, queue: str, message: Message, attempts: int, retry: RetryPolicy) -> None:
        self.queue = queue
        self.message = message
        self.attempts = attempts
        self._retry_policy = retry
        self._settled = False

    @property
    def settled(self) -> bool:
        return self._settled

    async def ack(self) -> None:
        """The message is handled: remove it from the queue."""
        self._settle()
        await self._ack()

    async def reject(self, requeue: bool = True) -> None:
        """The message failed.

        With `requeue` it is delivered again after the policy's back-off, unless this was its last
        attempt; otherwise, or then, it goes to the queue's dead-letter queue.
        """
        self._settle()
        if requeue and self.attempts < self._retry_policy.max_attempts:
            await self._retry(self._retry_policy.delay(self.attempts))
        else:
            await self._dead_letter()

    async def release(self) -> None:
        """Give the message back unhandled (e.g. on shutdown), without counting an attempt."""
        self._settle()
        await self._release()

    def _settle(self) -> None:
        if self._settled:
            raise RuntimeError(f"message {self.message.id} is already acked or rejected")
        self._settled = True

    @abc.abstractmethod
    async def _ack(self) -> None: ...

    @abc.abstractmethod
    async def _retry(self, delay: float) -> None: ...

    @abc.abstractmethod
    async def _dead_letter(self) -> None: ...

    @abc.abstractmethod
    async def _release(self) -> None: ...


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Peeked:
    """A message seen in a queue and left there; `malformed` and `raw` as a `Delivery`'s."""

    message: Message
    malformed: str | None = None
    raw: bytes | None = None


class Consumer(abc.ABC):
    """A running subscription to one queue: `handler` runs for each delivery, at most
    `prefetch` at a time."""

    def __init__(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self.queue = queue
        self._handler = handler
        self._prefetch = prefetch
        self._stopping = False

    @abc.abstractmethod
    async def stop(self, grace: float | None = 30.0) -> None:
        """Take no new messages, let the handlers in flight finish, then return.

        Handlers still running after `grace` seconds are cancelled and their messages released.
        """


class Broker(abc.ABC):
    """Durable publish/subscribe and work queues.

    Events go to the topic exchange `bandstand.events` under their `type` as routing key and reach
    every queue bound by a matching pattern (`*` one word, `#` any number of words). A queue with no
    bindings is a work queue, reached by publishing with `queue=`.
    """

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def declare_queue(
        self, name: str, routing_keys: Sequence[str] = (), *, dead_letter: bool = True
    ) -> None:
        """Create the durable queue `name` (idempotent) and bind it to each routing-key pattern.

        With `dead_letter`, messages that fail `max_attempts` times, or are rejected without
        requeue, move to `<name>.dlq`; without it they are dropped. A dead-letter queue (a name
        ending in `.dlq`) has no dead-letter queue of its own.
        """

    @abc.abstractmethod
    async def publish(self, messages: Sequence[Message], *, queue: str | None = None) -> None:
        """Return once the broker has durably accepted every message.

        With `queue`, the messages go to that work queue (declared with the defaults if missing);
        otherwise to the events exchange by `message.type`. Raises `BrokerUnavailable`.
        """

    @abc.abstractmethod
    async def publish_raw(self, queue: str, body: bytes, *, message_id: str) -> None:
        """Put `body` as it is on the work queue `queue` (re-driving a parked message whose body
        is not a `Message`). Raises `BrokerUnavailable`."""

    @abc.abstractmethod
    async def consume(self, queue: str, handler: Handler, *, prefetch: int = 10) -> Consumer:
        """Run `handler` for each message of `queue`, at most `prefetch` at a time.

        The message is acked when the handler returns and retried (then dead-lettered) when it
        raises, unless the handler settled it itself.
        """

    @abc.abstractmethod
    async def get(self, queue: str) -> Delivery | None:
        """Take one message, or None when none is ready.

        A body that is not a `Message` is dead-lettered on a queue that has a dead-letter queue
        and handed out parked (`Delivery.malformed`) on a dead-letter queue."""

    async def peek(self, queue: str, limit: int) -> list[Peeked]:
        """The first `limit` messages `get` would hand out, left in the queue (listing a
        dead-letter queue: a body that is not a `Message` is seen `malformed`).

        This one takes them and gives them back (attempts unchanged); a broker that can read a
        queue without taking from it does that instead."""
        taken: list[Delivery] = []
        try:
            while len(taken) < limit:
                delivery = await self.get(queue)
                if delivery is None:
                    break
                taken.append(delivery)
            return [Peeked(d.message, d.malformed, d.raw) for d in taken]
        finally:
            for delivery in taken:
                if not delivery.settled:
                    await delivery.release()

    @abc.abstractmethod
    async def queue_depth(self, name: str) -> int:
        """Messages waiting in the queue, including those waiting for a retry."""

    @abc.abstractmethod
    async def purge(self, name: str) -> None:
        """Remove every waiting message of the queue."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise `BrokerUnavailable` when the broker cannot be used."""

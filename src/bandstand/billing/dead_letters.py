"""The dead-letter queue of `billing_queue`: what admins see, and putting messages back.

A message lands in `billing_queue.dlq` after failing all its attempts (or at once when it cannot
be read). Looking leaves them in the queue (`Broker.peek`: the embedded broker reads them in one
statement; RabbitMQ's are taken and handed back unsettled); re-driving
publishes a fresh copy (its attempts start again) to `billing_queue`, then removes the dead one;
deleting removes it for good.

A message whose body is not a message at all stays parked in the queue (the broker hands it out
with `malformed` set) and is listed with its raw body. Re-driving everything leaves it (no worker
can read it); re-driving it by id puts its body back on `billing_queue` unchanged, for a worker
that has learnt to read it.
"""

from __future__ import annotations

from collections.abc import Collection

from bandstand.billing.events import BILLING_QUEUE
from bandstand.platform.errors import ServiceUnavailable
from bandstand.platform.messaging import Broker, BrokerUnavailable, Delivery, Message, Peeked
from bandstand.platform.messaging.broker import dead_letter_queue

DEAD_LETTER_QUEUE = dead_letter_queue(BILLING_QUEUE)
MAX_BATCH = 1000


class BrokerDown(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Message broker unavailable, try again shortly")


async def _take(broker: Broker, limit: int) -> list[Delivery]:
    taken: list[Delivery] = []
    while len(taken) < limit:
        delivery = await broker.get(DEAD_LETTER_QUEUE)
        if delivery is None:
            break
        taken.append(delivery)
    return taken


async def _give_back(deliveries: Collection[Delivery]) -> None:
    for delivery in deliveries:
        if not delivery.settled:
            await delivery.release()


class DeadLetterService:
    async def peek(self, broker: Broker, limit: int) -> tuple[int, list[Peeked]]:
        """How many messages are dead, and the first `limit` of them (left in the queue)."""
        try:
            count = await broker.queue_depth(DEAD_LETTER_QUEUE)
            return count, await broker.peek(DEAD_LETTER_QUEUE, limit)
        except BrokerUnavailable as exc:
            raise BrokerDown() from exc

    async def redrive(self, broker: Broker, message_ids: Collection[str] | None) -> list[str]:
        """Put dead messages (all, or those of `message_ids`) back on `billing_queue`."""
        wanted = None if message_ids is None else set(message_ids)
        taken: list[Delivery] = []
        redriven: list[str] = []
        try:
            taken = await _take(broker, MAX_BATCH)
            chosen = [
                d
                for d in taken
                if (d.malformed is None and wanted is None) or (wanted and d.message.id in wanted)
            ]
            for delivery in chosen:
                if delivery.malformed is not None and delivery.raw is not None:
                    await broker.publish_raw(
                        BILLING_QUEUE, delivery.raw, message_id=delivery.message.id
                    )
                    await delivery.ack()
                    redriven.append(delivery.message.id)
                    continue
                copy = Message.new(
                    delivery.message.type,
                    delivery.message.payload,
                    delivery.message.source,
                    headers={**delivery.message.headers, "redriven-from": delivery.message.id},
                )
                await broker.publish([copy], queue=BILLING_QUEUE)
                await delivery.ack()
                redriven.append(delivery.message.id)
        except BrokerUnavailable as exc:
            raise BrokerDown() from exc
        finally:
            await _give_back(taken)
        return redriven

    async def delete(self, broker: Broker, message_ids: Collection[str]) -> list[str]:
        """Remove the dead messages of `message_ids` for good; the ids of those removed."""
        wanted = set(message_ids)
        taken: list[Delivery] = []
        deleted: list[str] = []
        try:
            taken = await _take(broker, MAX_BATCH)
            for delivery in taken:
                if delivery.message.id in wanted:
                    await delivery.ack()
                    deleted.append(delivery.message.id)
        except BrokerUnavailable as exc:
            raise BrokerDown() from exc
        finally:
            await _give_back(taken)
        return deleted


dead_letter_service = DeadLetterService()

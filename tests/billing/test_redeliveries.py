"""Deliveries cut short by a crashed worker count as attempts, and a broker that is down makes
the dead-letter routes answer 503."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from bandstand.billing.models import Order
from bandstand.billing.worker import MAX_ATTEMPTS, BillingWorker
from bandstand.platform.messaging import BrokerUnavailable, Delivery, Message, RetryPolicy
from tests.billing.conftest import ALICE_ID, Billing


class CrashedDelivery(Delivery):
    """A message RabbitMQ hands out again after its worker died: redelivered, first attempt."""

    redelivered = True

    def __init__(self, message: Message) -> None:
        super().__init__("billing_queue", message, 1, RetryPolicy())
        self.outcome: str | None = None

    async def _ack(self) -> None:
        self.outcome = "acked"

    async def _retry(self, delay: float) -> None:
        self.outcome = "retried"

    async def _dead_letter(self) -> None:
        self.outcome = "dead"

    async def _release(self) -> None:
        self.outcome = "released"


async def add_order(billing: Billing, redeliveries: int) -> Message:
    order_id = uuid.uuid4()
    async with billing.database.session() as session, session.begin():
        session.add(
            Order(
                id=order_id,
                user_id=ALICE_ID,
                number_of_items=1,
                total_amount=Decimal("1.20"),
                currency="EUR",
                status="pending",
                redeliveries=redeliveries,
            )
        )
    payload = {"order_id": str(order_id), "user_id": ALICE_ID, "number_of_items": 1}
    return Message.new(
        "billing.order.created", payload | {"total_amount": "1.20", "currency": "EUR"}, "billing"
    )


@pytest.mark.parametrize(
    ("crashes_before", "processed"),
    [(0, True), (MAX_ATTEMPTS - 2, True), (MAX_ATTEMPTS - 1, False)],
)
async def test_crashes_count_towards_the_attempts(
    billing: Billing, worker: BillingWorker, crashes_before: int, processed: bool
) -> None:
    message = await add_order(billing, crashes_before)
    delivery = CrashedDelivery(message)
    await worker.handle(delivery)
    [order] = await billing.orders()
    assert order.redeliveries == crashes_before + 1
    if processed:
        # The handler returned: the consumer acks it.
        assert delivery.outcome is None
        assert order.status == "completed"
    else:
        assert delivery.outcome == "dead"
        assert order.status == "pending"


async def test_dead_letters_answer_503_while_the_broker_is_down(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: object, **_kwargs: object) -> None:
        raise BrokerUnavailable("test: broker down")

    broker = billing.app.state.runtime.broker
    monkeypatch.setattr(broker, "get", down)
    monkeypatch.setattr(broker, "queue_depth", down)
    for method, path in [
        ("GET", "/api/v1/billing/dead-letters"),
        ("POST", "/api/v1/billing/dead-letters/redrive"),
    ]:
        response = await billing.client.request(method, path, headers=billing.admin)
        assert response.status_code == 503
        assert response.json() == {"detail": "Message broker unavailable, try again shortly"}

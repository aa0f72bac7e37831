"""Billing's use cases over HTTP: placing, reading and listing orders.

Every method takes the request's session and never commits: the order row and its outbox
message are written in the request's one transaction, committed before the 202 is sent.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.billing import events
from bandstand.billing.models import PENDING, Order
from bandstand.billing.repository import OrderFilters, OrderRepository
from bandstand.billing.schemas import OrderCreate
from bandstand.platform.clock import utcnow
from bandstand.platform.errors import Conflict, Forbidden, NotFound
from bandstand.platform.security import Principal


class OrderNotFound(NotFound):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"Order {order_id} not found")


class IdempotencyKeyReused(Conflict):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used for a different order")


@dataclass(frozen=True)
class Placed:
    order: Order
    replayed: bool
    """True when an earlier request with the same Idempotency-Key created the order."""


def _digest(fingerprint: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


class OrderService:
    def __init__(self, repository: OrderRepository | None = None) -> None:
        self.repository = repository or OrderRepository()

    def billed_user(self, caller: Principal, data: OrderCreate) -> int:
        """Whom the order bills: the caller unless an admin names someone else."""
        user_id = caller.id if data.user_id is None else data.user_id
        if not caller.can_act_for(user_id):
            raise Forbidden("You can only place orders for yourself")
        return user_id

    async def place(
        self,
        session: AsyncSession,
        data: OrderCreate,
        caller: Principal,
        idempotency_key: str | None = None,
    ) -> Placed:
        user_id = self.billed_user(caller, data)
        request_hash = _digest(data.fingerprint(user_id)) if idempotency_key else None
        if idempotency_key is not None:
            existing = await self._replay(session, user_id, idempotency_key, request_hash)
            if existing is not None:
                return Placed(existing, replayed=True)
        order = self.new_order(data, caller, idempotency_key, request_hash)
        if not await self.repository.add(session, order):
            # A concurrent request with the same key won the race: answer with its order.
            assert idempotency_key is not None
            existing = await self._replay(session, user_id, idempotency_key, request_hash)
            if existing is None:
                raise IdempotencyKeyReused()
            return Placed(existing, replayed=True)
        await events.orders_created(session, [order])
        return Placed(order, replayed=False)

    async def place_batch(
        self, session: AsyncSession, orders: Sequence[OrderCreate], caller: Principal
    ) -> list[Order]:
        """Place many orders at once (no Idempotency-Keys): each is exactly what `place` stores,
        its row and its `billing.order.created` message, in two statements for the batch."""
        placed = [self.new_order(data, caller) for data in orders]
        await self.repository.add_many(session, placed)
        await events.orders_created(session, placed)
        return placed

    def new_order(
        self,
        data: OrderCreate,
        caller: Principal,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> Order:
        """A pending order of `data`, billed to whom `billed_user` says (not stored yet)."""
        user_id = self.billed_user(caller, data)
        return Order(
            id=uuid.uuid4(),
            user_id=user_id,
            number_of_items=data.number_of_items,
            total_amount=data.total_amount,
            currency=data.currency,
            status=PENDING,
            created_at=utcnow(),
            created_by=caller.id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
        )

    async def _replay(
        self, session: AsyncSession, user_id: int, key: str, request_hash: str | None
    ) -> Order | None:
        existing = await self.repository.by_idempotency_key(session, user_id, key)
        if existing is not None and existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        return existing

    async def get(self, session: AsyncSession, order_id: uuid.UUID, viewer: Principal) -> Order:
        order = await self.repository.get(session, order_id)
        # Someone else's order is "not found", so ids cannot be probed.
        if order is None or not viewer.can_act_for(order.user_id):
            raise OrderNotFound(order_id)
        return order

    def listing(
        self, viewer: Principal, *, status: str | None = None, user_id: int | None = None
    ) -> Select[Any]:
        if not viewer.is_admin:
            if user_id is not None and user_id != viewer.id:
                raise Forbidden("Only an admin can list other users' orders")
            user_id = viewer.id
        return self.repository.listing(OrderFilters(user_id=user_id, status=status))


order_service = OrderService()

"""A message claimed from the embedded broker, settled through it by row id and lock token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bandstand.platform.messaging.broker import Delivery
from bandstand.platform.messaging.message import Message

if TYPE_CHECKING:
    from bandstand.platform.messaging.embedded import EmbeddedBroker


class EmbeddedDelivery(Delivery):
    def __init__(
        self,
        broker: EmbeddedBroker,
        queue: str,
        message: Message,
        attempts: int,
        *,
        row_id: int,
        token: str,
    ) -> None:
        super().__init__(queue, message, attempts, broker.retry)
        self.row_id = row_id
        self.token = token
        self._broker = broker

    async def _ack(self) -> None:
        await self._broker.ack(self.row_id, self.token)

    async def _retry(self, delay: float) -> None:
        await self._broker.retry_later(self.row_id, self.token, delay)

    async def _dead_letter(self) -> None:
        await self._broker.dead_letter(self.queue, self.row_id, self.token)

    async def _release(self) -> None:
        await self._broker.release(self.row_id, self.token)

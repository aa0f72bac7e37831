"""Acks of a RabbitMQ consumer sent together: one `basic.ack multiple` for a run of messages.

A worker that settles a batch acks every message of it at once; one frame (and one write) per
message cost it more than the rest of the bookkeeping. The acks requested during one turn of the
event loop are sent at the start of the next: the longest run of the oldest unsettled deliveries
that are all acked goes as one ack with `multiple=True` (it acks every unsettled delivery up to
its tag, so it is sent only when each of them is being acked); any other ack goes alone. A
delivery being rejected or released stays unsettled until that is sent, so a multiple ack never
covers it. Delivery tags belong to a channel: a channel that RabbitMQ replaced starts afresh.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aio_pika.abc import AbstractIncomingMessage


@dataclass
class _Channel:
    channel: object
    """The channel the deliveries came on (kept, so that its id is not reused meanwhile)."""
    unsettled: dict[int, AbstractIncomingMessage] = field(default_factory=dict)
    """Delivered and not settled yet, by delivery tag."""
    acked: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    """Among `unsettled`, those whose ack waits to be sent."""

    @property
    def closed(self) -> bool:
        return bool(getattr(self.channel, "is_closed", True))


class AckWindow:
    def __init__(self) -> None:
        self._channels: dict[int, _Channel] = {}
        self._channel_of: dict[int, int] = {}
        """id of an unsettled delivery → key of its channel in `_channels`."""
        self._flush_scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    def delivered(self, incoming: AbstractIncomingMessage) -> None:
        tag = incoming.delivery_tag
        try:
            channel = incoming.channel
        except Exception:  # already closed: it cannot be acked through any channel
            return
        if tag is None:
            return
        key = id(channel)
        state = self._channels.get(key)
        if state is None:
            state = self._channels[key] = _Channel(channel)
        state.unsettled[tag] = incoming
        self._channel_of[id(incoming)] = key

    def forget(self, incoming: AbstractIncomingMessage) -> None:
        """`incoming` was settled otherwise (rejected, released)."""
        state = self._state_of(incoming)
        if state is None:
            return
        self._drop(state, incoming)
        future = state.acked.pop(incoming.delivery_tag or 0, None)
        if future is not None and not future.done():
            future.cancel()

    async def ack(self, incoming: AbstractIncomingMessage) -> None:
        """Ack `incoming` with the others acked in this turn of the loop; returns once sent."""
        state = self._state_of(incoming)
        if state is None or state.closed or incoming.delivery_tag is None:
            if state is not None:
                self._drop(state, incoming)
            await incoming.ack()  # not delivered through this window, or its channel is gone
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.acked[incoming.delivery_tag] = future
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        await future

    def _state_of(self, incoming: AbstractIncomingMessage) -> _Channel | None:
        key = self._channel_of.get(id(incoming))
        return None if key is None else self._channels.get(key)

    def _drop(self, state: _Channel, incoming: AbstractIncomingMessage) -> None:
        state.unsettled.pop(incoming.delivery_tag or 0, None)
        key = self._channel_of.pop(id(incoming), None)
        if not state.unsettled and key is not None:
            self._channels.pop(key, None)

    def _flush(self) -> None:
        self._flush_scheduled = False
        for state in list(self._channels.values()):
            if not state.acked:
                continue
            run: list[int] = []
            for tag in sorted(state.unsettled):
                if tag not in state.acked:
                    break
                run.append(tag)
            singles = sorted(set(state.acked) - set(run))
            sends: list[tuple[AbstractIncomingMessage, bool, list[asyncio.Future[None]]]] = []
            if run:
                last = state.unsettled[run[-1]]
                sends.append((last, len(run) > 1, [state.acked[tag] for tag in run]))
            sends.extend((state.unsettled[tag], False, [state.acked[tag]]) for tag in singles)
            for tag in (*run, *singles):
                del state.acked[tag]
                self._drop(state, state.unsettled[tag])
            for incoming, multiple, futures in sends:
                task = asyncio.create_task(_send(incoming, multiple, futures), name="rabbitmq-ack")
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)


async def _send(
    incoming: AbstractIncomingMessage, multiple: bool, futures: list[asyncio.Future[None]]
) -> None:
    try:
        await incoming.ack(multiple=multiple)
    except Exception as exc:
        for future in futures:
            if not future.done():
                future.set_exception(exc)
        return
    for future in futures:
        if not future.done():
            future.set_result(None)

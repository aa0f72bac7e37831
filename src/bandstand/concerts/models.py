"""Concerts's tables (plus the platform outbox and processed messages)."""

from __future__ import annotations

from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages


class ConcertsBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


attach_outbox(ConcertsBase.metadata)
attach_processed_messages(ConcertsBase.metadata)

"""The created, updated and deleted events of one kind of row, with one payload convention.

`<source>.<kind>.created` carries the row's fields and the actor; `updated` adds the names of the
changed fields (and any details that are not columns); `deleted` carries what identifies the row
once it is gone. Every payload ends with `actor_id`, the user who made the change (None for the
system). `apply` is the common update: set the changed fields, flush, publish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.platform.messaging.outbox import publish_event
from bandstand.platform.rows import Stamped, apply_changes

RowT = TypeVar("RowT", bound=Stamped)
Fields = Callable[[RowT], dict[str, Any]]


@dataclass(frozen=True)
class ResourceEvents(Generic[RowT]):
    source: str
    kind: str
    fields: Fields[RowT]
    deleted_fields: Fields[RowT] | None = None
    """What a deletion says of the row; its `fields` when not given."""

    @property
    def created_type(self) -> str:
        return f"{self.source}.{self.kind}.created"

    @property
    def updated_type(self) -> str:
        return f"{self.source}.{self.kind}.updated"

    @property
    def deleted_type(self) -> str:
        return f"{self.source}.{self.kind}.deleted"

    async def created(self, session: AsyncSession, row: RowT, actor_id: int | None) -> RowT:
        payload = {**self.fields(row), "actor_id": actor_id}
        await publish_event(session, self.created_type, payload, source=self.source)
        return row

    async def updated(
        self,
        session: AsyncSession,
        row: RowT,
        changed: Sequence[str],
        actor_id: int | None,
        **details: Any,
    ) -> None:
        """`details` says what changed when it is not a column (a track added or removed)."""
        payload = {**self.fields(row), "changed": list(changed), **details, "actor_id": actor_id}
        await publish_event(session, self.updated_type, payload, source=self.source)

    async def apply(
        self,
        session: AsyncSession,
        row: RowT,
        changes: Mapping[str, Any],
        changed: Sequence[str],
        actor_id: int | None,
        *,
        columns: Iterable[str] | None = None,
    ) -> RowT:
        """Set `row`'s `columns` (by default every one `changed`) from `changes`, flush, and
        publish the update of every field `changed`."""
        apply_changes(row, changes, changed if columns is None else columns)
        await session.flush()
        await self.updated(session, row, changed, actor_id)
        return row

    async def deleted(self, session: AsyncSession, row: RowT, actor_id: int | None) -> None:
        """`row` as it was read: its loaded fields outlive the deletion's flush."""
        fields = (self.deleted_fields or self.fields)(row)
        payload = {**fields, "actor_id": actor_id}
        await publish_event(session, self.deleted_type, payload, source=self.source)

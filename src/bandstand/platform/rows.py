"""A service's rows: what every repository and every update use case do alike.

`Timestamps` declares a model's `created_at` and `updated_at` (its last two columns).
`RowWrites` is the base of a repository of one model: `add` and `delete` flush at once, so a
constraint the database refuses surfaces inside the use case (which may answer it) rather than
at commit. `counts_by_key` reads a grouped count for many keys in one query. `field_dicts` turns
a page of result rows into what a `JSONShape` validates fastest. `changed_fields`
and `apply_changes` are the two halves of a partial update: which sent values differ from the
row, then setting them with the row's `updated_at`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import DateTime, Select, inspect
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from bandstand.platform.clock import utcnow

Row = TypeVar("Row")


def _as_created(context: DefaultExecutionContext) -> Any:
    """A new row was last changed when it was created, to the microsecond."""
    parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return parameters["created_at"]


class Timestamps:
    """Mixin of a model whose rows say when they were created and last changed: both are set on
    insert, to the same instant, and `apply_changes` renews `updated_at`. Declared after the
    model's own columns."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_as_created)


class RowWrites(Generic[Row]):
    """Adding and deleting rows of one model (a subclass adds its queries)."""

    async def add(self, session: AsyncSession, row: Row) -> Row:
        session.add(row)
        await session.flush()
        return row

    async def delete(self, session: AsyncSession, row: Row) -> None:
        """Its dependent rows go as the schema says (ON DELETE CASCADE where declared)."""
        await session.delete(row)
        await session.flush()


async def counts_by_key(
    session: AsyncSession, statement: Select[int, int], keys: Collection[int]
) -> dict[int, int]:
    """Each of `keys` with its count from `statement` (`SELECT key, count(*) ... GROUP BY key`),
    0 for a key it has no row for; no query at all for no keys."""
    if not keys:
        return {}
    counts = {int(key): int(count) for key, count in await session.execute(statement)}
    return {key: counts.get(key, 0) for key in keys}


class Stamped(Protocol):
    updated_at: datetime


def field_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Result rows (of selected columns) as dicts of their fields. A model validated from the
    dicts costs less than one validated from the rows' attributes, which SQLAlchemy's `Row`
    looks up in Python, field by field."""
    return [dict(zip(row._fields, row, strict=True)) for row in rows]


def column_values(row: object) -> dict[str, Any]:
    """Each mapped column of `row` by attribute name, with its value (as loaded)."""
    model = type(row)
    keys = _COLUMN_KEYS.get(model)
    if keys is None:
        mapper: Mapper[Any] = inspect(model)
        keys = _COLUMN_KEYS[model] = tuple(column.key for column in mapper.column_attrs)
    return {key: getattr(row, key) for key in keys}


_COLUMN_KEYS: dict[type, tuple[str, ...]] = {}


def changed_fields(row: object, changes: Mapping[str, Any]) -> list[str]:
    """The names in `changes` whose value differs from `row`'s, in the order sent."""
    return [name for name, value in changes.items() if getattr(row, name) != value]


def apply_changes(row: Stamped, changes: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set `row`'s fields `names` to their values in `changes`, and its `updated_at` to now."""
    for name in names:
        setattr(row, name, changes[name])
    row.updated_at = utcnow()

"""How PostgreSQL plans a statement on a connection: for each execution's values, or once.

Connections plan every execution (`plan_cache_mode=force_custom_plan`, `platform.database` says
why: generic plans made while tables were small kept scans of tables grown large, and a search's
plan depends on how common its words are: planned once, a song search's `LIKE` took 4.1 ms
against 0.9). Planning a list page's statement costs the server about as much as running it,
though (a signed-in song page: about 0.16 ms planned, 0.15 ms run), and a page of a list without
filters, or of a search walked along the list's order, has nothing for a plan to follow
(`text_index.plans_alike`): the rows in the list's key order, tested or not, a limit and an
offset. Such a page is read under `force_generic_plan`, planned once per connection (`GENERIC`;
PostgreSQL plans it again when the table's statistics change); every other statement under
`force_custom_plan` (`CUSTOM`).

A connection's mode is set with `SET` when a statement wants the other one (outside a
transaction, where a rollback cannot undo it): a connection used for pages stays generic until a
statement of the engine's or another read wants it custom again. Statements run through the
engine are watched (`plan_custom_statements`); reads run on the driver set their mode themselves
(`use_mode`). Inside a transaction a page keeps the connection's mode, and a statement that
wants plans for its values gets them for the rest of the transaction (`SET LOCAL`).
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

CUSTOM: Final = "force_custom_plan"
GENERIC: Final = "force_generic_plan"

_MODES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""Each asyncpg connection's mode when it is not `CUSTOM`, the one it was opened with."""


async def use_mode(driver: Any, mode: str) -> None:
    """Set `mode` on the asyncpg connection `driver` for the statement about to run there."""
    current = _MODES.get(driver, CUSTOM)
    if current == mode:
        return
    if not driver.is_in_transaction():
        await driver.execute(f"SET plan_cache_mode = {mode}")
        if mode == CUSTOM:
            _MODES.pop(driver, None)
        else:
            _MODES[driver] = mode
    elif mode == CUSTOM:
        await driver.execute(f"SET LOCAL plan_cache_mode = {mode}")


def plan_custom_statements(engine: AsyncEngine) -> None:
    """Have the statements `engine` runs planned for their values on a connection that read
    pages planned once."""
    event.listen(engine.sync_engine, "before_cursor_execute", _custom_plans)


def _custom_plans(
    connection: Connection,
    cursor: Any,
    _statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    if cursor is None:  # a read announced by `platform.plain_reads`, which sets its own mode
        return
    driver = connection.connection.driver_connection
    if driver is None or driver not in _MODES:
        return
    try:
        await_only(use_mode(driver, CUSTOM))
    except Exception:  # the statement itself says what is wrong with the connection
        _MODES.pop(driver, None)

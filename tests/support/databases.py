"""A migrated, empty database per test at the price of one migration per service and session.

Creating a PostgreSQL database costs up to a second here and migrating one about a tenth, so
each (service, engine) pair is migrated once per session: the PostgreSQL database is emptied
before every test, the SQLite file is a template copied for every test.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bandstand.platform.database import Database
from bandstand.platform.migrations import upgrade
from tests.support.servers import PostgresServer


async def _migrate(url: str, service: str, migrations: Path) -> None:
    database = Database(url)
    try:
        await upgrade(database, service, migrations)
    finally:
        await database.dispose()


class MigratedDatabases:
    def __init__(self, template_dir: Path) -> None:
        self._template_dir = template_dir
        self._postgres: Callable[[], PostgresServer] | None = None
        self._sqlite_templates: dict[str, Path] = {}
        self._postgres_databases: dict[str, str] = {}

    def use_postgres(self, server: Callable[[], PostgresServer]) -> None:
        """Where the PostgreSQL server comes from (asked for only when needed)."""
        self._postgres = server

    async def sqlite(self, service: str, migrations: Path, directory: Path) -> str:
        """A fresh copy of the migrated SQLite database of `service` in `directory`."""
        template = self._sqlite_templates.get(service)
        if template is None:
            template = self._template_dir / f"{service}.sqlite3"
            await _migrate(f"sqlite+aiosqlite:///{template}", service, migrations)
            self._sqlite_templates[service] = template
        target = directory / f"{service}.sqlite3"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"

    async def postgres(self, service: str, migrations: Path, metadata: MetaData) -> str:
        """The session's migrated PostgreSQL database of `service`, emptied."""
        if self._postgres is None:
            raise RuntimeError("no PostgreSQL server was given")
        server = self._postgres()
        server.start()  # a no-op unless an earlier test stopped it
        name = self._postgres_databases.get(service)
        if name is None:
            name = f"{service}_tests_{uuid.uuid4().hex[:12]}"
            server.create_database(name)
            await _migrate(server.url(name), service, migrations)
            self._postgres_databases[service] = name
            return server.url(name)
        url = server.url(name)
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                # DELETE beats TRUNCATE on a few rows; ids keep counting, which no test minds.
                for table in reversed(metadata.sorted_tables):
                    await connection.execute(table.delete())
        finally:
            await engine.dispose()
        return url

    async def fresh(
        self, engine: str, service: str, migrations: Path, metadata: MetaData, directory: Path
    ) -> str:
        """An empty, migrated database of `service` on `engine` ("sqlite" or "postgres")."""
        if engine == "sqlite":
            return await self.sqlite(service, migrations, directory)
        return await self.postgres(service, migrations, metadata)

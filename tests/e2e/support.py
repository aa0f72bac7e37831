"""What end-to-end tests without an identity process need: its public keys served over HTTP, and
SQL against a service's PostgreSQL database from synchronous test code."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from tests.support.tokens import TokenFactory


@contextmanager
def served_jwks(tokens: TokenFactory) -> Iterator[str]:
    """The JWKS URL of `tokens`' key, served as identity serves it, while the block runs."""
    document = json.dumps(asyncio.run(tokens.jwks())).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


class Sql:
    """One connection to a database (given by its SQLAlchemy asyncpg URL), used synchronously."""

    def __init__(self, url: str) -> None:
        self._dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection | None = None

    def rows(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return self._loop.run_until_complete(self._fetch(query, *args))

    def value(self, query: str, *args: Any) -> Any:
        (row,) = self.rows(query, *args)
        return row[0]

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        if self._connection is None:
            self._connection = await asyncpg.connect(self._dsn)
        records: list[asyncpg.Record] = await self._connection.fetch(query, *args)
        return records

    def close(self) -> None:
        if self._connection is not None:
            self._loop.run_until_complete(self._connection.close())
        self._loop.close()

    def __enter__(self) -> Sql:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

"""The original instrument search, for comparison: a case-insensitive substring scan, no index.

The original backend (Django REST Framework) answered `name__icontains` and `category__iexact`
with a count and a page in id order, over the whole table: `LIKE '%word%'` on SQLite (which
ignores ASCII case), `UPPER(name) LIKE UPPER('%word%')` on PostgreSQL. This app runs exactly
those two statements on the benchmark's own marketplace database (every word of the query must
occur, so that it finds what the indexed search finds, minus the accents it cannot fold), with
the same expired-listing filter and the same page size, and returns the page as JSON.

`python bench/_original_search.py PORT DATABASE_URL`; `GET /search?name=...&category=...`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PAGE = 50
COLUMNS = "id, name, price, link, image, location, category, expiration, publish, website"


def create_app(url: str) -> FastAPI:
    engine = create_async_engine(url, pool_size=20, max_overflow=0)
    sqlite = url.startswith("sqlite")
    app = FastAPI()

    def where(words: list[str], category: str | None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"today": datetime.now(UTC).date()}
        terms = ["(expiration IS NULL OR expiration >= :today)"]
        for n, word in enumerate(words):
            params[f"w{n}"] = f"%{word}%"
            terms.append(f"name LIKE :w{n}" if sqlite else f"UPPER(name) LIKE UPPER(:w{n})")
        if category:
            params["category"] = category
            terms.append(
                "category LIKE :category" if sqlite else "UPPER(category) = UPPER(:category)"
            )
        return " AND ".join(terms), params

    @app.get("/search")
    async def search(name: str, category: str | None = None, page: int = 1) -> dict[str, Any]:
        condition, params = where(name.split(), category)
        async with engine.connect() as connection:
            count = (
                await connection.execute(
                    text(f"SELECT count(*) FROM instruments WHERE {condition}"),  # noqa: S608
                    params,
                )
            ).scalar_one()
            rows = await connection.execute(
                text(
                    f"SELECT {COLUMNS} FROM instruments WHERE {condition} "  # noqa: S608
                    f"ORDER BY id LIMIT {PAGE} OFFSET {(page - 1) * PAGE}"
                ),
                params,
            )
            results = [
                {**row._asdict(), "price": None if row.price is None else f"{row.price:.2f}"}
                for row in rows
            ]
        return {"count": count, "results": results}

    return app


if __name__ == "__main__":
    port, database_url = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        create_app(database_url),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )

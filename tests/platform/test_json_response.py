"""`JSONShape` writes a body byte for byte as FastAPI writes the same `response_model`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Response
from pydantic import BaseModel, Field

from bandstand.platform.json_response import JSONShape
from bandstand.platform.pagination import Page
from bandstand.platform.schemas import UTCDatetime


class Item(BaseModel):
    id: int
    name: str
    kind: str | None = Field(default=None, alias="type")
    day: date | None
    flag: bool | None = None
    at: UTCDatetime


ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": 'Corazón \u2028 "quoted" \\ \x01 / 🎸',
        "type": "a",
        "day": date(2026, 1, 2),
        "flag": 1,
        "at": datetime(2026, 12, 3, 19, 31, 18, 123456),
    },
    {"id": 2, "name": "", "day": None, "at": datetime(2026, 12, 3, 19, 31)},
]
BODY = {"count": 2, "next": "http://test/items?page=2&page_size=2", "previous": None}
PAGE = JSONShape(Page[Item])

app = FastAPI()


@app.get("/by-fastapi", response_model=Page[Item])
async def by_fastapi() -> dict[str, Any]:
    return {**BODY, "results": [dict(row) for row in ROWS]}


@app.get("/by-shape", response_model=Page[Item])
async def by_shape() -> Response:
    return PAGE.response({**BODY, "results": [dict(row) for row in ROWS]})


async def test_the_body_and_headers_are_fastapis() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        expected = await client.get("/by-fastapi")
        shaped = await client.get("/by-shape")
    assert shaped.status_code == expected.status_code == 200
    assert shaped.content == expected.content
    assert shaped.headers == expected.headers
    assert shaped.json()["results"][0]["at"] == "2026-12-03T19:31:18.123456Z"


def test_the_documented_schema_stays_the_response_model() -> None:
    schema = app.openapi()["paths"]
    assert schema["/by-shape"]["get"]["responses"] == schema["/by-fastapi"]["get"]["responses"]

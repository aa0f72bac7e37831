"""The SQL text of a row's JSON: literals joined, quotes escaped, read back as written."""

from __future__ import annotations

import json

from sqlalchemy import text as sql_text

from bandstand.platform.database import Database
from bandstand.platform.json_text import JsonField, SqlText, concat, pairs_pieces


def test_adjacent_texts_are_joined_into_one_literal_and_quotes_are_escaped() -> None:
    pieces = [SqlText("{"), SqlText('"name":'), "json_quote(c1)", SqlText(",'x':"), "c2"]
    assert concat(pieces) == """'{"name":' || json_quote(c1) || ',''x'':' || c2"""
    assert concat([SqlText("a"), SqlText("b")]) == "'ab'"
    assert concat(["c1"]) == "c1"


async def test_an_object_written_from_joined_literals_reads_back_its_fields() -> None:
    members = [
        (JsonField("id"), "1"),
        (JsonField("name"), "'it''s'"),
        (JsonField("on", "bool"), "1"),
    ]
    sql = concat([SqlText("{"), *pairs_pieces(members, "sqlite"), SqlText("}")])
    database = Database("sqlite+aiosqlite://")
    try:
        async with database.session() as session:
            written = (await session.execute(sql_text(f"SELECT {sql}"))).scalar_one()
    finally:
        await database.dispose()
    assert json.loads(written) == {"id": 1, "name": "it's", "on": True}

"""The admin's import over HTTP: a small CSV or JSON Lines file in the request body, imported in
the request's transaction with the rules of `bandstand import instruments`."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import Query, Request

from bandstand.marketplace.imports.importer import (
    ImportFormat,
    InstrumentImport,
    UnreadableFile,
    rows_of,
)
from bandstand.marketplace.schemas import ImportSummary
from bandstand.platform.errors import BadRequest, PayloadTooLarge
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.security import AdminUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["marketplace"])
MAX_IMPORT_BYTES = 1024 * 1024
"""A small batch: larger files go through the command line, which streams them."""
CONTENT_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.JSONL,
    "application/jsonl": ImportFormat.JSONL,
    "application/jsonlines": ImportFormat.JSONL,
    "application/x-jsonlines": ImportFormat.JSONL,
}


def _format(request: Request, given: ImportFormat | None) -> ImportFormat:
    if given is not None:
        return given
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    found = CONTENT_TYPES.get(content_type)
    if found is None:
        raise BadRequest(
            "format: say ?format=csv or ?format=jsonl, or send Content-Type text/csv or "
            "application/x-ndjson"
        )
    return found


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(
                f"An import over HTTP is at most {MAX_IMPORT_BYTES} bytes; "
                "import larger files with `bandstand import instruments FILE`"
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/instruments/import",
    response_model=ImportSummary,
    summary="Import listings from a small CSV or JSON Lines body (admin)",
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            }
        }
    },
)
async def import_instruments(
    request: Request,
    admin: AdminUser,
    session: DBSession,
    format: Annotated[
        ImportFormat | None, Query(description="csv or jsonl; else from Content-Type")
    ] = None,
) -> ImportSummary:
    fmt = _format(request, format)
    body = await _body(request)
    run = InstrumentImport(actor_id=admin.id)
    rows, _ = rows_of(io.BytesIO(body), fmt)
    try:
        for row in rows:
            if run.add(row):
                await run.flush(session)
    except UnreadableFile as exc:
        raise BadRequest(f"file: {exc}") from exc
    return await run.finish(session)

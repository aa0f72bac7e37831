"""Console: importing instrument listings from a CSV or JSON Lines file, with the API's verdict
on every rejected line. The file goes to the marketplace's import API as it is."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.admin.common import refusal
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter(prefix="/instruments/import")
MAX_BYTES = 1024 * 1024
"""The API's limit for an import over HTTP; larger files go through `bandstand import`."""
CONTENT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def _page(
    visit: Visit,
    *,
    summary: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    file_name: str = "",
    chosen: str = "",
    status_code: int = 200,
) -> Response:
    # htmx swaps only 2xx answers: a refusal is still this page, shown in the result region.
    if visit.request.headers.get("hx-request") == "true":
        status_code = 200
    return visit.page(
        "admin/import.html",
        status_code=status_code,
        summary=summary,
        errors=errors or {},
        file_name=file_name,
        chosen=chosen,
        max_bytes=MAX_BYTES,
    )


@router.get("")
async def import_page(visit: PageVisit) -> Response:
    visit.admin()
    return _page(visit)


@router.post("")
async def import_file(visit: PageVisit, request: Request) -> Response:
    visit.admin()
    form = await request.form()
    upload = form.get("file")
    chosen = str(form.get("format") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(visit, errors={"file": "Choose a CSV or JSON Lines file."}, status_code=400)
    name = upload.filename
    body = await upload.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        message = "The file is over 1 MB: import it with `bandstand import instruments FILE`."
        return _page(visit, errors={"file": message}, file_name=name, status_code=413)
    if not body.strip():
        return _page(visit, errors={"file": "The file is empty."}, file_name=name, status_code=400)
    fmt = chosen or next(
        (kind for suffix, kind in SUFFIXES.items() if name.lower().endswith(suffix)), ""
    )
    if fmt not in CONTENT_TYPES:
        return _page(
            visit,
            errors={"format": "Say whether the file is CSV or JSON Lines."},
            file_name=name,
            chosen=chosen,
            status_code=400,
        )
    answer = await visit.call(
        "POST",
        "/api/v1/instruments/import",
        query={"format": fmt},
        body=body,
        content_type=CONTENT_TYPES[fmt],
    )
    if not answer.ok:
        return _page(
            visit,
            errors={"file": refusal(answer)},
            file_name=name,
            chosen=chosen,
            status_code=answer.status,
        )
    return _page(visit, summary=answer.body, file_name=name, chosen=chosen)

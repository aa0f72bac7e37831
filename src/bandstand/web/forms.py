"""Reading the forms the pages post."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

CSRF_FIELD = "csrftoken"


async def form_values(request: Request) -> dict[str, str]:
    """The posted text fields, trimmed, without the CSRF token (files are left out)."""
    form = await request.form()
    return {
        key: value.strip()
        for key, value in form.items()
        if key != CSRF_FIELD and not isinstance(value, UploadFile)
    }


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target from a form or query: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target

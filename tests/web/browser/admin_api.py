"""Data a journey needs, made through the API with the administrator's token (as an operator
or an import would), so that the journeys do not depend on what the demo holds."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.browser.conftest import Site


def admin_api(site: Site) -> httpx.Client:
    token = site.api_token(*site.users["admin"])
    return httpx.Client(
        base_url=site.base, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def create(site: Site, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with admin_api(site) as api:
        answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created

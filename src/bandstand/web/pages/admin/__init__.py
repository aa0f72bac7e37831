"""The operator console under `/admin/` (administrators only: every page starts with
`visit.admin()`; the services check the caller's role again on every call)."""

from __future__ import annotations

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.admin import (
    audit,
    catalogue,
    dashboard,
    extras,
    imports,
    lessons,
    operations,
    settings,
    users,
)

router = ServiceRouter(prefix="/admin", include_in_schema=False)
# `/admin` itself (and `/admin/`, the trailing slash being stripped): a route of this router,
# since an included router's empty path under an empty prefix is refused.
router.add_api_route("", dashboard.dashboard, methods=["GET"])
# The import page before the catalogue's, whose `/instruments/{id}` would take its path.
for _part in (
    users.router,
    imports.router,
    lessons.router,
    extras.router,
    catalogue.router,
    operations.router,
    audit.router,
    settings.router,
):
    router.include_router(_part)

"""Pages: the home page (upcoming concerts, popular songs and courses, one search box)."""

from __future__ import annotations

import asyncio

from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.pages.present import HELPERS
from bandstand.web.visit import PageVisit

router = ServiceRouter(include_in_schema=False)
HOME_ROWS = 6


@router.get("/")
async def home(visit: PageVisit) -> Response:
    # The same for every visitor: asked anonymously, so the services' response caches answer.
    concerts, songs, courses = await asyncio.gather(
        visit.call(
            "GET",
            "/api/v1/concerts",
            query={"upcoming": True, "page_size": HOME_ROWS},
            anonymous=True,
        ),
        visit.call(
            "GET",
            "/api/v1/songs",
            query={"ordering": "-likes", "page_size": HOME_ROWS},
            anonymous=True,
        ),
        visit.call(
            "GET", "/api/v1/courses/popular", query={"page_size": HOME_ROWS}, anonymous=True
        ),
    )
    return visit.page(
        "home.html",
        concerts=concerts.body["results"] if concerts.ok else None,
        songs=songs.body["results"] if songs.ok else None,
        courses=courses.body["results"] if courses.ok else None,
        **HELPERS,
    )

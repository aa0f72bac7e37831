"""Academy's application: its routers and event subscription on the platform kernel."""

from __future__ import annotations

from fastapi import FastAPI

from bandstand.academy import endpoints, events
from bandstand.academy.popular import POPULAR_CACHE_SECONDS, PopularCourses
from bandstand.platform.app import create_service_app
from bandstand.platform.runtime import Runtime

NAME = "academy"
# The public course list: its anonymous GETs may be answered from the platform's short-lived cache.
PUBLIC_LISTS = ("/api/v1/courses",)


def create_app(
    runtime: Runtime, *, popular_cache_seconds: float = POPULAR_CACHE_SECONDS
) -> FastAPI:
    """`popular_cache_seconds`: how long the popular-courses ranking is kept (0: not cached)."""
    popular = PopularCourses(runtime.cache, ttl=popular_cache_seconds)
    app = create_service_app(
        NAME,
        [endpoints.router],
        runtime,
        description="Courses, lessons, enrolments, each learner's progress and the analytics.",
        subscriptions=[events.subscription(popular)],
        public_paths=PUBLIC_LISTS,
    )
    app.state.popular_courses = popular
    return app

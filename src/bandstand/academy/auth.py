"""Academy's typed dependencies: the callers by role, and the popular-courses cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bandstand.academy.popular import PopularCourses
from bandstand.platform.security import AdminUser, CurrentUser, InstructorUser, OptionalUser

__all__ = ["AdminUser", "CurrentUser", "InstructorUser", "OptionalUser", "Popular"]


async def _popular(request: Request) -> PopularCourses:
    popular: PopularCourses = request.app.state.popular_courses
    return popular


Popular = Annotated[PopularCourses, Depends(_popular)]

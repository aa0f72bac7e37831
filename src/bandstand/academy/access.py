"""Who may see and change a course: one rule for every route of the service."""

from __future__ import annotations

from bandstand.academy.models import Course
from bandstand.platform.security import Principal


def can_manage(course: Course, principal: Principal | None) -> bool:
    """Whether `principal` may change `course`: an admin, or the instructor who teaches it."""
    if principal is None:
        return False
    if principal.is_admin:
        return True
    return principal.role == "instructor" and course.instructor_id == principal.id


def can_see(course: Course, viewer: Principal | None) -> bool:
    """Whether `viewer` may know `course` exists: it is active, or they may change it."""
    return course.is_active or can_manage(course, viewer)

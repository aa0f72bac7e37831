"""What the academy's learner and teaching pages share: levels, the API's lists read whole,
progress as the pages show it, and the form fields turned into the API's types."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bandstand.web.visit import PageError, Visit

DIFFICULTIES: dict[str, str] = {
    "BEGINNER": "Beginner",
    "INTERMEDIATE": "Intermediate",
    "ADVANCED": "Advanced",
}
LIST_PAGE = 100
"""The API's largest page."""
MAX_PAGES_READ = 20
"""A list read whole stops after this many pages (2,000 rows): a page stays quick."""


@dataclass(frozen=True)
class Progress:
    """A learner's progress in one course, as the progress bar shows it."""

    value: str
    """The exact percentage, for `<progress value>`."""
    percent: int
    """Rounded down, for the text: never says 100 % before it is."""
    done: int
    total: int
    completed: bool
    lesson_ids: frozenset[int]
    """The published lessons done."""

    @classmethod
    def of(cls, item: dict[str, Any]) -> Progress:
        exact = float(item["progress_percentage"])
        return cls(
            value=f"{exact:g}",
            percent=math.floor(exact),
            done=int(item["completed_lessons"]),
            total=int(item["total_lessons"]),
            completed=bool(item["is_completed"]),
            lesson_ids=frozenset(int(lesson) for lesson in item["completed_lesson_ids"]),
        )


async def read_all(visit: Visit, path: str, query: dict[str, Any] | None = None) -> list[Any]:
    """Every row of one of the API's paged lists (up to `MAX_PAGES_READ` pages)."""
    rows: list[Any] = []
    for number in range(1, MAX_PAGES_READ + 1):
        body = await visit.get(path, {**(query or {}), "page": number, "page_size": LIST_PAGE})
        rows.extend(body["results"])
        if not body.get("next"):
            break
    return rows


async def lessons_of(visit: Visit, course_id: int, *, drafts: bool = False) -> list[Any]:
    lessons = await read_all(
        visit, f"/api/v1/courses/{course_id}/lessons", {"include_drafts": drafts or None}
    )
    return sorted(lessons, key=lambda lesson: lesson["order"])


def can_manage(course: dict[str, Any], visit: Visit) -> bool:
    """The API's own rule (its instructor, or an admin), to offer the teaching links."""
    user = visit.user
    if user is None:
        return False
    return user.is_admin or (user.role == "instructor" and course["instructor_id"] == user.user_id)


def whole_numbers(
    values: dict[str, str], names: tuple[str, ...], errors: dict[str, str]
) -> dict[str, int]:
    """The named fields as integers (an empty one left out); a field that is not a whole
    number gets its message in `errors`."""
    numbers: dict[str, int] = {}
    for name in names:
        text = values.get(name, "")
        if text == "":
            continue
        try:
            numbers[name] = int(text)
        except ValueError:
            errors[name] = "Enter a whole number."
    return numbers


def not_found(what: str) -> PageError:
    return PageError(404, "Not found", f"There is no such {what}.")

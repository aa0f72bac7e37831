"""Academy's API under /api/v1: the learning platform's routes (contract D) and their canonical
REST companions.

These routes are the learning platform's own: their errors carry `error` beside `detail`, and a
missing or invalid field answers 400 (as identity's routes of the same platform do).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response, status
from fastapi.responses import JSONResponse

from bandstand.academy.access import can_manage
from bandstand.academy.analytics import analytics_service
from bandstand.academy.popular import POPULAR_LIMIT, Popular
from bandstand.academy.progress import progress_service
from bandstand.academy.schemas import (
    CompletionResponse,
    CourseAnalytics,
    CourseCreate,
    CourseRead,
    CourseUpdate,
    Difficulty,
    EnrollResponse,
    LessonCreate,
    LessonRead,
    LessonUpdate,
    MyAnalytics,
    ProgressResponse,
    SearchText,
)
from bandstand.academy.service import course_service
from bandstand.platform.errors import Forbidden, legacy_errors
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, build_page, page_shape, paginate
from bandstand.platform.security import CurrentUser, InstructorUser, OptionalUser
from bandstand.platform.transactions import DBSession, get_session

router = ServiceRouter(prefix="/api/v1", tags=["academy"])
COURSE_PAGE = page_shape(CourseRead)
learning_platform = legacy_errors("error", validation_status=400)


# Courses


@router.get("/courses", response_model=Page[CourseRead], summary="Active courses")
@learning_platform
async def list_courses(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    difficulty: Annotated[Difficulty | None, Query(description="Exact level")] = None,
    search: Annotated[
        SearchText | None,
        Query(description="In the title or description, case and accents ignored"),
    ] = None,
) -> Response:
    page = await course_service.page(
        session, pagination, request, difficulty=difficulty, search=search
    )
    return COURSE_PAGE.response(page)


async def _create_course(
    data: CourseCreate,
    instructor: InstructorUser,
    session: DBSession,
    response: Response,
    popular: Popular,
) -> CourseRead:
    course = await course_service.create(session, data, instructor, popular)
    response.headers["Location"] = f"/api/v1/courses/{course.id}"
    return await course_service.view(session, course)


create_course = router.post(
    "/courses",
    status_code=status.HTTP_201_CREATED,
    response_model=CourseRead,
    summary="Create a course taught by the caller (instructor or admin)",
)(learning_platform(_create_course))
create_course_legacy = router.post(
    "/courses/create",
    status_code=status.HTTP_201_CREATED,
    response_model=CourseRead,
    summary="Create a course (the learning platform's route)",
)(learning_platform(_create_course))


@router.get(
    "/courses/popular",
    response_model=Page[CourseRead],
    summary=f"Active courses by enrolments (the first {POPULAR_LIMIT})",
)
@learning_platform
async def popular_courses(request: Request, pagination: Pagination, popular: Popular) -> Response:
    # The cached ranking needs no database session, and was validated when it was built.
    ranking = await popular.read()
    if ranking is None:
        ranking = await course_service.popular(await get_session(request), popular)
    start = pagination.offset
    page = build_page(
        request, pagination, len(ranking), ranking[start : start + pagination.page_size]
    )
    return JSONResponse(page)


@router.get("/courses/{course_id}", response_model=CourseRead, summary="One course")
@learning_platform
async def get_course(course_id: int, session: DBSession, viewer: OptionalUser) -> CourseRead:
    course = await course_service.get_visible(session, course_id, viewer)
    return await course_service.view(session, course)


@router.patch(
    "/courses/{course_id}",
    response_model=CourseRead,
    summary="Change a course (its instructor or an admin)",
)
@learning_platform
async def update_course(
    course_id: int,
    data: CourseUpdate,
    caller: InstructorUser,
    session: DBSession,
    popular: Popular,
) -> CourseRead:
    course = await course_service.get_managed(session, course_id, caller)
    course = await course_service.update(session, course, data, caller, popular)
    return await course_service.view(session, course)


@router.delete(
    "/courses/{course_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a course with its lessons and enrolments (its instructor or an admin)",
)
@learning_platform
async def delete_course(
    course_id: int, caller: InstructorUser, session: DBSession, popular: Popular
) -> Response:
    course = await course_service.get_managed(session, course_id, caller, lock=True)
    await course_service.delete(session, course, caller, popular)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/courses/{course_id}/analytics",
    response_model=CourseAnalytics,
    summary="A course's figures (its instructor or an admin)",
)
@learning_platform
async def course_analytics(
    course_id: int,
    caller: InstructorUser,
    session: DBSession,
    days: Annotated[int, Query(ge=1, le=365, description="Days of enrolments to count")] = 30,
) -> CourseAnalytics:
    course = await course_service.get_managed(session, course_id, caller)
    return await analytics_service.course(session, course, days)


# Lessons


@router.get(
    "/courses/{course_id}/lessons",
    response_model=Page[LessonRead],
    summary="A course's published lessons in order",
)
@learning_platform
async def list_lessons(
    course_id: int,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    viewer: OptionalUser,
    include_drafts: Annotated[
        bool, Query(description="Unpublished lessons too (the instructor or an admin)")
    ] = False,
) -> dict[str, Any]:
    course = await course_service.get_visible(session, course_id, viewer)
    if include_drafts and not can_manage(course, viewer):
        raise Forbidden("Only the course's instructor or an admin sees unpublished lessons")
    statement = course_service.lessons_of(course, published_only=not include_drafts)
    return await paginate(
        session, statement, pagination, request, transform=LessonRead.model_validate
    )


@router.post(
    "/courses/{course_id}/lessons",
    status_code=status.HTTP_201_CREATED,
    response_model=LessonRead,
    summary="Add a lesson (the course's instructor or an admin)",
)
@learning_platform
async def create_lesson(
    course_id: int,
    data: LessonCreate,
    caller: InstructorUser,
    session: DBSession,
    response: Response,
    popular: Popular,
) -> LessonRead:
    course = await course_service.get_managed(session, course_id, caller, lock=True)
    lesson = await course_service.create_lesson(session, course, data, caller, popular)
    response.headers["Location"] = f"/api/v1/courses/{course.id}/lessons/{lesson.id}"
    return LessonRead.model_validate(lesson)


@router.get(
    "/courses/{course_id}/lessons/{lesson_id}", response_model=LessonRead, summary="One lesson"
)
@learning_platform
async def get_lesson(
    course_id: int, lesson_id: int, session: DBSession, viewer: OptionalUser
) -> LessonRead:
    course = await course_service.get_visible(session, course_id, viewer)
    return LessonRead.model_validate(
        await course_service.get_lesson(session, course, lesson_id, viewer)
    )


@router.patch(
    "/courses/{course_id}/lessons/{lesson_id}",
    response_model=LessonRead,
    summary="Change or publish a lesson (the course's instructor or an admin)",
)
@learning_platform
async def update_lesson(
    course_id: int,
    lesson_id: int,
    data: LessonUpdate,
    caller: InstructorUser,
    session: DBSession,
    popular: Popular,
) -> LessonRead:
    course = await course_service.get_managed(session, course_id, caller, lock=True)
    lesson = await course_service.get_lesson(session, course, lesson_id, caller)
    lesson = await course_service.update_lesson(session, course, lesson, data, caller, popular)
    return LessonRead.model_validate(lesson)


@router.delete(
    "/courses/{course_id}/lessons/{lesson_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a lesson (the course's instructor or an admin)",
)
@learning_platform
async def delete_lesson(
    course_id: int, lesson_id: int, caller: InstructorUser, session: DBSession, popular: Popular
) -> Response:
    course = await course_service.get_managed(session, course_id, caller, lock=True)
    lesson = await course_service.get_lesson(session, course, lesson_id, caller)
    await course_service.delete_lesson(session, course, lesson, caller, popular)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/courses/{course_id}/lessons/{lesson_id}/completion",
    response_model=CompletionResponse,
    summary="Mark a published lesson done (the caller must be enrolled)",
)
@learning_platform
async def complete_lesson(
    course_id: int, lesson_id: int, user: CurrentUser, session: DBSession
) -> CompletionResponse:
    return await progress_service.complete_lesson(session, course_id, lesson_id, user)


# Enrolment, progress and the caller's analytics


@router.post(
    "/enroll/{course_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=EnrollResponse,
    summary="Enrol the caller in an active course",
)
@learning_platform
async def enroll(
    course_id: int, user: CurrentUser, session: DBSession, response: Response, popular: Popular
) -> EnrollResponse:
    enrollment = await progress_service.enroll(session, course_id, user, popular)
    response.headers["Location"] = f"/api/v1/progress/{course_id}"
    return EnrollResponse(enrollment=enrollment)


@router.delete(
    "/enroll/{course_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw the caller's enrolment (and their progress in the course)",
)
@learning_platform
async def unenroll(
    course_id: int, user: CurrentUser, session: DBSession, popular: Popular
) -> Response:
    await progress_service.unenroll(session, course_id, user, popular)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/progress", response_model=ProgressResponse, summary="The caller's own enrolments' progress"
)
@learning_platform
async def my_progress(user: CurrentUser, session: DBSession) -> ProgressResponse:
    return ProgressResponse(progress=await progress_service.progress(session, user.id))


@router.get(
    "/progress/{course_id}",
    response_model=ProgressResponse,
    summary="The caller's own progress in one course",
)
@learning_platform
async def my_course_progress(
    course_id: int, user: CurrentUser, session: DBSession
) -> ProgressResponse:
    return ProgressResponse(progress=await progress_service.progress(session, user.id, course_id))


@router.get("/analytics", response_model=MyAnalytics, summary="The caller's own figures")
@learning_platform
async def my_analytics(user: CurrentUser, session: DBSession) -> MyAnalytics:
    return await analytics_service.mine(session, user.id)

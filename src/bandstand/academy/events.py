"""Events the academy publishes (through the outbox, in the business transaction), and the
handlers of identity's events it consumes."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy.models import Course, Enrollment, Lesson
from bandstand.academy.popular import PopularCourses
from bandstand.academy.repository import EnrollmentRepository, MemberRepository
from bandstand.platform.messaging import Message, ResourceEvents, Subscription, publish_event
from bandstand.platform.schemas import iso_utc

logger = logging.getLogger(__name__)

SOURCE = "academy"
ENROLLMENT_CREATED = "academy.enrollment.created"
ENROLLMENT_DELETED = "academy.enrollment.deleted"
ENROLLMENT_COMPLETED = "academy.enrollment.completed"
LESSON_COMPLETED = "academy.lesson.completed"

IDENTITY_QUEUE = "academy.identity-events"
USER_REGISTERED = "identity.user.registered"
USER_UPDATED = "identity.user.updated"
USER_LOGGED_IN = "identity.user.logged_in"
USER_DELETED = "identity.user.deleted"


async def _publish(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> None:
    await publish_event(session, event_type, payload, source=SOURCE)


COURSES = ResourceEvents[Course](
    SOURCE,
    "course",
    lambda course: {
        "course_id": course.id,
        "title": course.title,
        "instructor_id": course.instructor_id,
    },
)
LESSONS = ResourceEvents[Lesson](
    SOURCE, "lesson", lambda lesson: {"course_id": lesson.course_id, "lesson_id": lesson.id}
)


async def enrollment_created(
    session: AsyncSession, enrollment_id: int, course_id: int, user_id: int
) -> None:
    payload = {
        "enrollment_id": enrollment_id,
        "course_id": course_id,
        "user_id": user_id,
        "actor_id": user_id,
    }
    await _publish(session, ENROLLMENT_CREATED, payload)


async def enrollment_deleted(session: AsyncSession, course_id: int, user_id: int) -> None:
    payload = {"course_id": course_id, "user_id": user_id, "actor_id": user_id}
    await _publish(session, ENROLLMENT_DELETED, payload)


async def enrollment_completed(
    session: AsyncSession, enrollment_id: int, course_id: int, user_id: int, when: datetime
) -> None:
    payload = {
        "enrollment_id": enrollment_id,
        "course_id": course_id,
        "user_id": user_id,
        "completed_at": iso_utc(when),
    }
    await _publish(session, ENROLLMENT_COMPLETED, payload)


async def enrollment_completed_of(session: AsyncSession, enrollment: Enrollment) -> None:
    assert enrollment.completed_at is not None
    await enrollment_completed(
        session, enrollment.id, enrollment.course_id, enrollment.user_id, enrollment.completed_at
    )


async def lesson_completed(
    session: AsyncSession, course_id: int, lesson_id: int, user_id: int
) -> None:
    payload = {"course_id": course_id, "lesson_id": lesson_id, "user_id": user_id}
    await _publish(session, LESSON_COMPLETED, payload)


def _user_id(message: Message) -> int:
    user_id = message.payload.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        # Raising sends the message to be retried and then dead-lettered, where it can be seen.
        raise ValueError(f"{message.type} {message.id} has no integer user_id")
    return user_id


def subscription(popular: PopularCourses) -> Subscription:
    """Academy's queue of identity's events: names to show for instructors, and erasure."""
    enrollments = EnrollmentRepository()
    members = MemberRepository()

    async def on_user_named(session: AsyncSession, message: Message) -> None:
        """Keep the user's display name (registration, a change, or any login)."""
        user_id = _user_id(message)
        username = message.payload.get("username")
        if not isinstance(username, str) or not username.strip():
            logger.info("%s %s carries no username; ignored", message.type, message.id)
            return
        if await members.remember(session, user_id, username.strip()[:150], message.occurred_at):
            popular.invalidate(session)

    async def on_user_deleted(session: AsyncSession, message: Message) -> None:
        """Erase the deleted user's enrolments, completions and name (once per message)."""
        user_id = _user_id(message)
        erased, completions = await enrollments.remove_user(session, user_id)
        await members.forget(session, user_id)
        popular.invalidate(session)
        logger.info(
            "erased %d enrolments and %d lesson completions of deleted user %d",
            erased,
            completions,
            user_id,
        )

    handlers = {
        USER_REGISTERED: on_user_named,
        USER_UPDATED: on_user_named,
        USER_LOGGED_IN: on_user_named,
        USER_DELETED: on_user_deleted,
    }
    return Subscription(IDENTITY_QUEUE, handlers)

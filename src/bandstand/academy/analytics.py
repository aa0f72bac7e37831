"""Analytics: a learner's own figures, and an instructor's figures of a course they teach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bandstand.academy.models import Course
from bandstand.academy.progress import percentage, progress_service
from bandstand.academy.repository import (
    CompletionRepository,
    EnrollmentRepository,
    LessonRepository,
)
from bandstand.academy.schemas import (
    Activity,
    CourseAnalytics,
    DayCount,
    LessonFunnel,
    MyAnalytics,
)
from bandstand.platform.clock import utcnow
from bandstand.platform.schemas import as_utc

RECENT_ACTIVITY = 10


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


class AnalyticsService:
    def __init__(self) -> None:
        self.enrollments = EnrollmentRepository()
        self.completions = CompletionRepository()
        self.lessons = LessonRepository()

    async def mine(self, session: AsyncSession, user_id: int) -> MyAnalytics:
        """The caller's enrolments, completions and latest activity (newest first)."""
        progress = await progress_service.progress(session, user_id)
        completed = sum(1 for item in progress if item.is_completed)
        activity = [
            Activity(
                type="enrolled",
                course_id=item.course.id,
                course_title=item.course.title,
                at=item.enrolled_at,
            )
            for item in progress
        ]
        activity += [
            Activity(
                type="course_completed",
                course_id=item.course.id,
                course_title=item.course.title,
                at=item.completed_at,
            )
            for item in progress
            if item.completed_at is not None
        ]
        for completion, title in await self.completions.recent_of_user(
            session, user_id, RECENT_ACTIVITY
        ):
            activity.append(
                Activity(
                    type="lesson_completed",
                    course_id=completion.course_id,
                    course_title=title,
                    lesson_id=completion.lesson_id,
                    at=completion.completed_at,
                )
            )
        activity.sort(key=lambda entry: as_utc(entry.at), reverse=True)
        return MyAnalytics(
            total_enrollments=len(progress),
            completed_courses=completed,
            completion_rate=percentage(completed, len(progress)),
            average_progress=_mean([item.progress_percentage for item in progress]),
            recent_activity=activity[:RECENT_ACTIVITY],
            timestamp=utcnow(),
        )

    async def course(self, session: AsyncSession, course: Course, days: int) -> CourseAnalytics:
        """Enrolments per day over the last `days` UTC days (today included), completion, the
        mean progress, and how many learners reach each published lesson."""
        now = utcnow()
        total, completed = await self.enrollments.course_figures(session, course.id)
        published = await self.lessons.published(session, course.id)
        done = await self.enrollments.done_per_learner(session, course.id)
        first_day = now.date() - timedelta(days=days - 1)
        since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
        per_day = await self.enrollments.per_day(session, course.id, since)
        over_time = [
            DayCount(date=day, count=per_day.get(day.isoformat(), 0))
            for day in (first_day + timedelta(days=offset) for offset in range(days))
        ]
        reached = await self.completions.per_lesson(
            session, course.id, [lesson.id for lesson in published]
        )
        funnel: list[LessonFunnel] = []
        previous = 100.0 if total else 0.0
        for lesson in published:
            rate = percentage(reached[lesson.id], total)
            funnel.append(
                LessonFunnel(
                    lesson_id=lesson.id,
                    title=lesson.title,
                    order=lesson.order,
                    completions=reached[lesson.id],
                    completion_rate=rate,
                    drop_off=round(previous - rate, 2),
                )
            )
            previous = rate
        return CourseAnalytics(
            course_id=course.id,
            title=course.title,
            total_enrollments=total,
            completed_enrollments=completed,
            completion_rate=percentage(completed, total),
            average_progress=_mean([percentage(n, len(published)) for n in done]),
            enrollments_over_time=over_time,
            lessons=funnel,
            timestamp=now,
        )


analytics_service = AnalyticsService()

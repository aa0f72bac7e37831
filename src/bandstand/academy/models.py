"""Academy's tables: courses, lessons, enrolments, lesson completions, and the display names of
the users it has heard of (plus the platform outbox and processed messages)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from bandstand.platform.clock import utcnow
from bandstand.platform.database import ServiceBase, new_metadata
from bandstand.platform.messaging import attach_outbox, attach_processed_messages
from bandstand.platform.rows import Timestamps
from bandstand.platform.text_index import trigram_index
from bandstand.platform.text_search import normalize

DIFFICULTY_LEVELS = ("BEGINNER", "INTERMEDIATE", "ADVANCED")
MAX_ID = 2**31 - 1
"""The largest id an INTEGER column holds: a larger one names nothing."""


class AcademyBase(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Course(AcademyBase, Timestamps):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint(
            "difficulty_level IN ('BEGINNER', 'INTERMEDIATE', 'ADVANCED')",
            name="difficulty_level_allowed",
        ),
        CheckConstraint("duration_hours >= 0", name="duration_hours_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_courses_is_active_id", "is_active", "id"),
        Index("ix_courses_instructor_id", "instructor_id"),
        # Search by substring: trigrams on both engines (`platform.text_index`).
        trigram_index("ix_courses_search_text_trgm", "search_text"),
        # Ids are never reused on SQLite either (PostgreSQL's sequences only move forward).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    instructor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The identity user who teaches it (no foreign key across services); null for the
    academy's own courses (the demo catalogue), which only an admin edits."""
    difficulty_level: Mapped[str] = mapped_column(String(12), default="BEGINNER")
    duration_hours: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    """What a search looks in (`course_search_text`), renewed with the title and description."""

    @validates("title", "description")
    def _renew_search_text(self, key: str, value: str | None) -> str | None:
        parts = {"title": self.title, "description": self.description, key: value}
        self.search_text = course_search_text(parts["title"], parts["description"])
        return value


def course_search_text(title: str | None, description: str | None) -> str:
    """The title and the description in the platform's normal form, one line each: a searched
    phrase (a normal form, so without line breaks) is found in one or the other, never across."""
    return f"{normalize(title or '')}\n{normalize(description or '')}"


class Lesson(AcademyBase, Timestamps):
    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "order", name="uq_lessons_course_id_order"),
        CheckConstraint('"order" >= 1', name="order_positive"),
        CheckConstraint("duration_minutes >= 0", name="duration_minutes_not_negative"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    order: Mapped[int] = mapped_column(Integer)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)


class Enrollment(AcademyBase):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", name="uq_enrollments_user_id_course_id"),
        Index("ix_enrollments_course_id_enrolled_at", "course_id", "enrolled_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """Set while every published lesson of the course is done; cleared when a new one is
    published."""


class LessonCompletion(AcademyBase):
    """A lesson a user has done. Kept while the lesson is unpublished (it counts again when the
    lesson is published again); gone with the enrolment."""

    __tablename__ = "lesson_completions"
    __table_args__ = (
        Index("ix_lesson_completions_course_id_user_id", "course_id", "user_id"),
        Index("ix_lesson_completions_lesson_id", "lesson_id"),
    )

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Member(AcademyBase):
    """A user's display name, kept from identity's events (access tokens carry only the id and
    the role): it names a course's instructor."""

    __tablename__ = "members"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


attach_outbox(AcademyBase.metadata)
attach_processed_messages(AcademyBase.metadata)

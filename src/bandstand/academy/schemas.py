"""Academy's request and response bodies. No client field can set an id, an instructor, a
learner or a timestamp."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
)

from bandstand.platform.schemas import (
    MoneyText,
    PartialBody,
    StorableText,
    StrictBody,
    UTCDatetime,
)

Difficulty = Literal["BEGINNER", "INTERMEDIATE", "ADVANCED"]
MAX_DURATION_HOURS = 10_000
MAX_LESSON_MINUTES = 10_000
MAX_ORDER = 100_000


def _web_address(text: str) -> str:
    if text and not text.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// address, or empty")
    if any(character.isspace() for character in text):
        raise ValueError("must not contain spaces")
    return text


Title = Annotated[
    str,
    StorableText(strip_whitespace=True, min_length=1, max_length=200),
]
LongText = Annotated[str, StorableText(max_length=100_000)]
VideoUrl = Annotated[
    str,
    StorableText(strip_whitespace=True, max_length=500),
    AfterValidator(_web_address),
]
Hours = Annotated[int, Field(strict=True, ge=0, le=MAX_DURATION_HOURS)]
Minutes = Annotated[int, Field(strict=True, ge=0, le=MAX_LESSON_MINUTES)]
Order = Annotated[
    int, Field(strict=True, ge=1, le=MAX_ORDER, description="Position in the course, unique")
]
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=10, decimal_places=2, description='A decimal, e.g. "49.00"'),
]
SearchText = Annotated[str, StorableText(max_length=200)]


class CourseCreate(StrictBody):
    title: Title
    description: LongText = ""
    difficulty_level: Difficulty = "BEGINNER"
    duration_hours: Hours = 0
    price: Price = Decimal("0.00")
    is_active: StrictBool = True


class CourseUpdate(PartialBody):
    not_nullable = "*"

    title: Title | None = None
    description: LongText | None = None
    difficulty_level: Difficulty | None = None
    duration_hours: Hours | None = None
    price: Price | None = None
    is_active: StrictBool | None = None


class CourseRead(BaseModel):
    id: int
    title: str
    description: str
    instructor: str = Field(description="The instructor's display name")
    instructor_id: int | None = Field(description="Null for the academy's own courses")
    difficulty_level: Difficulty
    duration_hours: int
    price: MoneyText
    is_active: bool
    lesson_count: int = Field(description="Published lessons")
    enrollment_count: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class LessonCreate(StrictBody):
    title: Title
    content: LongText = ""
    video_url: VideoUrl = ""
    duration_minutes: Minutes = 0
    order: Order
    is_published: StrictBool = False


class LessonUpdate(PartialBody):
    not_nullable = "*"

    title: Title | None = None
    content: LongText | None = None
    video_url: VideoUrl | None = None
    duration_minutes: Minutes | None = None
    order: Order | None = None
    is_published: StrictBool | None = None


class LessonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    course: int = Field(validation_alias="course_id", description="The course's id")
    title: str
    content: str
    video_url: str
    duration_minutes: int
    order: int
    is_published: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime


class CourseSummary(BaseModel):
    id: int
    title: str
    instructor: str


class EnrollmentRead(BaseModel):
    id: int
    course: CourseSummary
    user: int = Field(description="The learner's id")
    enrolled_at: UTCDatetime
    completed_at: UTCDatetime | None
    is_completed: bool
    progress_percentage: float


class EnrollResponse(BaseModel):
    message: str = "Successfully enrolled in course"
    enrollment: EnrollmentRead


class ProgressItem(BaseModel):
    course: CourseSummary
    progress_percentage: float = Field(ge=0, le=100)
    is_completed: bool
    enrolled_at: UTCDatetime
    completed_at: UTCDatetime | None
    completed_lessons: int = Field(description="Published lessons done")
    total_lessons: int = Field(description="Published lessons")
    completed_lesson_ids: list[int] = Field(
        description="The ids of the course's published lessons the caller has done, ascending"
    )


class ProgressResponse(BaseModel):
    progress: list[ProgressItem]


class CompletionResponse(BaseModel):
    lesson_id: int
    completed_at: UTCDatetime
    progress: ProgressItem


class Activity(BaseModel):
    type: Literal["enrolled", "lesson_completed", "course_completed"]
    course_id: int
    course_title: str
    lesson_id: int | None = None
    at: UTCDatetime


class MyAnalytics(BaseModel):
    total_enrollments: int
    completed_courses: int
    completion_rate: float = Field(description="Percent of the enrolments completed")
    average_progress: float = Field(description="Mean progress percentage of the enrolments")
    recent_activity: list[Activity]
    timestamp: UTCDatetime


class DayCount(BaseModel):
    date: date
    count: int


class LessonFunnel(BaseModel):
    lesson_id: int
    title: str
    order: int
    completions: int
    completion_rate: float = Field(description="Percent of the enrolled learners who did it")
    drop_off: float = Field(
        description="Percentage points lost since the previous published lesson (the first: "
        "since enrolment); negative when learners skipped ahead"
    )


class CourseAnalytics(BaseModel):
    course_id: int
    title: str
    total_enrollments: int
    completed_enrollments: int
    completion_rate: float
    average_progress: float
    enrollments_over_time: list[DayCount] = Field(description="Per UTC day, oldest first")
    lessons: list[LessonFunnel] = Field(description="Published lessons in order")
    timestamp: UTCDatetime


class MessageResponse(BaseModel):
    message: str

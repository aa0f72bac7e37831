"""Every query the academy runs: the catalogue's and the learners'."""

from bandstand.academy.repository.catalogue import (
    CourseRepository,
    LessonRepository,
    MemberRepository,
)
from bandstand.academy.repository.common import valid_id
from bandstand.academy.repository.learners import CompletionRepository, EnrollmentRepository

__all__ = [
    "CompletionRepository",
    "CourseRepository",
    "EnrollmentRepository",
    "LessonRepository",
    "MemberRepository",
    "valid_id",
]

"""The academy: courses, lessons, enrolments, each learner's progress and the analytics."""

"""Property-based test of the progress arithmetic against a reference model: whatever sequence
of lesson publications, unpublications, deletions, completions, enrolments and withdrawals, every
learner's progress stays within 0..100, equals the share of published lessons done, and the
enrolment is completed exactly when every published lesson is done."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.academy.conftest import Academy

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LEARNERS = (21, 22)
SLOTS = 3  # lesson positions an example plays with

# (action, learner index, lesson slot)
steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "add_published",
                "add_draft",
                "publish",
                "unpublish",
                "delete",
                "complete",
                "complete",
                "complete",
                "enroll",
                "unenroll",
            ]
        ),
        st.integers(0, len(LEARNERS) - 1),
        st.integers(0, SLOTS - 1),
    ),
    min_size=1,
    max_size=10,
)


@dataclass
class Model:
    lessons: dict[int, tuple[int, bool]] = field(default_factory=dict)  # slot → (id, published)
    enrolled: set[int] = field(default_factory=set)
    done: dict[int, set[int]] = field(default_factory=dict)  # learner → lesson ids

    def published(self) -> set[int]:
        return {lesson for lesson, published in self.lessons.values() if published}

    def expected(self, learner: int) -> tuple[float, bool]:
        published = self.published()
        finished = len(self.done.get(learner, set()) & published)
        if not published:
            return 0.0, False
        return round(100 * finished / len(published), 2), finished == len(published)


async def _apply(academy: Academy, course: int, model: Model, step: tuple[str, int, int]) -> None:
    action, who, slot = step
    learner = LEARNERS[who]
    headers = academy.tokens.headers(user_id=learner)
    lessons_url = f"/api/v1/courses/{course}/lessons"
    lesson = model.lessons.get(slot)
    if action in ("add_published", "add_draft") and lesson is None:
        published = action == "add_published"
        response = await academy.client.post(
            lessons_url,
            json={"title": f"Slot {slot}", "order": slot + 1, "is_published": published},
            headers=academy.ivy,
        )
        assert response.status_code == 201, response.text
        model.lessons[slot] = (response.json()["id"], published)
    elif action in ("publish", "unpublish") and lesson is not None:
        published = action == "publish"
        response = await academy.client.patch(
            f"{lessons_url}/{lesson[0]}", json={"is_published": published}, headers=academy.ivy
        )
        assert response.status_code == 200, response.text
        model.lessons[slot] = (lesson[0], published)
    elif action == "delete" and lesson is not None:
        response = await academy.client.delete(f"{lessons_url}/{lesson[0]}", headers=academy.ivy)
        assert response.status_code == 204
        del model.lessons[slot]
        for finished in model.done.values():
            finished.discard(lesson[0])
    elif action == "complete" and lesson is not None:
        response = await academy.client.put(
            f"{lessons_url}/{lesson[0]}/completion", headers=headers
        )
        if learner not in model.enrolled:
            assert response.status_code == 403
        elif not lesson[1]:
            assert response.status_code == 404
        else:
            assert response.status_code == 200, response.text
            model.done.setdefault(learner, set()).add(lesson[0])
    elif action == "enroll":
        response = await academy.client.post(f"/api/v1/enroll/{course}", headers=headers)
        assert response.status_code == (400 if learner in model.enrolled else 201)
        model.enrolled.add(learner)
    elif action == "unenroll":
        response = await academy.client.delete(f"/api/v1/enroll/{course}", headers=headers)
        assert response.status_code == (204 if learner in model.enrolled else 404)
        model.enrolled.discard(learner)
        model.done.pop(learner, None)


@PROPERTY_SETTINGS
@given(plan=steps)
# Completed, then a new lesson is published (reopened), then it is unpublished (completed again).
@example(
    plan=[
        ("add_published", 0, 0),
        ("complete", 0, 0),
        ("add_published", 0, 1),
        ("add_draft", 0, 2),
        ("unpublish", 0, 1),
        ("publish", 0, 2),
        ("complete", 0, 2),
        ("delete", 0, 0),
    ]
)
async def test_progress_follows_the_published_lessons(
    academy: Academy, plan: list[tuple[str, int, int]]
) -> None:
    course = await academy.add_course()  # a fresh course per example: examples do not meet
    model = Model()
    for step in [("enroll", 0, 0), *plan]:
        await _apply(academy, course, model, step)
        for learner in LEARNERS:
            response = await academy.client.get(
                f"/api/v1/progress/{course}", headers=academy.tokens.headers(user_id=learner)
            )
            if learner not in model.enrolled:
                assert response.status_code == 404
                continue
            (item,) = response.json()["progress"]
            percentage, completed = model.expected(learner)
            assert 0 <= item["progress_percentage"] <= 100
            assert item["progress_percentage"] == percentage, (step, item)
            assert item["is_completed"] is completed, (step, item)
            assert (item["completed_at"] is not None) is completed
            assert item["total_lessons"] == len(model.published())
            done = model.done.get(learner, set()) & model.published()
            assert item["completed_lesson_ids"] == sorted(done), (step, item)

"""Journeys through the academy: a learner enrols and finishes a course; an instructor writes a
course, publishes a lesson and reads the course's analytics."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import Site
from tests.web.browser.looking import log_in, look, sign_up

PASSWORD = "Academy-Pass-1"


def test_the_catalogue_filters_by_level_and_searches_as_you_type(page: Page) -> None:
    page.goto("/courses")
    expect(page.get_by_role("heading", name="Courses", exact=True)).to_be_visible()
    cards = page.locator(".course-card")
    expect(cards.first).to_be_visible()
    look(page, "courses")

    page.get_by_label("Level").select_option("ADVANCED")
    expect(page).to_have_url(re.compile(r"difficulty=ADVANCED"))
    for level in cards.locator(".badge").all_inner_texts():
        assert level == "Advanced"

    page.get_by_label("Level").select_option("")
    page.get_by_label("Search").fill("zzzz-no-such-course")
    expect(page.get_by_text("No course matches")).to_be_visible()
    look(page, "courses no match")

    page.goto("/courses")
    page.locator(".course-card h3 a").first.click()
    expect(page.get_by_role("link", name="Log in to enrol")).to_be_visible()
    look(page, "course anonymous")


def test_enrol_mark_lessons_done_and_watch_the_progress_bar_reach_100(page: Page) -> None:
    sign_up(page, f"learner{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto("/courses")
    page.locator(".course-card h3 a").first.click()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    look(page, "course not enrolled")

    page.get_by_role("button", name="Enrol in this course").click()
    expect(page.get_by_role("status").first).to_contain_text("You are enrolled")
    bar = page.locator("#progress-bar")
    expect(bar).to_have_attribute("value", "0")
    look(page, "course enrolled")

    buttons = page.get_by_role("button", name=re.compile("^Mark as done"))
    total = buttons.count()
    assert total >= 2
    for done in range(1, total + 1):
        buttons.first.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".lesson-done")).to_have_count(done)
        expect(page.locator(".progress-text")).to_contain_text(f"{done} of {total} lessons done")
    # The focus stayed where the last button was.
    expect(page.locator(".lesson-done .badge").last).to_be_focused()
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator(".progress-percent")).to_have_text("100%")
    expect(page.get_by_text("Course completed")).to_be_visible()
    look(page, "course completed")

    # Nothing was lost: a fresh page says the same.
    page.reload()
    expect(page.locator("#progress-bar")).to_have_attribute("value", "100")
    expect(page.get_by_role("button", name=re.compile("^Mark as done"))).to_have_count(0)

    page.goto("/courses/mine")
    expect(page.get_by_role("progressbar").first).to_have_attribute("value", "100")
    expect(page.get_by_text("Completed", exact=True).first).to_be_visible()
    look(page, "my courses")


def test_leaving_a_course_drops_its_progress(page: Page) -> None:
    sign_up(page, f"leaver{uuid.uuid4().hex[:8]}", PASSWORD)
    page.goto("/courses")
    page.locator(".course-card h3 a").first.click()
    page.get_by_role("button", name="Enrol in this course").click()
    page.get_by_role("button", name=re.compile("^Mark as done")).first.click()
    expect(page.locator(".lesson-done")).to_have_count(1)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Leave the course").click()
    expect(page.get_by_role("status").first).to_contain_text("You have left the course")
    expect(page.get_by_role("button", name="Enrol in this course")).to_be_visible()
    page.goto("/courses/mine")
    expect(page.get_by_text("You are not enrolled in any course yet")).to_be_visible()
    look(page, "my courses empty")


def test_an_instructor_publishes_a_lesson_and_reads_the_analytics(page: Page, site: Site) -> None:
    username, password = site.users["instructor"]
    log_in(page, username, password)
    page.goto("/teaching")
    expect(page.get_by_role("heading", name="Teaching")).to_be_visible()
    look(page, "teaching")

    title = f"Ear Training {uuid.uuid4().hex[:6]}"
    page.get_by_role("link", name="New course").click()
    look(page, "new course")
    page.get_by_label("Duration (hours)").fill("-2")
    page.get_by_role("button", name="Create the course").click()
    expect(page.locator("#course-title-error")).to_be_visible()
    expect(page.locator("#duration_hours-error")).to_be_visible()
    _expected_refusal_logged(page)
    look(page, "new course refused")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Intervals, chords and melodies heard and named.")
    page.get_by_label("Level").select_option("INTERMEDIATE")
    page.get_by_label("Duration (hours)").fill("4")
    page.get_by_label("Price").fill("19.50")
    page.get_by_role("button", name="Create the course").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    course_url = page.url

    for order, lesson in enumerate(("Hearing intervals", "Major or minor?"), start=1):
        page.get_by_label("Lesson title").fill(lesson)
        page.get_by_label("Content").fill(f"{lesson}: listen, sing, then name it.")
        page.get_by_label("Position in the course").fill(str(order))
        page.get_by_label("Duration (minutes)").fill("15")
        page.get_by_role("button", name="Add the lesson").click()
        expect(page.get_by_role("status")).to_contain_text(f"“{lesson}” saved as a draft")
    expect(page.locator(".lesson-row .badge", has_text="Draft")).to_have_count(2)
    look(page, "course editor")

    page.get_by_role("button", name="Publish “Hearing intervals”").click()
    expect(page.get_by_role("status")).to_contain_text("“Hearing intervals” is published")
    expect(page.locator(".lesson-row .badge", has_text="Published")).to_have_count(1)

    page.get_by_role("link", name="Major or minor?").click()
    expect(page.get_by_role("heading", name="Edit the lesson")).to_be_visible()
    look(page, "lesson editor")
    page.get_by_label("Lesson title").fill("Major or minor, by ear")
    page.get_by_role("button", name="Save the lesson").click()
    expect(page.get_by_role("status")).to_contain_text("Lesson saved")
    expect(page.get_by_role("link", name="Major or minor, by ear")).to_be_visible()

    course_id = int(course_url.rstrip("/").rsplit("/", 1)[1])
    _a_learner_finishes_the_published_lesson(site, course_id)

    page.get_by_role("link", name="Analytics").first.click()
    expect(page.get_by_role("heading", name=f"Analytics: {title}")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Enrolments per day"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Learners who completed"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Drop-off at each lesson"))).to_be_visible()
    stats = page.locator(".stats")
    expect(stats).to_contain_text("Learners enrolled1")
    expect(stats).to_contain_text("Completion rate100")
    page.get_by_text("The figures as a table").nth(1).click()
    expect(page.get_by_role("cell", name="100%")).to_be_visible()
    look(page, "course analytics")

    page.get_by_label("Period").select_option("7")
    page.get_by_role("button", name="Show").click()
    week = page.get_by_role("img", name=re.compile("^Enrolments per day, last 7 days"))
    expect(week).to_be_visible()

    page.goto("/teaching")
    expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()
    look(page, "teaching with a course")


def test_a_learner_is_refused_the_teaching_pages(page: Page) -> None:
    sign_up(page, f"student{uuid.uuid4().hex[:8]}", PASSWORD)
    response = page.goto("/teaching")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def _a_learner_finishes_the_published_lesson(site: Site, course_id: int) -> None:
    username = f"pupil{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=site.base, timeout=10) as http:
        http.post(
            "/api/v1/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        ).raise_for_status()
        headers = {"Authorization": f"Bearer {site.api_token(username, PASSWORD)}"}
        http.post(f"/api/v1/enroll/{course_id}", headers=headers).raise_for_status()
        lessons = http.get(f"/api/v1/courses/{course_id}/lessons").json()["results"]
        assert len(lessons) == 1
        http.put(
            f"/api/v1/courses/{course_id}/lessons/{lessons[0]['id']}/completion",
            headers=headers,
        ).raise_for_status()


def _expected_refusal_logged(page: Page) -> None:
    """A refused form is answered 400 on purpose, which the browser logs as an error: that
    one is no fault of the page."""
    errors: list[str] = getattr(page, "console_errors", [])
    errors[:] = [error for error in errors if "status of 400 (Bad Request)" not in error]

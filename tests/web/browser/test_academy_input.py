"""What the academy's pages answer to bad input: a 4xx page that names the field, never a 500.
Plain HTTP requests (no browser) against the same running site."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.web.browser.conftest import Site

PASSWORD = "Academy-Pass-1"


class WebClient:
    """A visitor without a browser: cookies kept, the CSRF token sent with each form."""

    def __init__(self, site: Site) -> None:
        self.http = httpx.Client(base_url=site.base, timeout=10, follow_redirects=False)

    def token(self) -> str:
        if "csrftoken" not in self.http.cookies:
            self.http.get("/login")
        return str(self.http.cookies["csrftoken"])

    def post(self, path: str, **fields: str) -> httpx.Response:
        return self.http.post(path, data={"csrftoken": self.token(), **fields})

    def log_in(self, username: str, password: str) -> None:
        answer = self.post("/login", login=username, password=password)
        assert answer.status_code == 303, answer.text


@pytest.fixture
def instructor(site: Site) -> Iterator[WebClient]:
    client = WebClient(site)
    client.log_in(*site.users["instructor"])
    yield client
    client.http.close()


@pytest.fixture
def course_id(instructor: WebClient) -> int:
    answer = instructor.post(
        "/teaching/courses/new",
        title=f"Scales {uuid.uuid4().hex[:6]}",
        description="",
        difficulty_level="BEGINNER",
        duration_hours="2",
        price="0",
        is_active="on",
    )
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/teaching/courses/(\d+)", answer.headers["location"])
    assert match is not None
    return int(match.group(1))


def _error_beside(page: httpx.Response, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page.text)
    assert match is not None, f"no error beside {field_id}"
    return match.group(1)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("difficulty=EXPERT", "difficulty"),
        ("page=0", "page"),
        ("page=many", "page"),
        ("search=" + "x" * 201, "search"),
    ],
)
def test_a_bad_catalogue_query_names_its_field(site: Site, query: str, field: str) -> None:
    answer = httpx.get(f"{site.base}/courses?{query}", timeout=10)
    assert answer.status_code == 400
    assert f"These values are not valid: {field}." in answer.text


def test_a_course_address_that_is_no_number_or_no_course(site: Site) -> None:
    assert httpx.get(f"{site.base}/courses/nope", timeout=10).status_code == 400
    missing = httpx.get(f"{site.base}/courses/987654", timeout=10)
    assert missing.status_code == 404
    assert "Course not found" in missing.text


def test_the_analytics_period_is_checked(instructor: WebClient, course_id: int) -> None:
    answer = instructor.http.get(f"/teaching/courses/{course_id}/analytics?days=0")
    assert answer.status_code == 400
    assert "These values are not valid: days." in answer.text


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"title": ""}, "course-title"),
        ({"duration_hours": "two"}, "duration_hours"),
        ({"duration_hours": "-1"}, "duration_hours"),
        ({"price": "cheap"}, "price"),
        ({"difficulty_level": "GURU"}, "difficulty_level"),
    ],
)
def test_a_refused_course_form_says_which_field(
    instructor: WebClient, fields: dict[str, str], field_id: str
) -> None:
    values = {"title": "A course", "difficulty_level": "BEGINNER", "price": "0", **fields}
    answer = instructor.post("/teaching/courses/new", **values)
    assert answer.status_code == 400
    assert _error_beside(answer, field_id)


@pytest.mark.parametrize(
    ("fields", "field_id"),
    [
        ({"title": ""}, "lesson-title"),
        ({"order": ""}, "order"),
        ({"order": "first"}, "order"),
        ({"order": "0"}, "order"),
        ({"duration_minutes": "1.5"}, "duration_minutes"),
        ({"video_url": "ftp://example.com/a.mp4"}, "video_url"),
    ],
)
def test_a_refused_lesson_form_says_which_field(
    instructor: WebClient, course_id: int, fields: dict[str, str], field_id: str
) -> None:
    values = {"title": "A lesson", "order": "1", **fields}
    answer = instructor.post(f"/teaching/courses/{course_id}/lessons", **values)
    assert answer.status_code == 400
    assert _error_beside(answer, field_id)


def test_a_position_taken_twice_is_the_order_fields_error(
    instructor: WebClient, course_id: int
) -> None:
    first = instructor.post(f"/teaching/courses/{course_id}/lessons", title="One", order="1")
    assert first.status_code == 303
    again = instructor.post(f"/teaching/courses/{course_id}/lessons", title="Two", order="1")
    assert again.status_code == 400
    assert "already exists" in _error_beside(again, "order")


def test_another_instructors_course_is_refused(instructor: WebClient) -> None:
    # The demo courses are the academy's own: no instructor but an admin may change them.
    answer = instructor.post(
        "/teaching/courses/1", title="Taken over", difficulty_level="BEGINNER", price="0"
    )
    assert answer.status_code == 403
    assert "Not allowed" in answer.text


def test_enrolling_needs_an_account_and_a_course(site: Site) -> None:
    visitor = WebClient(site)
    answer = visitor.post("/courses/1/enrol")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    username = f"x{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{site.base}/api/v1/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    ).raise_for_status()
    visitor.log_in(username, PASSWORD)
    assert visitor.post("/courses/987654/enrol").status_code == 404
    refused = visitor.post("/courses/1/lessons/1/done")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/courses/1"


def test_without_javascript_marking_a_lesson_done_comes_back_to_the_course(site: Site) -> None:
    username = f"nojs{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{site.base}/api/v1/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    ).raise_for_status()
    visitor = WebClient(site)
    visitor.log_in(username, PASSWORD)
    assert visitor.post("/courses/1/enrol").status_code == 303
    lesson = httpx.get(f"{site.base}/api/v1/courses/1/lessons", timeout=10).json()["results"][0]
    done = visitor.post(f"/courses/1/lessons/{lesson['id']}/done")
    assert done.status_code == 303
    assert done.headers["location"] == f"/courses/1#lesson-{lesson['id']}"
    page = visitor.http.get("/courses/1")
    assert page.status_code == 200
    assert "Lesson done." in page.text
    assert '<progress id="progress-bar" class="progress" max="100" value="25"' in page.text

"""The console refuses bad input with a 4xx page that names the field, never a 500; and it is
for admins only. Plain HTTP (httpx) against the same `bandstand up --demo` as the browser."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.web.browser.conftest import Site


def _client(site: Site, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=site.base, timeout=20)
    client.get("/login")
    signed_in = client.post(
        "/login",
        data={"csrftoken": client.cookies["csrftoken"], "login": username, "password": password},
    )
    assert signed_in.status_code == 303, signed_in.text
    return client


@pytest.fixture(scope="module")
def admin(site: Site) -> Iterator[httpx.Client]:
    client = _client(site, *site.users["admin"])
    yield client
    client.close()


def post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return client.post(path, data={"csrftoken": client.cookies["csrftoken"], **data})


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/admin/users?page=0", "page"),
        ("/admin/users?role=superuser", "role"),
        ("/admin/songs?page=abc", "page"),
        ("/admin/songs/not-a-number", "item_id"),
        ("/admin/audit?date_from=yesterday", "YYYY-MM-DD"),
        ("/admin/audit?actor=nobody-is-called-this", "nobody-is-called-this"),
        ("/admin/orders?user_id=-4", "user"),
        ("/admin/orders?status=lost", "status"),
    ],
)
def test_a_bad_query_is_a_400_page_naming_it(admin: httpx.Client, path: str, named: str) -> None:
    answer = admin.get(path)
    assert answer.status_code == 400, answer.text
    assert named in answer.text


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        (
            "/admin/songs/new",
            {"title": "T", "artist": "A", "genre": "G", "file_url": "u", "duration": "long"},
            "duration",
        ),
        (
            "/admin/songs/new",
            {"artist": "A", "genre": "G", "file_url": "u", "duration": "3"},
            "title",
        ),
        (
            "/admin/concerts/new",
            {"concert_name": "C", "city": "Oslo", "date": "soon", "duration": "90"},
            "date",
        ),
        (
            "/admin/movies/new",
            {"title": "M", "description": "D", "release_year": "1200"},
            "release_year",
        ),
        ("/admin/courses/new", {"title": "C", "difficulty_level": "EXPERT"}, "difficulty_level"),
        (
            "/admin/instruments/new",
            {"name": "N", "link": "l", "website": "w", "price": "lots"},
            "price",
        ),
        ("/admin/settings", {"key": "no spaces allowed", "value": "v"}, "key"),
    ],
)
def test_a_refused_form_shows_the_error_beside_its_field(
    admin: httpx.Client, path: str, data: dict[str, str], field: str
) -> None:
    answer = post(admin, path, data)
    assert answer.status_code == 400, answer.text
    assert f'id="{field}-error"' in answer.text


def test_an_import_without_a_file_or_with_an_unreadable_one_says_why(admin: httpx.Client) -> None:
    token = {"csrftoken": admin.cookies["csrftoken"]}
    empty = admin.post("/admin/instruments/import", data=token, files={"file": ("", b"")})
    assert empty.status_code == 400
    assert "Choose a CSV or JSON Lines file." in empty.text
    headless = admin.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.csv", b"title,price\nDrum,12\n", "text/csv")},
    )
    assert headless.status_code == 400
    assert "no column" in headless.text
    unknown = admin.post(
        "/admin/instruments/import",
        data=token,
        files={"file": ("listings.xlsx", b"PK\x03\x04", "application/octet-stream")},
    )
    assert unknown.status_code == 400
    assert 'id="format-error"' in unknown.text


def test_an_import_without_javascript_is_a_plain_multipart_form(admin: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6]
    listing = f"name,link\nSnare {tag},https://shop.example/snare-{tag}\n".encode()
    answer = admin.post(
        "/admin/instruments/import",
        data={"csrftoken": admin.cookies["csrftoken"]},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "Imported snare.csv" in answer.text
    forged = admin.post(
        "/admin/instruments/import",
        data={"csrftoken": "forged"},
        files={"file": ("snare.csv", listing, "text/csv")},
    )
    assert forged.status_code == 403


def test_an_unknown_item_is_a_404_page(admin: httpx.Client) -> None:
    for path in ("/admin/users/999999", "/admin/songs/999999", "/admin/settings/no-such-key"):
        answer = admin.get(path)
        assert answer.status_code == 404, path


def test_a_user_is_refused_every_console_page(site: Site) -> None:
    username = f"nosy{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{site.base}/api/v1/register",
        json={"username": username, "email": f"{username}@example.com", "password": "Nosy-Pass-1"},
        timeout=10,
    ).raise_for_status()
    client = _client(site, username, "Nosy-Pass-1")
    try:
        for path in ("/admin/", "/admin/users", "/admin/dead-letters", "/admin/instruments/import"):
            answer = client.get(path)
            assert answer.status_code == 403, path
            assert "Not allowed" in answer.text
        refused = post(client, "/admin/users/1/role", {"role": "user"})
        assert refused.status_code == 403
    finally:
        client.close()


def test_an_anonymous_visitor_is_sent_to_log_in(site: Site) -> None:
    answer = httpx.get(f"{site.base}/admin/audit", timeout=10)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fadmin%2Faudit"

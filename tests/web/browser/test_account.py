"""Journeys: sign up, log in, log out; and what the pages refuse."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import Site
from tests.web.browser.looking import log_in, look, sign_up

PASSWORD = "Browser-Pass-1"


def test_home_shows_the_demo_to_anyone(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Upcoming concerts")).to_be_visible()
    expect(page.get_by_role("heading", name="Popular songs")).to_be_visible()
    look(page, "home")


def test_sign_up_log_out_and_log_in_again(page: Page) -> None:
    username = f"fan{uuid.uuid4().hex[:8]}"
    page.goto("/signup")
    look(page, "sign up")
    sign_up(page, username, PASSWORD)
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to Bandstand, {username}")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url("/login?next=%2Faccount")
    look(page, "log in")

    log_in(page, username, PASSWORD)
    page.goto("/account")
    expect(page.get_by_label("Email")).to_have_value(f"{username}@example.com")
    look(page, "account")


def test_a_wrong_password_is_told_without_saying_which_part(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill("nobody-here")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username, email or password.")


def test_log_out_ends_the_session_for_good(page: Page, site: Site) -> None:
    username = f"leaver{uuid.uuid4().hex[:8]}"
    sign_up(page, username, PASSWORD)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    # The old session cookie, replayed, opens nothing.
    replayed = httpx.get(
        f"{site.base}/account", cookies=cookies, follow_redirects=False, timeout=10
    )
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login")


def test_a_form_without_its_csrf_token_is_refused(page: Page, site: Site) -> None:
    username = f"victim{uuid.uuid4().hex[:8]}"
    sign_up(page, username, PASSWORD)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(
        f"{site.base}/account",
        data={"username": "hijacked", "email": "evil@example.com"},
        cookies=cookies,
        timeout=10,
    )
    assert forged.status_code == 403
    assert "security token" in forged.text
    page.goto("/account")
    expect(page.get_by_label("Username")).to_have_value(username)


def test_a_user_is_refused_the_console(page: Page) -> None:
    sign_up(page, f"curious{uuid.uuid4().hex[:8]}", PASSWORD)
    response = page.goto("/admin/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()

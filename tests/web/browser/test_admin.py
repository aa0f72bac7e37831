"""The operator console: an admin imports instruments (one bad line), changes a user's role,
re-drives a dead letter and reads all that in the audit log; every console page is looked at."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from playwright.sync_api import Locator, Page, expect

from bandstand.platform.messaging import Message
from bandstand.platform.messaging.factory import create_broker
from tests.web.browser.conftest import Site
from tests.web.browser.looking import log_in, look

PASSWORD = "Console-User-1"
DEAD_LETTER_QUEUE = "billing_queue.dlq"


def eventually_visible(page: Page, locator: Callable[[], Locator], timeout: float = 15) -> None:
    """Reloads the page until the locator finds something (events are recorded asynchronously)."""
    deadline = time.monotonic() + timeout
    while locator().count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(locator().first).to_be_visible()


def register(site: Site, username: str) -> int:
    answer = httpx.post(
        f"{site.base}/api/v1/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    answer.raise_for_status()
    return int(answer.json()["user"]["id"])


def dead_letter_of_a_billed_order(site: Site) -> str:
    """A real order, billed; then its `billing.order.created` message parked in the dead-letter
    queue, as a message that failed every attempt is. Re-driven, the worker finds the order
    already billed and acknowledges it."""
    token = site.api_token(*site.users["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    placed = httpx.post(
        f"{site.base}/api/v1/billing/orders",
        json={"number_of_items": 2, "total_amount": "25.00"},
        headers=headers,
        timeout=10,
    )
    placed.raise_for_status()
    order_id = placed.json()["id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        order = httpx.get(f"{site.base}/api/v1/billing/orders/{order_id}", headers=headers)
        if order.json()["status"] != "pending":
            break
        time.sleep(0.3)
    message = Message.new(
        "billing.order.created",
        {"order_id": order_id, "number_of_items": 2, "total_amount": "25.00"},
        "billing",
    )

    async def park() -> None:
        broker = create_broker(site.broker_url, site.data_dir)
        await broker.connect()
        try:
            await broker.publish([message], queue=DEAD_LETTER_QUEUE)
        finally:
            await broker.close()

    # Playwright's sync API runs an event loop in this thread: the broker gets its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, park()).result(timeout=30)
    return message.id


def test_an_admin_imports_changes_a_role_redrives_and_reads_the_audit_log(
    page: Page, site: Site
) -> None:
    admin_name, admin_password = site.users["admin"]
    log_in(page, admin_name, admin_password)
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Operator console", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Registrations per day")).to_be_visible()
    look(page, "admin dashboard")

    # Import: two good lines and one whose price is not a number.
    tag = uuid.uuid4().hex[:6]
    csv = (
        "name,link,price,website,category\n"
        f"Oak Cajon {tag},https://shop.example/cajon-{tag},129.00,shop.example,Percussion\n"
        f"Brass Trumpet {tag},https://shop.example/trumpet-{tag},not-a-price,shop.example,Brass\n"
        f"Maple Ukulele {tag},https://shop.example/ukulele-{tag},89.50,shop.example,Strings\n"
    )
    page.goto("/admin/instruments/import")
    look(page, "admin import")
    page.get_by_label("File").set_input_files(
        files=[{"name": "listings.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    result = page.locator("#import-result")
    expect(result.get_by_role("heading", name="Imported listings.csv")).to_be_visible()
    expect(result.locator(".figures")).to_contain_text("2 added")
    expect(result.locator(".figures")).to_contain_text("1 rejected")
    problem = result.get_by_role("row").filter(has_text="price")
    expect(problem.get_by_role("cell").first).to_have_text("3")
    expect(page.get_by_role("status")).to_have_text("Done.")
    look(page, "admin import result")
    page.goto(f"/admin/instruments?search={tag}")
    expect(page.get_by_role("link", name=f"Oak Cajon {tag}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Maple Ukulele {tag}")).to_be_visible()
    expect(page.get_by_text(f"Brass Trumpet {tag}")).to_have_count(0)
    look(page, "admin instruments")
    page.get_by_role("link", name=f"Oak Cajon {tag}").click()
    expect(page.get_by_label("Price")).to_have_value("129.00")
    look(page, "admin instrument")

    # A user's role.
    username = f"learner{tag}"
    register(site, username)
    page.goto(f"/admin/users?search={username}")
    look(page, "admin users")
    page.get_by_role("link", name=username).click()
    page.get_by_label("New role").select_option("instructor")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("status")).to_have_text("The role is now instructor.")
    expect(page.locator(".facts")).to_contain_text("instructor")
    look(page, "admin user")

    # The last admin stays one: the API's refusal, shown as it is.
    page.goto(f"/admin/users?search={admin_name}")
    page.get_by_role("link", name=admin_name, exact=True).last.click()
    page.get_by_label("New role").select_option("user")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("alert")).to_contain_text("last active admin")
    # The refused form answered 400, which the browser logs as a failed load: expected here.
    page.console_errors.clear()  # type: ignore[attr-defined]

    # A dead letter, re-driven.
    message_id = dead_letter_of_a_billed_order(site)
    page.goto("/admin/dead-letters")
    expect(page.get_by_text(message_id)).to_be_visible()
    look(page, "admin dead letters")
    page.get_by_role("button", name=f"Re-drive message {message_id}").click()
    expect(page.get_by_role("status")).to_have_text("1 message is back on the billing queue.")
    expect(page.get_by_text(message_id)).to_have_count(0)

    # The audit log of all that, by action and by actor.
    page.goto("/admin/audit")
    look(page, "admin audit")
    page.get_by_label("Action").fill("identity.user.updated")
    page.get_by_label("Actor").fill(admin_name)
    page.get_by_role("button", name="Filter").click()
    eventually_visible(
        page, lambda: page.get_by_role("row").filter(has_text="identity.user.updated")
    )
    expect(page.get_by_role("cell", name=admin_name).first).to_be_visible()
    look(page, "admin audit filtered")
    page.goto(f"/admin/audit?action=marketplace.instruments.imported&actor={admin_name}")
    eventually_visible(
        page, lambda: page.get_by_role("row").filter(has_text="marketplace.instruments.imported")
    )


def test_every_console_page_looks_right(page: Page, site: Site) -> None:
    log_in(page, *site.users["admin"])
    for path, name, heading in (
        ("/admin/orders", "admin orders", "Orders"),
        ("/admin/settings", "admin settings", "Settings"),
        ("/admin/health", "admin health", "Health"),
        ("/admin/songs", "admin songs", "Songs"),
        ("/admin/songs/new", "admin song new", "New song"),
        ("/admin/albums", "admin albums", "Albums"),
        ("/admin/pictures", "admin pictures", "Pictures"),
        ("/admin/concerts", "admin concerts", "Concerts"),
        ("/admin/movies", "admin movies", "Movies"),
        ("/admin/courses", "admin courses", "Courses"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        look(page, name)
    for listing, name in (
        ("/admin/songs", "admin song"),
        ("/admin/albums", "admin album"),
        ("/admin/concerts", "admin concert"),
        ("/admin/movies", "admin movie"),
        ("/admin/courses", "admin course"),
    ):
        page.goto(listing)
        page.locator("tbody tr td a").first.click()
        expect(page.get_by_role("button", name="Save changes")).to_be_visible()
        look(page, name)
    page.get_by_role("link", name="Add a lesson").click()
    expect(page.get_by_role("heading", name="New lesson")).to_be_visible()
    look(page, "admin lesson new")


def test_settings_are_added_changed_and_deleted(page: Page, site: Site) -> None:
    log_in(page, *site.users["admin"])
    key = f"banner.text-{uuid.uuid4().hex[:6]}"
    page.goto("/admin/settings")
    page.get_by_label("Key").fill(key)
    page.get_by_label("Value").fill("Welcome to the winter season")
    page.get_by_role("button", name="Add the setting").click()
    expect(page.get_by_role("status")).to_have_text("The setting is added.")
    page.get_by_label("Value").fill("Spring season")
    page.get_by_role("button", name="Save the setting").click()
    expect(page.get_by_label("Value")).to_have_value("Spring season")
    look(page, "admin setting")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this setting").click()
    expect(page.get_by_role("status")).to_have_text(f"The setting {key} is deleted.")


def test_a_song_is_added_with_field_errors_first_then_deleted(page: Page, site: Site) -> None:
    log_in(page, *site.users["admin"])
    page.goto("/admin/songs/new")
    page.get_by_label("Title").fill("Lanterns")
    page.get_by_label("Artist").fill("The Lantern Hours")
    page.get_by_label("Genre").fill("Indie Folk")
    page.get_by_label("Duration (seconds)").fill("three minutes")
    page.get_by_label("Audio file URL").fill("https://media.example/lanterns.mp3")
    page.get_by_role("button", name="Add the song").click()
    expect(page.locator("#duration-error")).to_be_visible()
    page.console_errors.clear()  # type: ignore[attr-defined]  (the refused form's 400)
    look(page, "admin song errors")
    page.get_by_label("Duration (seconds)").fill("201")
    page.get_by_role("button", name="Add the song").click()
    expect(page.get_by_role("status")).to_have_text("The song is added.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this song").click()
    expect(page.get_by_role("status")).to_have_text("The song is deleted.")

"""What every browser test checks of a page it looks at, and the steps journeys share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screens"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SERIOUS = {"serious", "critical"}
_axe = Axe()


def look(page: Page, name: str) -> None:
    """The page as it is now: accessible (axe-core: no serious or critical violation), no
    horizontal scrolling at 390 px, no console error; screenshots at both sizes."""
    page.wait_for_load_state("networkidle")
    results = _axe.run(page)
    violations: list[dict[str, Any]] = [
        violation
        for violation in results.response["violations"]
        if violation.get("impact") in SERIOUS
    ]
    assert not violations, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node.get("target")) for node in v["nodes"][:3])
        for v in violations
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    page.screenshot(path=str(ARTIFACTS / f"{slug}-1280x800.png"), full_page=True)
    page.set_viewport_size(PHONE)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    page.screenshot(path=str(ARTIFACTS / f"{slug}-390x844.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    assert overflow <= 0, f"{name}: scrolls {overflow}px sideways on a 390 px phone"
    errors: list[str] = getattr(page, "console_errors", [])
    assert not errors, f"{name}: console errors {errors}"


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()


def sign_up(page: Page, username: str, password: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()

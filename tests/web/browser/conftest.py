"""Browser tests: Debian's Chromium driven by Playwright against `bandstand up --demo`.

One platform process serves the whole session (demo data, an admin and an instructor made the
way an operator would). Every page a test looks at with `look()` is checked with axe-core (no
serious or critical violation), for horizontal scrolling on a 390 px phone, and for console
errors (a Content-Security-Policy violation is one); its screenshots at 1280x800 and 390x844
are written under `test-artifacts/screens/`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.cluster import run_cli
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.fixtures import engines_required
from tests.support.servers import free_port
from tests.web.browser.looking import ARTIFACTS, DESKTOP

pytestmark = pytest.mark.e2e

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
ADMIN = ("opal", "opal@example.com", "Console-Pass-1")
INSTRUCTOR = ("ines", "ines@example.com", "Teaching-Pass-1")


def _chromium() -> str:
    found = os.environ.get("BANDSTAND_CHROMIUM") or next(
        (path for path in CHROMIUM_PATHS if Path(path).exists()), None
    )
    if found is None:
        reason = "Chromium is not installed (apt-get install chromium)"
        if engines_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


@dataclass
class Site:
    base: str
    data_dir: Path
    process: Bandstand
    users: dict[str, tuple[str, str]] = field(default_factory=dict)
    """role → (username, password) of the accounts the fixture made."""
    broker_url: str = "embedded://"
    """The platform's broker (the embedded one in `data_dir`, or RabbitMQ)."""

    def api_token(self, username: str, password: str) -> str:
        answer = httpx.post(
            f"{self.base}/api/v1/login",
            json={"username": username, "password": password},
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("web")
    data_dir = workdir / "data"
    env = bandstand_env()
    run_cli("migrate", "--data-dir", str(data_dir), env=env, cwd=workdir)
    username, email, password = ADMIN
    run_cli(
        "createsuperuser",
        "--username",
        username,
        "--email",
        email,
        "--password",
        password,
        "--data-dir",
        str(data_dir),
        env=env,
        cwd=workdir,
    )
    port = free_port()
    process = Bandstand(
        "up",
        "--demo",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        env=env,
        workdir=workdir,
        name="up",
    )
    with process:
        base = f"http://127.0.0.1:{port}"
        process.wait_until_serving(f"{base}/ready", timeout=60)
        site = Site(base, data_dir, process, users={"admin": (username, password)})
        _make_instructor(site)
        yield site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(process.log_path, ARTIFACTS.parent / "bandstand-up.log")


def _make_instructor(site: Site) -> None:
    username, email, password = INSTRUCTOR
    registered = httpx.post(
        f"{site.base}/api/v1/register",
        json={"username": username, "email": email, "password": password},
        timeout=10,
    )
    registered.raise_for_status()
    admin_token = site.api_token(*site.users["admin"])
    user_id = registered.json()["user"]["id"]
    promoted = httpx.put(
        f"{site.base}/api/v1/users/{user_id}",
        json={"role": "instructor"},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    promoted.raise_for_status()
    site.users["instructor"] = (username, password)


# Per module, not per session: the sync API keeps an event loop running in this thread while it
# is open, and the asyncio tests collected after the browser's would find it there and fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=site.base)
    opened = context.new_page()
    errors: list[str] = []
    opened.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    opened.on("pageerror", lambda error: errors.append(str(error)))
    setattr(opened, "console_errors", errors)  # noqa: B010 (read by look())
    yield opened
    context.close()

"""Browser tests: Playwright's Python client driving Debian's chromium against the portal of the running stack.

No browser is ever downloaded (``playwright install`` is not used): the session fixture installs Debian's
``chromium`` package when it is missing (``apt-get``, as root, in CI too), and Playwright starts that binary.
Screenshots go to ``test-artefacts/browser/`` at the repository root (gitignored); axe-core (vendored from npm,
``vendor/axe.min.js``) checks each key page for serious or critical violations.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from qosym_cli.stack import LocalStack
from tests.browser.support import Staff, create_staff

REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = REPO / "test-artefacts" / "browser"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed on first use (the README's test command stays the only command)."""
    found = shutil.which("chromium")
    if found is None:
        subprocess.run(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
            shell=True,
            check=True,
            timeout=900,
        )
        found = shutil.which("chromium")
    assert found, "apt-get install chromium did not provide /usr/bin/chromium"
    return found


@pytest.fixture(scope="module")
def browser(chromium: str, running_stack: LocalStack) -> Iterator[Browser]:
    """Playwright's sync API keeps an event loop running in this thread while it is started: the stack
    (asyncio.run) starts first, and it stops with each module, or every later test's asyncio.run would fail."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def portal_url(running_stack: LocalStack) -> str:
    return running_stack.frontend_url("portal")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (no cookies), a phone-sized window and Kazakh as the browser's language."""
    made = browser.new_context(viewport={"width": 390, "height": 844}, locale="kk-KZ")
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


@pytest.fixture
def screenshot(page: Page, artefacts: Path) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        path = artefacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def registry(running_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_stack.api_url("registry"), timeout=10) as client:
        yield client


@pytest.fixture
def notifications(running_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_stack.api_url("notifications"), timeout=10) as client:
        yield client


@pytest.fixture
def new_staff(registry: httpx.Client, token: Callable[..., str]) -> Callable[..., Staff]:
    """A staff account made by an administrator (``POST /v1/staff``): its username, password and TOTP secret."""

    def make(role: str, scope: dict[str, str] | None = None) -> Staff:
        return create_staff(registry, token("administrator"), role, scope or {})

    return make

"""A real headless Chromium (Debian's) driven by Playwright, for what people look at."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Screenshots of every browser test are kept here (git ignores the folder).
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "screenshots"
#: Texts Superset shows in a chart that failed or has nothing to show.
FAILURE_TEXTS = (
    "No results were returned",
    "Unexpected error",
    "An error occurred",
    "There is no chart definition",
    "Data error",
    "Error:",
)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for browser tests: `make test` installs Debian's chromium package")
    return path


@contextlib.contextmanager
def browser_page(viewport=(1400, 2400)) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            browser.close()


def login(page, url: str, username: str, password: str, attempts: int = 3) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        page.goto(f"{url}/login/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.press("#password", "Enter")
        # Logged in once the browser leaves the login page (the session cookie is set by then): waiting
        # for the welcome page to load as well only adds its heavy front end, which a busy machine slows.
        # On a loaded machine the key press can land before the login form's script listens: type again.
        try:
            page.wait_for_url(lambda address: "/login/" not in address, wait_until="commit", timeout=60_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def wait_for_dashboard(page, url: str, slug: str, charts: int, timeout_ms: int = 90_000) -> float:
    """Open a dashboard and wait until `charts` charts have drawn; returns seconds taken."""
    import time

    start = time.monotonic()
    page.goto(f"{url}/superset/dashboard/{slug}/")
    page.wait_for_function(
        """(expected) => {
            const charts = [...document.querySelectorAll('[data-test="chart-container"]')];
            const drawn = charts.filter(c => c.querySelector('canvas, svg, .header-line'));
            const loading = document.querySelectorAll('[data-test="loading-indicator"], .loading').length;
            return charts.length === expected && drawn.length === expected && loading === 0;
        }""",
        arg=charts,
        timeout=timeout_ms,
    )
    seconds = time.monotonic() - start
    page.wait_for_timeout(1200)  # let the charts' entry animation settle before a screenshot
    return seconds


def failures(page) -> list[str]:
    holders = page.locator('[data-test="dashboard-component-chart-holder"]')
    found = []
    for i in range(holders.count()):
        text = holders.nth(i).inner_text()
        found += [f"tile {i}: {t}" for t in FAILURE_TEXTS if t in text]
    return found


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

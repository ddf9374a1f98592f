"""Test-wide set-up: fast password hashing, and the browser fixtures for Playwright tests."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    # Argon2 is the production hasher (tested in accounts/tests/test_security.py); MD5 keeps
    # the hundreds of test users cheap to create.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Debian's chromium. CI installs it and sets REQUIRE_BROWSER=1, so a
    missing browser fails there; on a laptop without it they are skipped with a reason."""
    if CHROMIUM or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason="chromium not installed (apt-get install chromium); CI runs these")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.fail("REQUIRE_BROWSER=1 but no chromium on PATH")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under a loop unless told it is safe, which it is here: the loop never awaits ORM calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh contexts (separate cookies), closed at the end of the test."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()

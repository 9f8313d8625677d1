"""Fixtures of the browser tests: a real service, a seeded seller, and headless Chromium.

One ``sentoffers serve`` on a fresh SQLite database serves the whole session. The seller's
account (``shop``) is seeded once through the SDK and only read; tests that write make an
account of their own (``make_seller``). Each module launches its own Chromium; each test
opens pages in fresh contexts (``browsing``) and screenshots what it sees (``screens``) into
``test-output/ui-screenshots/``.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, StorageState, sync_playwright

from sentoffers.client import KeyCreate, Role, SentOffersClient, SentOffersCredentials
from tests.e2e.service_process import ApiKey, ServiceProcess, create_key
from tests.e2e.ui.browser import (
    AXE_SCRIPT,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    SCREENSHOTS,
    Browsing,
    Screens,
    signed_in_session,
)
from tests.e2e.ui.seed import (
    MAGALU,
    NETSHOES,
    Seller,
    Shop,
    activate_feeds,
    seed_channels,
    seed_shop,
)

SERVICE_ENV = {"SENTOFFERS_UI_LIVE_POLL_SECONDS": "0.5"}
"""A short live-update interval, so live pages show news within the tests' patience."""


@pytest.fixture(scope="session")
def ui_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """``sentoffers serve`` on a fresh SQLite database, for every browser test."""
    directory = tmp_path_factory.mktemp("ui-service")
    process = ServiceProcess(
        database_url=f"sqlite:///{directory / 'sentoffers.db'}",
        log_path=directory / "service.log",
        env=SERVICE_ENV,
    )
    try:
        process.start()
    except RuntimeError as error:
        pytest.fail(f"the service did not start:\n{error}")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def admin(ui_service: ServiceProcess) -> Iterator[SentOffersClient]:
    """The SDK with an admin key for every account: how the tests make their data."""
    key = create_key(ui_service.database_url, "*", role="admin")
    credentials = SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)
    with SentOffersClient(ui_service.base_url, credentials=credentials) as client:
        seed_channels(client)
        yield client


@pytest.fixture(scope="session")
def shop(admin: SentOffersClient, ui_service: ServiceProcess) -> Shop:
    """The seller ``acme``: an offer in each status, a busy offer, two pages of offers."""
    return seed_shop(admin, ui_service.database_url, "acme")


_sellers = itertools.count(1)


@pytest.fixture
def make_seller(admin: SentOffersClient, ui_service: ServiceProcess) -> Callable[[str], Seller]:
    """A new account with both feeds active and a viewer key, for a test that writes."""

    def make(prefix: str) -> Seller:
        account = f"{prefix}{next(_sellers)}"
        activate_feeds(admin.for_account(account), NETSHOES, MAGALU)
        # Through the API, not the CLI: a process start per seller would slow the suite.
        key = admin.create_key(KeyCreate(role=Role.VIEWER, accounts=[account])).raise_for_errors()
        return Seller(account, ApiKey(app_key=key.app_key, app_token=key.app_token))

    return make


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (which never downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get install -y chromium` (scripts/test does it when missing)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browsing(browser: Browser, ui_service: ServiceProcess) -> Iterator[Browsing]:
    """Pages on the service; the test fails if a page threw an uncaught JavaScript error or
    had something blocked by its own Content-Security-Policy."""
    opened = Browsing(browser, ui_service.base_url)
    try:
        yield opened
    finally:
        opened.close()
    if opened.page_errors:
        pytest.fail("uncaught JavaScript errors:\n" + "\n".join(opened.page_errors))
    if opened.csp_violations:
        pytest.fail("blocked by the page's own CSP:\n" + "\n".join(opened.csp_violations))


_screenshot_runs: list[Path] = []


@pytest.fixture(scope="session")
def screenshot_directory() -> Path:
    """``test-output/ui-screenshots``, emptied once per session."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    _screenshot_runs.append(SCREENSHOTS)
    return SCREENSHOTS


@pytest.fixture
def screens(screenshot_directory: Path, request: pytest.FixtureRequest) -> Screens:
    return Screens(screenshot_directory, request.node.name)


@pytest.fixture(scope="module")
def seller_session(browser: Browser, ui_service: ServiceProcess, shop: Shop) -> StorageState:
    """The seller ``acme`` (a viewer key) signed in once through the form, for a module."""
    return signed_in_session(browser, ui_service.base_url, shop.account, shop.viewer)


@pytest.fixture
def seller_page(browsing: Browsing, seller_session: StorageState) -> Page:
    """A desktop page signed in as the seller ``acme``, on the offer list."""
    page = browsing.page(DESKTOP, signed_in=seller_session)
    page.goto("/offers")
    return page


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is not installed ({AXE_SCRIPT} is missing): run `npm ci`")
    return AXE_SCRIPT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for directory in _screenshot_runs:
        terminalreporter.write_line(f"UI screenshots: {directory}")

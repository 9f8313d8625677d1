"""Every page fits a phone's width: the document never scrolls sideways (tables may, inside
their own container), at 375 px as at 1280 px. Each page is screenshotted at both widths."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, StorageState, expect

from tests.e2e.ui.browser import (
    DESKTOP,
    PHONE,
    Browsing,
    Screens,
    assert_no_horizontal_scroll,
    open_details,
)
from tests.e2e.ui.seed import CTLG_ERROR_TITLE, Shop

pytestmark = pytest.mark.e2e

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}


def _offers(page: Page, shop: Shop) -> None:
    page.goto("/offers")


def _offers_error(page: Page, shop: Shop) -> None:
    page.goto("/offers?status=error")


def _offers_none(page: Page, shop: Shop) -> None:
    page.goto("/offers?q=nothing-matches-this")
    expect(page.get_by_text("No offers match these filters.")).to_be_visible()


def _error_offer(page: Page, shop: Shop) -> None:
    page.goto(shop.error.path)
    open_details(page, CTLG_ERROR_TITLE)


def _busy_offer(page: Page, shop: Shop) -> None:
    page.goto(shop.busy.path)


def _interaction(page: Page, shop: Shop) -> None:
    page.goto(f"{shop.error.path}/interactions/{shop.failure_interaction}")


def _evidence(page: Page, shop: Shop) -> None:
    _interaction(page, shop)
    page.get_by_role("button", name="View evidence").click()
    expect(page.get_by_role("dialog", name="Evidence")).to_be_visible()


def _expired(page: Page, shop: Shop) -> None:
    page.goto(f"{shop.unavailable.path}/interactions/{shop.expired_interaction}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Interaction details expired")


SIGNED_IN_PAGES: dict[str, Callable[[Page, Shop], None]] = {
    "offers": _offers,
    "offers-error": _offers_error,
    "offers-none": _offers_none,
    "offer-error-expanded": _error_offer,
    "offer-busy": _busy_offer,
    "interaction": _interaction,
    "interaction-evidence": _evidence,
    "expired": _expired,
}


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_page_fits_the_width(browsing: Browsing, screens: Screens, width: str) -> None:
    page = browsing.page(WIDTHS[width])
    page.goto("/signin")
    assert_no_horizontal_scroll(page, screens.take(page, "signin"))


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_in_pages_fit_the_width(
    browsing: Browsing, seller_session: StorageState, shop: Shop, screens: Screens, width: str
) -> None:
    page = browsing.page(WIDTHS[width], signed_in=seller_session)
    problems = []
    for name, visit in SIGNED_IN_PAGES.items():
        visit(page, shop)
        shot = screens.take(page, name)
        try:
            assert_no_horizontal_scroll(page, shot)
        except AssertionError as problem:
            problems.append(str(problem))
    assert not problems, "\n".join(problems)

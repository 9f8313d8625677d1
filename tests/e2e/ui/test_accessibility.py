"""axe-core finds no serious or critical violation on any page, in the states a seller sees.

axe is injected as an inline script, which the UI's CSP blocks (as it should), so these
pages open in contexts that bypass the CSP; test_security checks the CSP itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, StorageState, expect

from tests.e2e.ui.browser import (
    DESKTOP,
    Browsing,
    Screens,
    assert_accessible,
    open_details,
)
from tests.e2e.ui.seed import CTLG_ERROR_TITLE, Shop

pytestmark = pytest.mark.e2e


@pytest.fixture
def axe_page(browsing: Browsing, seller_session: StorageState, axe_script: Path) -> Page:
    """A desktop page that lets axe in, signed in as the seller, on the offer list."""
    page = browsing.page(DESKTOP, bypass_csp=True, signed_in=seller_session)
    page.goto("/offers")
    return page


def test_sign_in_page_has_no_serious_violations(
    browsing: Browsing, axe_script: Path, screens: Screens
) -> None:
    page = browsing.page(DESKTOP, bypass_csp=True)
    page.goto("/signin")
    assert_accessible(page, screens.take(page, "signin"))


def test_sign_in_error_has_no_serious_violations(
    browsing: Browsing, shop: Shop, axe_script: Path, screens: Screens
) -> None:
    page = browsing.page(DESKTOP, bypass_csp=True)
    page.goto("/signin")
    page.get_by_label("Account").fill(shop.account)
    page.get_by_label("App key").fill("wrong")
    page.get_by_label("App token").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, screens.take(page, "signin-error"))


def test_offer_list_has_no_serious_violations(axe_page: Page, screens: Screens) -> None:
    assert_accessible(axe_page, screens.take(axe_page, "offers"))


def test_filtered_offer_list_has_no_serious_violations(axe_page: Page, screens: Screens) -> None:
    page = axe_page
    page.locator('nav[aria-label="Offer status"]').get_by_role("link", name="Error").click()
    form = page.get_by_role("search", name="Filter offers")
    form.get_by_label("Search", exact=True).fill("boot")
    form.get_by_label("Origin", exact=True).select_option(label="Catalog")
    form.get_by_label("Sort", exact=True).select_option(index=2)
    form.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("table", name="Offers").locator("tbody tr")).to_have_count(1)
    assert_accessible(axe_page, screens.take(axe_page, "offers-filtered"))
    axe_page.goto("/offers?q=nothing-matches-this")
    expect(axe_page.get_by_text("No offers match these filters.")).to_be_visible()
    assert_accessible(axe_page, screens.take(axe_page, "offers-empty"))


def test_error_offer_with_an_error_expanded_has_no_serious_violations(
    axe_page: Page, shop: Shop, screens: Screens
) -> None:
    axe_page.goto(shop.error.path)
    open_details(axe_page, CTLG_ERROR_TITLE)
    assert_accessible(axe_page, screens.take(axe_page, "error-expanded"))


def test_busy_offer_has_no_serious_violations(axe_page: Page, shop: Shop, screens: Screens) -> None:
    axe_page.goto(shop.busy.path)
    assert_accessible(axe_page, screens.take(axe_page, "busy"))


def test_interaction_with_evidence_open_has_no_serious_violations(
    axe_page: Page, shop: Shop, screens: Screens
) -> None:
    axe_page.goto(f"{shop.error.path}/interactions/{shop.failure_interaction}")
    assert_accessible(axe_page, screens.take(axe_page, "interaction"))
    axe_page.get_by_role("button", name="View evidence").click()
    expect(axe_page.get_by_role("dialog", name="Evidence")).to_be_visible()
    assert_accessible(axe_page, screens.take(axe_page, "evidence"))


def test_expired_interaction_page_has_no_serious_violations(
    axe_page: Page, shop: Shop, screens: Screens
) -> None:
    axe_page.goto(f"{shop.unavailable.path}/interactions/{shop.expired_interaction}")
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Interaction details expired")
    assert_accessible(axe_page, screens.take(axe_page, "expired"))

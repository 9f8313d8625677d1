"""A seller finds the offers stuck in Sending, in Chromium, at a desktop's and a phone's width.

The seller's connector opened an interaction for a new SKU and only ever said it was
sending; the offer is dated back in the store past the stuck time, as an hour going by
would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sentoffers.client import SentOffersClient
from tests.e2e.service_process import ServiceProcess
from tests.e2e.ui.browser import (
    DESKTOP,
    PHONE,
    Browsing,
    Screens,
    assert_accessible,
    assert_no_horizontal_scroll,
    signed_in_session,
)
from tests.e2e.ui.seed import NETSHOES, Seller

pytestmark = pytest.mark.e2e

WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
SKU = "STUCK-1"


@pytest.fixture
def stuck_seller(
    admin: SentOffersClient, ui_service: ServiceProcess, make_seller: Callable[[str], Seller]
) -> Seller:
    seller = make_seller("stuck")
    shop = admin.for_account(seller.account)
    opened = shop.create_interaction(
        NETSHOES.id,
        SKU,
        {"StartDate": "2026-12-03", "Source": "seller", "Origin": "catalog", "Context": "sync"},
    ).raise_for_errors()
    shop.create_log(
        NETSHOES.id,
        SKU,
        opened.id,
        {"Type": "Info", "Description": "SKU sent to the marketplace", "Agent": "channel",
         "Data": {"Status": "Sending", "Name": "Trekking backpack 40 L"}},
    ).raise_for_errors()  # fmt: skip
    path = ui_service.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=30)) as db, db:
        aged = db.execute(
            "UPDATE offers SET status_since = datetime('now', '-2 hours') "
            "WHERE account = ? AND sku_id = ?",
            (seller.account, SKU),
        ).rowcount
    assert aged == 1
    return seller


def signed_in(
    browser: Browser, browsing: Browsing, ui_service: ServiceProcess, seller: Seller, width: str
) -> Page:
    session = signed_in_session(browser, ui_service.base_url, seller.account, seller.viewer)
    return browsing.page(WIDTHS[width], signed_in=session)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_stuck_offer_is_found_from_the_list_and_says_why(
    browser: Browser,
    browsing: Browsing,
    ui_service: ServiceProcess,
    stuck_seller: Seller,
    screens: Screens,
    width: str,
) -> None:
    page = signed_in(browser, browsing, ui_service, stuck_seller, width)
    page.goto("/offers")
    tabs = page.get_by_role("navigation", name="Offer status")
    stuck_tab = tabs.get_by_role("link", name="Stuck 1")
    expect(stuck_tab).to_be_visible()
    assert_no_horizontal_scroll(page, screens.take(page, "offers"))

    stuck_tab.click()
    page.wait_for_url("**/offers?stuck=1")
    table = page.get_by_role("table", name="Offers")
    expect(table.get_by_text("Stuck", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page, screens.take(page, "offers-stuck"))

    table.get_by_role("link", name="Trekking backpack 40 L").click()
    note = page.get_by_role("note")
    expect(note.get_by_role("heading", name="Stuck in Sending")).to_be_visible()
    expect(note).to_contain_text("longer than 30 minutes")
    expect(note).to_contain_text("Info log \u201cSKU sent to the marketplace\u201d")
    assert_no_horizontal_scroll(page, screens.take(page, "offer"))

    note.get_by_role("link", name="View interaction").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_stuck_pages_have_no_serious_violations(
    browser: Browser,
    browsing: Browsing,
    ui_service: ServiceProcess,
    stuck_seller: Seller,
    axe_script: Path,
    screens: Screens,
) -> None:
    session = signed_in_session(
        browser, ui_service.base_url, stuck_seller.account, stuck_seller.viewer
    )
    page = browsing.page(DESKTOP, bypass_csp=True, signed_in=session)
    page.goto("/offers?stuck=1")
    assert_accessible(page, screens.take(page, "offers-stuck-axe"))
    page.goto(f"/offers/{NETSHOES.id}/{SKU}")
    assert_accessible(page, screens.take(page, "offer-stuck-axe"))

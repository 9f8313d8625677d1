"""Live pages: what the API receives while a page is open shows up without a reload."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from sentoffers.client import (
    InteractionCreate,
    KnownCode,
    LogCreate,
    SentOffersClient,
    error_entry,
)
from tests.e2e.ui.browser import (
    DESKTOP,
    LIVE_TIMEOUT_MS,
    Browsing,
    Screens,
    headed_by_badge,
    section,
    sign_in,
)
from tests.e2e.ui.seed import AGENT, NETSHOES, Seller

pytestmark = pytest.mark.e2e

SKU = "5001"


def open_interaction(admin: SentOffersClient, seller: Seller) -> str:
    """An open ongoing catalog interaction on ``SKU`` with one log naming the offer."""
    opened = admin.create_interaction(
        seller.account,
        NETSHOES.id,
        SKU,
        InteractionCreate.model_validate(
            {"source": "seller", "origin": "catalog", "context": "ongoing"}
        ),
    ).raise_for_errors()
    admin.create_log(
        seller.account,
        NETSHOES.id,
        SKU,
        opened.id,
        LogCreate.model_validate(
            {
                "type": "information",
                "description": "Sending the product",
                "agent": AGENT,
                "data": {"name": "Live boot"},
            }
        ),
    ).raise_for_errors()
    return opened.id


def signed_in(browsing: Browsing, seller: Seller, path: str) -> Page:
    page = browsing.page(DESKTOP)
    sign_in(page, seller.account, seller.viewer)
    page.goto(path)
    expect(page.locator("main[data-live]")).to_have_count(1)
    # Let the page's live stream connect before anything changes.
    page.wait_for_timeout(300)
    return page


def expect_announced(page: Page) -> None:
    expect(page.locator('[aria-live="polite"]').filter(has_text="Updated")).to_have_count(
        1, timeout=LIVE_TIMEOUT_MS
    )


def test_offer_page_shows_a_new_error_without_reload(
    admin: SentOffersClient,
    make_seller: Callable[[str], Seller],
    browsing: Browsing,
    screens: Screens,
) -> None:
    seller = make_seller("live")
    interaction = open_interaction(admin, seller)
    page = signed_in(browsing, seller, f"/offers/{NETSHOES.id}/{SKU}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Live boot")
    expect(section(page, "Status")).to_have_text(headed_by_badge("Status", "Sending"))
    page.evaluate("() => { window.__notReloaded = true; }")

    title = "Title over 60 characters, reported live"
    admin.create_log(
        seller.account,
        NETSHOES.id,
        SKU,
        interaction,
        LogCreate(
            type="failure",
            description="The channel refused the title",
            agent=AGENT,
            errors=[error_entry(KnownCode.CTLG_009, "007", title=title, description="Too long")],
        ),
    ).raise_for_errors()

    status = section(page, "Status")
    expect(status).to_contain_text(title, timeout=LIVE_TIMEOUT_MS)
    expect(status).to_have_text(headed_by_badge("Status", "Error"))
    expect_announced(page)
    assert page.evaluate("() => window.__notReloaded") is True, "the page was reloaded"
    screens.take(page, "after")


def test_interaction_page_shows_a_new_log_without_reload(
    admin: SentOffersClient,
    make_seller: Callable[[str], Seller],
    browsing: Browsing,
    screens: Screens,
) -> None:
    seller = make_seller("live")
    interaction = open_interaction(admin, seller)
    page = signed_in(browsing, seller, f"/offers/{NETSHOES.id}/{SKU}/interactions/{interaction}")
    logs = page.locator('ol[aria-label="Logs"] > li')
    expect(logs).to_have_count(1)
    page.evaluate("() => { window.__notReloaded = true; }")

    description = "Channel accepted the title after a retry"
    admin.create_log(
        seller.account,
        NETSHOES.id,
        SKU,
        interaction,
        LogCreate.model_validate(
            {"type": "warning", "description": description, "agent": "channel-bot"}
        ),
    ).raise_for_errors()

    expect(page.get_by_text(description)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(logs).to_have_count(2)
    expect(logs.nth(1).get_by_text("Warning", exact=True)).to_be_visible()
    expect(logs.nth(1)).to_contain_text("Agent: channel-bot")
    expect_announced(page)
    assert page.evaluate("() => window.__notReloaded") is True, "the page was reloaded"

    result = section(page, "Result")
    expect(result).to_have_text(headed_by_badge("Result", "Processing"))
    admin.close_interaction(seller.account, NETSHOES.id, SKU, interaction).raise_for_errors()
    expect(result).to_have_text(headed_by_badge("Result", "Notification"), timeout=LIVE_TIMEOUT_MS)
    screens.take(page, "after")

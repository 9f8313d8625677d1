"""A seller who uses only the keyboard can follow an error down to its evidence."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.ui.browser import Screens
from tests.e2e.ui.seed import CTLG_ERROR_TITLE, EVIDENCE_REQUEST, Shop

pytestmark = pytest.mark.e2e

MAX_TABS = 120


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus, unless it has it already."""
    expect(target).to_have_count(1)
    handle = target.element_handle()
    if page.evaluate("element => element === document.activeElement", handle):
        return
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", handle):
            return
    focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{MAX_TABS} Tab presses never reached {target}; focus is on {focused}")


def test_keyboard_alone_reaches_an_errors_evidence_and_back(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    # The offer list: the Error tab, then the offer's name.
    error_tab = page.locator('nav[aria-label="Offer status"]').get_by_role(
        "link", name=re.compile(r"^\s*Error")
    )
    tab_to(page, error_tab)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=error"))
    offer_link = page.get_by_role("table", name="Offers").get_by_role("link", name=shop.error.name)
    tab_to(page, offer_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(shop.error.path) + "$"))

    # The offer: unfold the error with Space, then follow it to its interaction.
    details = page.locator("details").filter(has=page.locator("summary", has_text=CTLG_ERROR_TITLE))
    tab_to(page, details.locator("summary"))
    page.keyboard.press("Space")
    expect(details).to_have_attribute("open", "")
    screens.take(page, "expanded")
    tab_to(page, details.get_by_role("link", name="View interaction"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/interactions/{shop.failure_interaction}$"))

    # The interaction: open the evidence with Enter, close it with Escape.
    button = page.get_by_role("button", name="View evidence")
    tab_to(page, button)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Evidence")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(EVIDENCE_REQUEST.splitlines()[0])
    assert page.evaluate("() => !!document.activeElement.closest('dialog')"), (
        "the focus did not move into the evidence dialog"
    )
    screens.take(page, "evidence")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    # And the Close button works from the keyboard too.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("button", name="Close"))
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

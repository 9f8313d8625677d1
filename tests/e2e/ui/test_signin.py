"""Signing in and out of the seller's web UI with an app key and token."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.ui.browser import DESKTOP, Browsing, Screens, sign_in
from tests.e2e.ui.seed import Shop

pytestmark = pytest.mark.e2e


def test_signed_out_visitor_of_the_home_page_lands_on_sign_in(
    browsing: Browsing, screens: Screens
) -> None:
    page = browsing.page(DESKTOP)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_label("Account")).to_be_visible()
    expect(page.get_by_label("App key")).to_be_visible()
    expect(page.get_by_label("App token")).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    screens.take(page, "signin")


def test_signed_out_visitor_of_the_offer_list_lands_on_sign_in(browsing: Browsing) -> None:
    page = browsing.page(DESKTOP)
    page.goto("/offers")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_wrong_token_keeps_the_form_with_an_alert(
    browsing: Browsing, shop: Shop, screens: Screens
) -> None:
    page = browsing.page(DESKTOP)
    page.goto("/signin")
    page.get_by_label("Account").fill(shop.account)
    page.get_by_label("App key").fill(shop.viewer.app_key)
    page.get_by_label("App token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/signin"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    screens.take(page, "wrong-token")


def test_key_of_another_account_does_not_sign_in(browsing: Browsing, shop: Shop) -> None:
    page = browsing.page(DESKTOP)
    page.goto("/signin")
    page.get_by_label("Account").fill("someone-else")
    page.get_by_label("App key").fill(shop.viewer.app_key)
    page.get_by_label("App token").fill(shop.viewer.app_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/signin"))


def test_seller_signs_in_to_the_offer_list_and_signs_out(
    browsing: Browsing, shop: Shop, screens: Screens
) -> None:
    page = browsing.page(DESKTOP)
    sign_in(page, shop.account, shop.viewer)
    expect(page).to_have_url(re.compile(r"/offers$"))
    header = page.get_by_role("banner")
    expect(header).to_contain_text("sentoffers")
    expect(header).to_contain_text(shop.account)
    expect(header.get_by_role("link", name="Offers", exact=True)).to_be_visible()
    screens.take(page, "offers")

    header.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto("/offers")
    expect(page).to_have_url(re.compile(r"/signin"))


def test_signed_in_home_page_goes_to_the_offer_list(seller_page: Page) -> None:
    seller_page.goto("/")
    expect(seller_page).to_have_url(re.compile(r"/offers$"))


def test_first_tab_reaches_skip_to_content_which_leads_to_main(
    browsing: Browsing, shop: Shop
) -> None:
    page = browsing.page(DESKTOP)
    sign_in(page, shop.account, shop.viewer)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_have_attribute("href", "#content")
    expect(page.locator("main#content")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content$"))

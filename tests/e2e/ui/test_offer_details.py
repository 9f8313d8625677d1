"""The offer page /offers/{feedId}/{skuId}: identity, status, errors, history, interactions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.ui.browser import Screens, described, headed_by_badge, open_details, section
from tests.e2e.ui.seed import (
    BUSY_INTERACTIONS,
    CHANNEL_LOGOS,
    CTLG_ERROR_DESCRIPTION,
    CTLG_ERROR_TITLE,
    NETSHOES,
    NTMAP_ERROR_DESCRIPTION,
    NTMAP_ERROR_TITLE,
    Shop,
)

pytestmark = pytest.mark.e2e


def interactions_table(page: Page) -> Locator:
    return page.get_by_role("table", name="Interactions")


def test_offer_page_shows_name_channel_status_and_ids(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(shop.synced.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(shop.synced.name)
    main = page.locator("main")
    expect(main).to_contain_text(NETSHOES.name)
    logo = main.locator(f'img[src="{CHANNEL_LOGOS[NETSHOES]}"]')
    expect(logo).to_be_visible()
    assert logo.evaluate("image => image.complete && image.naturalWidth > 0"), "logo not shown"
    expect(main.get_by_text("Synced", exact=True).first).to_be_visible()
    expect(section(page, "Status")).to_have_text(headed_by_badge("Status", "Synced"))
    expect(described(main, "ID on VTEX")).to_have_text(shop.synced.sku_id)
    expect(described(main, "ID on the channel")).to_have_text("NS-1001")
    screens.take(page, "synced")


def test_offer_without_a_name_is_titled_with_its_sku(seller_page: Page, shop: Shop) -> None:
    seller_page.goto(shop.nameless.path)
    expect(seller_page.get_by_role("heading", level=1)).to_have_text(f"SKU {shop.nameless.sku_id}")


def test_edit_menu_links_to_information_price_and_inventory(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    page.goto(shop.synced.path)
    edit = open_details(page, "Edit")
    for name in ["Edit information", "Edit price", "Edit inventory"]:
        link = edit.get_by_role("link", name=name)
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        assert shop.account in href, (name, href)
        assert shop.synced.sku_id in href, (name, href)


def test_unknown_offer_is_not_found(seller_page: Page) -> None:
    response = seller_page.goto(f"/offers/{NETSHOES.id}/no-such-sku")
    assert response is not None
    assert response.status == 404


def test_error_offer_lists_each_open_error_folded(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(shop.error.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(shop.error.name)
    expect(page.locator("main").get_by_text("Error", exact=True).first).to_be_visible()
    status = section(page, "Status")
    expect(status).to_have_text(headed_by_badge("Status", "Error"))
    errors = status.locator("details")
    expect(errors).to_have_count(2)
    for details in errors.all():
        expect(details).not_to_have_attribute("open", "")
        expect(details.locator("summary")).to_contain_text(re.compile(r"\d"))  # its date
    screens.take(page, "folded")


def test_expanded_error_shows_code_description_origin_and_solution(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(shop.error.path)
    details = open_details(page, CTLG_ERROR_TITLE)
    expect(described(details, "Code")).to_contain_text("CTLG-006-001")
    expect(described(details, "Date")).to_contain_text(re.compile(r"\d"))
    expect(described(details, "Description")).to_contain_text(CTLG_ERROR_DESCRIPTION)
    expect(described(details, "Origin")).to_have_text(re.compile(r"^\s*Catalog\s*$"))
    solution = described(details, "Solution")
    expect(solution).to_contain_text("Fix description")
    how = solution.get_by_role("link", name="How to solve")
    expect(how).to_have_attribute("href", re.compile(rf"^https?://{shop.account}\.myvtex\.com/"))
    # A catalog error is fixed where the Edit menu's "Edit information" leads.
    edit_menu = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(r"^\s*Edit\s*$"))
    )
    edit_url = edit_menu.get_by_text("Edit information", exact=True).get_attribute("href")
    expect(details.locator(f'a[href="{edit_url}"]')).to_be_visible()
    screens.take(page, "expanded")

    details.get_by_role("link", name="View interaction").click()
    expect(page).to_have_url(
        re.compile(re.escape(f"{shop.error.path}/interactions/{shop.failure_interaction}") + "$")
    )


def test_unmapped_error_has_no_solution_link(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    page.goto(shop.error.path)
    details = open_details(page, NTMAP_ERROR_TITLE)
    expect(described(details, "Code")).to_contain_text("NTMAP-001")
    expect(described(details, "Description")).to_contain_text(NTMAP_ERROR_DESCRIPTION)
    expect(details.get_by_role("link", name="How to solve")).to_have_count(0)
    expect(details.get_by_role("link", name="View interaction")).to_be_visible()


def test_why_this_status_explains_the_history_with_its_interactions(
    seller_page: Page, shop: Shop
) -> None:
    page = seller_page
    page.goto(shop.error.path)
    why = section(page, "Why this status")
    items = why.locator("li")
    expect(items).to_have_count(2)  # sending at first, then error
    links = why.get_by_role("link", name="View interaction")
    expect(links).to_have_count(2)
    for link in links.all():
        expect(link).to_have_attribute(
            "href", f"{shop.error.path}/interactions/{shop.failure_interaction}"
        )


def test_interactions_table_links_each_date_to_the_interaction(
    seller_page: Page, shop: Shop
) -> None:
    page = seller_page
    page.goto(shop.error.path)
    table = interactions_table(page)
    expect(table.locator("caption")).to_have_text("Interactions")
    expect(table.locator("thead th")).to_have_text(["Date", "Origin", "New value", "Result"])
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell", name="Catalog", exact=True)).to_be_visible()
    expect(rows.get_by_role("cell", name="Failure", exact=True)).to_be_visible()
    rows.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(f"/interactions/{shop.failure_interaction}$"))


def test_interactions_page_through_ten_at_a_time(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(shop.busy.path)
    rows = interactions_table(page).locator("tbody tr")
    pages = page.locator('nav[aria-label="Interaction pages"]')
    links = rows.locator("td:first-child a")
    seen: list[str | None] = []
    for count in (10, 10, BUSY_INTERACTIONS - 20):
        expect(rows).to_have_count(count)
        seen += [link.get_attribute("href") for link in links.all()]
        if len(seen) < BUSY_INTERACTIONS:
            with page.expect_navigation():
                pages.get_by_role("link", name="Next").click()
    screens.take(page, "busy-last-page")
    expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    assert len(set(seen)) == BUSY_INTERACTIONS, seen
    pages.get_by_role("link", name="Previous").click()
    expect(rows).to_have_count(10)


def test_interaction_filters_narrow_by_origin_and_result(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    page.goto(shop.busy.path)
    form = page.get_by_role("form", name="Filter interactions")
    result = form.get_by_label("Result", exact=True)
    options = [text.strip() for text in result.locator("option").all_inner_texts()]
    assert options == ["Any result", "Success", "Failure", "Notification", "Processing"]
    rows_per_page = form.get_by_label("Rows per page", exact=True)
    options = [text.strip() for text in rows_per_page.locator("option").all_inner_texts()]
    assert options == ["10", "25", "50"]

    rows_per_page.select_option("50")
    form.get_by_label("Origin", exact=True).select_option(label="Price")
    form.get_by_role("button", name="Apply").click()
    rows = interactions_table(page).locator("tbody tr")
    price_count = len(range(0, BUSY_INTERACTIONS, 3))
    expect(rows).to_have_count(price_count)
    for text in rows.all_inner_texts():
        assert "Price" in text, text

    form = page.get_by_role("form", name="Filter interactions")
    form.get_by_label("Origin", exact=True).select_option(index=0)
    form.get_by_label("Result", exact=True).select_option(label="Notification")
    form.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(len(range(3, BUSY_INTERACTIONS, 4)))
    for text in rows.all_inner_texts():
        assert "Notification" in text, text


def test_interaction_rows_show_the_new_value(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    page.goto(shop.synced.path)
    row = interactions_table(page).locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("99.90")
    expect(row.get_by_role("cell", name="Success", exact=True)).to_be_visible()

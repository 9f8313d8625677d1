"""The offer list at /offers: status tabs, filters, sorting, paging and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.ui.browser import Screens
from tests.e2e.ui.seed import MAGALU, NETSHOES, Shop

pytestmark = pytest.mark.e2e

STATUSES = ["Synced", "Sending", "Error", "Unavailable"]
HEADERS = ["Image", "Name", "SKU ID", "Channel", "Status", "Last update"]
CSV_HEADER = (
    "sku_id,name,channel_id,channel_name,status,open_errors,price,sales_price,currency,"
    "inventory,brand,category,product_id,external_offer_id,updated_at"
)
NAME_A_Z = "Name A\u2013Z"  # an en dash, as the page writes it


def showing(first: int, last: int, total: int) -> str:
    return f"Showing {first}\u2013{last} of {total}"


def offers_table(page: Page) -> Locator:
    return page.get_by_role("table", name="Offers")


def column(page: Page, header: str) -> list[str]:
    """The texts of one column of the offer table, top to bottom (of the Name column, the
    names' links alone)."""
    table = offers_table(page)
    headers = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    position = headers.index(header) + 1
    cells = table.locator(f"tbody tr > :nth-child({position})")
    if header == "Name":
        cells = cells.get_by_role("link")
    return [text.strip() for text in cells.all_inner_texts()]


def filters(page: Page) -> Locator:
    return page.get_by_role("search", name="Filter offers")


def apply_filters(page: Page) -> None:
    with page.expect_navigation():
        filters(page).get_by_role("button", name="Apply").click()


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def status_tabs(page: Page) -> Locator:
    return page.locator('nav[aria-label="Offer status"]').get_by_role("link")


def test_status_tabs_count_the_offers_of_each_status(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    expect(page.get_by_role("heading", level=1)).to_have_text("Offers")
    tabs = status_tabs(page)
    expected = [("All", len(shop.offers))] + [(s, shop.count(s)) for s in STATUSES]
    expect(tabs).to_have_count(len(expected))
    for tab, (label, count) in zip(tabs.all(), expected, strict=True):
        expect(tab).to_have_text(re.compile(rf"^\s*{label}\D*\b{count}\b\D*$"))
    expect(tabs.first).to_have_attribute("aria-current", "page")
    screens.take(page, "all")


@pytest.mark.parametrize("status", STATUSES)
def test_status_tab_lists_only_offers_of_that_status(
    seller_page: Page, shop: Shop, status: str
) -> None:
    page = seller_page
    tab = status_tabs(page).filter(has_text=re.compile(rf"^\s*{status}\b"))
    tab.click()
    expect(page).to_have_url(re.compile(rf"[?&]status={status.lower()}\b"))
    expect(tab).to_have_attribute("aria-current", "page")
    expect(status_tabs(page).first).not_to_have_attribute("aria-current", "page")
    expect(offers_table(page).locator("tbody tr")).to_have_count(min(shop.count(status), 25))
    assert set(column(page, "Status")) == {status}


def test_offer_table_links_each_name_to_the_offer_page(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    filters(page).get_by_label("Rows per page", exact=True).select_option("100")
    apply_filters(page)
    table = offers_table(page)
    expect(table.locator("caption")).to_have_text("Offers")
    expect(table.locator("thead th")).to_have_text(HEADERS)
    row = table.locator("tbody tr").filter(has_text=shop.synced.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(shop.synced.sku_id)
    expect(row).to_contain_text(NETSHOES.name)
    expect(row.get_by_role("cell", name="Synced", exact=True)).to_be_visible()
    expect(row.locator("img").first).to_be_visible()
    row.get_by_role("link", name=shop.synced.name).click()
    expect(page).to_have_url(re.compile(re.escape(shop.synced.path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(shop.synced.name)
    screens.take(page, "offer")


def test_search_finds_offers_by_name(seller_page: Page, shop: Shop, screens: Screens) -> None:
    page = seller_page
    filters(page).get_by_label("Search", exact=True).fill("hiking")
    apply_filters(page)
    assert query_of(page)["q"] == ["hiking"]
    expect(filters(page).get_by_label("Search", exact=True)).to_have_value("hiking")
    assert column(page, "Name") == [shop.error.name]
    screens.take(page, "search")


def test_search_finds_an_offer_by_its_sku_id(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    filters(page).get_by_label("Search", exact=True).fill(shop.unavailable.sku_id)
    apply_filters(page)
    assert column(page, "SKU ID") == [shop.unavailable.sku_id]


def test_channel_filter_lists_only_the_offers_of_that_channel(
    seller_page: Page, shop: Shop
) -> None:
    page = seller_page
    channel = filters(page).get_by_label("Channel", exact=True)
    options = [text.strip() for text in channel.locator("option").all_inner_texts()]
    assert options[0] == "All channels"
    assert sorted(options[1:]) == sorted([NETSHOES.name, MAGALU.name])
    channel.select_option(label=NETSHOES.name)
    apply_filters(page)
    names = column(page, "Name")
    assert sorted(names) == sorted(o.name for o in shop.offers if o.feed_id == NETSHOES.id)
    assert set(column(page, "Channel")) == {NETSHOES.name}
    expect(filters(page).get_by_label("Channel", exact=True)).to_have_value(NETSHOES.id)


@pytest.mark.parametrize("code", ["CTLG-006", "CTLG-006-001", "NTMAP-001"])
def test_error_code_filter_finds_the_offer_with_that_open_error(
    seller_page: Page, shop: Shop, code: str
) -> None:
    page = seller_page
    filters(page).get_by_label("Error code", exact=True).fill(code)
    apply_filters(page)
    assert column(page, "Name") == [shop.error.name]


def test_origin_filter_finds_offers_by_the_origin_of_their_open_errors(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    origin = filters(page).get_by_label("Origin", exact=True)
    options = [text.strip() for text in origin.locator("option").all_inner_texts()]
    assert options == ["Any origin", "Catalog", "Price", "Inventory"]
    origin.select_option(label="Catalog")
    apply_filters(page)
    assert column(page, "Name") == [shop.error.name]

    filters(page).get_by_label("Origin", exact=True).select_option(label="Price")
    apply_filters(page)
    expect(page.get_by_text("No offers match these filters.")).to_be_visible()
    screens.take(page, "no-match")


def test_brand_and_category_filters_narrow_the_list(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    filters(page).get_by_label("Brand", exact=True).fill("Trailhead")
    apply_filters(page)
    assert sorted(column(page, "Name")) == sorted([shop.error.name, shop.sending.name])

    filters(page).get_by_label("Category", exact=True).fill("Sandals")
    apply_filters(page)
    assert column(page, "Name") == [shop.sending.name]


def test_clear_filters_shows_every_offer_again(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    form = filters(page)
    form.get_by_label("Search", exact=True).fill("no such offer anywhere")
    apply_filters(page)
    expect(page.get_by_text("No offers match these filters.")).to_be_visible()
    filters(page).get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/offers$"))
    expect(filters(page).get_by_label("Search", exact=True)).to_have_value("")
    expect(offers_table(page).locator("tbody tr")).to_have_count(25)


def test_sort_orders_by_name_or_by_sku_id(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    sort = filters(page).get_by_label("Sort", exact=True)
    options = [text.strip() for text in sort.locator("option").all_inner_texts()]
    assert options == [
        "Last update, newest first",
        "Last update, oldest first",
        NAME_A_Z,
        "SKU ID",
        "Longest in their status",
    ]
    filters(page).get_by_label("Rows per page", exact=True).select_option("100")
    sort.select_option(label=NAME_A_Z)
    apply_filters(page)
    named = sorted(o.name for o in shop.offers if o.name)
    assert [name for name in column(page, "Name") if name in named] == named

    filters(page).get_by_label("Sort", exact=True).select_option(label="SKU ID")
    apply_filters(page)
    assert column(page, "SKU ID") == sorted(o.sku_id for o in shop.offers)

    filters(page).get_by_label("Sort", exact=True).select_option(label="Last update, oldest first")
    apply_filters(page)
    assert column(page, "SKU ID")[0] == shop.synced.sku_id


def test_pagination_walks_through_the_offers(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    total = len(shop.offers)
    pagination = page.locator('nav[aria-label="Pagination"]')
    expect(pagination).to_contain_text(showing(1, 25, total))
    first_page = column(page, "SKU ID")
    pagination.get_by_role("link", name="Next").click()
    expect(pagination).to_contain_text(showing(26, total, total))
    second_page = column(page, "SKU ID")
    assert len(second_page) == total - 25
    assert sorted(first_page + second_page) == sorted(o.sku_id for o in shop.offers)
    expect(pagination.get_by_role("link", name="Next")).to_have_count(0)
    screens.take(page, "page-2")
    pagination.get_by_role("link", name="Previous").click()
    expect(pagination).to_contain_text(showing(1, 25, total))
    assert column(page, "SKU ID") == first_page


def test_pages_after_the_first_keep_the_status_and_filters(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    status_tabs(page).filter(has_text=re.compile(r"^\s*Synced\b")).click()
    filters(page).get_by_label("Channel", exact=True).select_option(label=MAGALU.name)
    apply_filters(page)
    synced_on_magalu = [o for o in shop.offers if o.status == "Synced" and o.feed_id == MAGALU.id]
    pagination = page.locator('nav[aria-label="Pagination"]')
    expect(pagination).to_contain_text(showing(1, 25, len(synced_on_magalu)))
    with page.expect_navigation():
        pagination.get_by_role("link", name="Next").click()
    assert query_of(page)["status"] == ["synced"]
    assert query_of(page)["channel"] == [MAGALU.id]
    expect(pagination).to_contain_text(showing(26, len(synced_on_magalu), len(synced_on_magalu)))
    assert set(column(page, "Status")) == {"Synced"}
    assert set(column(page, "Channel")) == {MAGALU.name}


def test_rows_per_page_shows_more_offers(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    rows = filters(page).get_by_label("Rows per page", exact=True)
    options = [text.strip() for text in rows.locator("option").all_inner_texts()]
    assert options == ["25", "50", "100"]
    rows.select_option("50")
    apply_filters(page)
    total = len(shop.offers)
    expect(offers_table(page).locator("tbody tr")).to_have_count(total)
    expect(page.locator('nav[aria-label="Pagination"]')).to_contain_text(showing(1, total, total))


def test_export_csv_holds_the_filtered_offers(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    status_tabs(page).filter(has_text=re.compile(r"^\s*Error\b")).click()
    filters(page).get_by_label("Search", exact=True).fill("boot")
    apply_filters(page)
    export = page.get_by_role("link", name="Export CSV")
    href = export.get_attribute("href")
    assert href is not None
    assert href.startswith("/offers.csv?"), href
    exported = parse_qs(urlparse(href).query)
    assert exported["status"] == ["error"]
    assert exported["q"] == ["boot"]

    with page.expect_download() as downloading:
        export.click()
    path = downloading.value.path()
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["sku_id"] == shop.error.sku_id
    assert row["name"] == shop.error.name
    assert row["channel_id"] == NETSHOES.id
    assert row["channel_name"] == NETSHOES.name
    assert row["status"].lower() == "error"
    assert row["open_errors"] == "2"
    assert row["brand"] == "Trailhead"


def test_export_csv_of_all_offers_has_one_row_per_offer(seller_page: Page, shop: Shop) -> None:
    page = seller_page
    response = page.request.get("/offers.csv")
    assert response.ok, response.status
    assert "text/csv" in response.headers["content-type"]
    rows = list(csv.DictReader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert sorted(r["sku_id"] for r in rows) == sorted(o.sku_id for o in shop.offers)
    synced = next(r for r in rows if r["sku_id"] == shop.synced.sku_id)
    assert synced["price"] == "124.90"
    assert synced["sales_price"] == "99.90"
    assert synced["currency"] == "BRL"
    assert synced["inventory"] == "7"
    assert synced["external_offer_id"] == "NS-1001"

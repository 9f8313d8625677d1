"""The interaction page: ids, result, errors, the timeline of logs and their evidence."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.ui.browser import Screens, described, headed_by_badge, section
from tests.e2e.ui.seed import (
    AGENT,
    CTLG_ERROR_TITLE,
    EVIDENCE_REQUEST,
    EVIDENCE_RESPONSE,
    FAILURE_DESCRIPTION,
    NTMAP_ERROR_TITLE,
    Shop,
)

pytestmark = pytest.mark.e2e


def interaction_path(shop: Shop, interaction_id: str) -> str:
    return f"{shop.error.path}/interactions/{interaction_id}"


def timeline(page: Page) -> Locator:
    return page.locator('ol[aria-label="Logs"] > li')


def test_failed_interaction_shows_its_ids_result_and_errors(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(interaction_path(shop, shop.failure_interaction))
    main = page.locator("main")
    expect(described(main, "ID on VTEX")).to_have_text(shop.error.sku_id)
    expect(described(main, "ID on the channel")).to_be_attached()
    expect(described(main, "Interaction ID")).to_have_text(shop.failure_interaction)
    result = section(page, "Result")
    expect(result).to_have_text(headed_by_badge("Result", "Failure"))
    errors = result.locator("details")
    expect(errors).to_have_count(2)
    expect(errors.locator("summary").nth(0)).to_contain_text(CTLG_ERROR_TITLE)
    expect(errors.locator("summary").nth(1)).to_contain_text(NTMAP_ERROR_TITLE)
    screens.take(page, "failure")


def test_timeline_lists_logs_in_order_with_type_date_description_and_agent(
    seller_page: Page, shop: Shop
) -> None:
    page = seller_page
    page.goto(interaction_path(shop, shop.failure_interaction))
    expect(page.get_by_role("heading", level=2, name="Timeline")).to_be_visible()
    logs = timeline(page)
    expect(logs).to_have_count(2)
    first, second = logs.all()
    expect(first.get_by_text("Info", exact=True)).to_be_visible()
    expect(first).to_contain_text("Sending the product to the channel")
    expect(second.get_by_text("Failure", exact=True)).to_be_visible()
    expect(second).to_contain_text(FAILURE_DESCRIPTION)
    for log in (first, second):
        expect(log).to_contain_text(f"Agent: {AGENT}")
        expect(log.locator("time")).to_have_count(1)
    # Only the log that carries evidence offers it.
    expect(first.get_by_role("button", name="View evidence")).to_have_count(0)
    expect(second.get_by_role("button", name="View evidence")).to_have_count(1)


def test_evidence_dialog_shows_request_and_response_and_closes(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(interaction_path(shop, shop.failure_interaction))
    button = page.get_by_role("button", name="View evidence")
    button.click()
    dialog = page.get_by_role("dialog", name="Evidence")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=3, name="Request")).to_be_visible()
    expect(dialog.get_by_role("heading", level=3, name="Response")).to_be_visible()
    pres = dialog.locator("pre")
    expect(pres).to_have_count(2)
    expect(pres.nth(0)).to_have_text(EVIDENCE_REQUEST)
    expect(pres.nth(1)).to_have_text(EVIDENCE_RESPONSE)
    screens.take(page, "evidence")

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    button.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()


def test_successful_interaction_shows_success_and_no_errors(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(f"{shop.synced.path}/interactions/{shop.success_interaction}")
    result = section(page, "Result")
    expect(result).to_have_text(headed_by_badge("Result", "Success"))
    expect(result.locator("details")).to_have_count(0)
    logs = timeline(page)
    expect(logs).to_have_count(1)
    expect(logs.get_by_text("Success", exact=True)).to_be_visible()
    expect(logs).to_contain_text("Price accepted by the channel")
    screens.take(page, "success")


def test_unknown_interaction_is_not_found(seller_page: Page, shop: Shop) -> None:
    response = seller_page.goto(interaction_path(shop, "0" * 32))
    assert response is not None
    assert response.status == 404


def test_purged_interaction_answers_410_details_expired(
    seller_page: Page, shop: Shop, screens: Screens
) -> None:
    page = seller_page
    page.goto(shop.unavailable.path)
    why = section(page, "Why this status")
    expired_link = why.locator(f'a[href$="/interactions/{shop.expired_interaction}"]')
    expect(expired_link.first).to_have_text("View interaction")
    expect(expired_link.first).to_be_visible()
    with page.expect_response(re.compile(shop.expired_interaction)) as answered:
        expired_link.first.click()
    assert answered.value.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Interaction details expired")
    screens.take(page, "expired")

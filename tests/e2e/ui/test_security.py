"""What connectors send is shown as text, never run; UI responses carry a strict CSP."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from sentoffers.client import (
    InteractionCreate,
    LogCreate,
    SentOffersClient,
    evidence,
)
from tests.e2e.ui.browser import DESKTOP, Browsing, Screens, sign_in
from tests.e2e.ui.seed import AGENT, NETSHOES, Seller, Shop

pytestmark = pytest.mark.e2e

SCRIPT = "<script>window.__pwned=1</script>"
IMAGE = '<img src=x onerror="window.__pwned=1">'
NAME = f"Boot {IMAGE} {SCRIPT}"
DESCRIPTION = f"Refused: {SCRIPT} and {IMAGE}"
SKU = "6001"


def hostile_offer(admin: SentOffersClient, seller: Seller) -> str:
    """An offer named with markup, whose failure log's description, error and evidence hold
    script payloads. Returns the interaction's id."""
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
                "type": "failure",
                "description": DESCRIPTION,
                "agent": f"{AGENT} {IMAGE}",
                "data": {"name": NAME, "brand": SCRIPT, "category": IMAGE},
                "evidence": evidence(request=SCRIPT, response=IMAGE).model_dump(),
                "errors": [
                    {
                        "code": "NTMAP-001",
                        "title": f"Unmapped {SCRIPT}",
                        "description": f"Answer {IMAGE}",
                    }
                ],
            }
        ),
    ).raise_for_errors()
    return opened.id


def assert_not_run(page: Page) -> None:
    assert page.evaluate("() => window.__pwned") is None, f"a payload ran on {page.url}"
    assert page.locator('img[src="x"], main script').count() == 0, f"markup injected: {page.url}"


def test_markup_from_connectors_is_shown_as_text_and_never_runs(
    admin: SentOffersClient,
    make_seller: Callable[[str], Seller],
    browsing: Browsing,
    screens: Screens,
) -> None:
    seller = make_seller("xss")
    interaction = hostile_offer(admin, seller)
    page = browsing.page(DESKTOP)
    sign_in(page, seller.account, seller.viewer)

    expect(page.get_by_role("table", name="Offers")).to_contain_text(NAME)
    assert_not_run(page)
    screens.take(page, "list")

    page.goto(f"/offers?q={SKU}&brand={SCRIPT}")
    expect(page.get_by_role("search", name="Filter offers").get_by_label("Brand")).to_have_value(
        SCRIPT
    )
    assert_not_run(page)

    page.goto(f"/offers/{NETSHOES.id}/{SKU}")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    details = page.locator("details").filter(has_text="Unmapped")
    details.locator("summary").click()
    expect(details).to_contain_text(f"Unmapped {SCRIPT}")
    expect(details).to_contain_text(f"Answer {IMAGE}")
    assert_not_run(page)
    screens.take(page, "offer")

    page.goto(f"/offers/{NETSHOES.id}/{SKU}/interactions/{interaction}")
    log = page.locator('ol[aria-label="Logs"] > li')
    expect(log).to_contain_text(DESCRIPTION)
    expect(log).to_contain_text(f"Agent: {AGENT} {IMAGE}")
    log.get_by_role("button", name="View evidence").click()
    dialog = page.get_by_role("dialog", name="Evidence")
    expect(dialog.locator("pre").nth(0)).to_have_text(SCRIPT)
    expect(dialog.locator("pre").nth(1)).to_have_text(IMAGE)
    assert_not_run(page)
    screens.take(page, "evidence")

    exported = page.request.get(f"/offers.csv?q={SKU}").text().lstrip("\ufeff")
    assert [row["name"] for row in csv.DictReader(io.StringIO(exported))] == [NAME]


def content_security_policy(page: Page, path: str) -> str:
    response = page.goto(path)
    assert response is not None
    policy = response.headers.get("content-security-policy")
    assert policy, f"{path} answered {response.status} without a Content-Security-Policy"
    return policy


@pytest.mark.parametrize(
    "path",
    [
        "/signin",
        "/offers",
        "/offers?status=error",
        "offer",
        "interaction",
        "expired",
        "/offers/vtex.netshoes/no-such-sku",
    ],
)
def test_ui_pages_forbid_scripts_from_anywhere_but_the_service(
    seller_page: Page, shop: Shop, path: str
) -> None:
    concrete = {
        "offer": shop.error.path,
        "interaction": f"{shop.error.path}/interactions/{shop.failure_interaction}",
        "expired": f"{shop.unavailable.path}/interactions/{shop.expired_interaction}",
    }.get(path, path)
    policy = content_security_policy(seller_page, concrete)
    directives = {
        name: value.strip()
        for name, _, value in (d.strip().partition(" ") for d in policy.split(";") if d.strip())
    }
    assert directives.get("script-src") == "'self'", policy


def test_signed_out_sign_in_page_has_the_policy_too(browsing: Browsing) -> None:
    page = browsing.page(DESKTOP)
    assert re.search(r"script-src 'self'", content_security_policy(page, "/signin"))

"""The decisions of "How to keep prices updated", step by step, without I/O."""

from __future__ import annotations

from typing import Any

import pytest

from sentoffers.client import KnownCode
from sentoffers.connector import decisions as decide
from sentoffers.connector.decisions import Route
from sentoffers.connector.model import (
    InvalidNotification,
    Listing,
    Notification,
    OfferValues,
    SkuRecord,
    SkuState,
    VtexProduct,
    VtexSku,
    parse_notification,
)
from sentoffers.connector.sweep import stale_inventory
from sentoffers.connector.vtex import Simulation, read_simulation
from sentoffers.domain.model import Context, DataStatus, Origin
from sentoffers.sandbox.adapter import SampleMarketplaceAdapter

ACCOUNT = "acme"


def notified(**flags: Any) -> Notification:
    return Notification("2000001", ACCOUNT, product_id="1001", **flags)


def listed(**fields: Any) -> SkuRecord:
    values: dict[str, Any] = {"marketplace_id": "MKT-000001", "inventory": 5, **fields}
    return SkuRecord(ACCOUNT, "2000001", SkuState.SYNCED, **values)


def vtex_sku(**raw: Any) -> VtexSku:
    return VtexSku(
        id="2000001",
        product_id="1001",
        is_active=raw.pop("IsActive", True),
        is_product_active=raw.pop("IsProductActive", True),
        sales_channels=frozenset(raw.pop("SalesChannels", [1])),
        raw=raw,
    )


def vtex_product(active: bool = True, category_id: int | None = 10) -> VtexProduct:
    return VtexProduct("1001", active, category_id, {"Id": 1001, "Name": "Norvik Phone Pro"})


def listing(category: str | None = "electronics.phones") -> Listing:
    return Listing(
        "2000001", {"title": "Norvik Phone", "images": ["http://i/1.jpg"], "brand": "Norvik"},
        category_id=10, category_name="Smartphones", category=category,
    )  # fmt: skip


# The notification ------------------------------------------------------------------------


def test_a_notification_is_read_in_vtex_casing_and_in_the_document_s():
    wire = {
        "IdSku": "2000001", "ProductId": 1001, "An": "acme", "IdAffiliate": "SBX",
        "DateModified": "2024-05-02T13:01:22.120", "IsActive": True, "StockModified": False,
        "PriceModified": True, "HasStockKeepingUnitModified": False,
        "HasStockKeepingUnitRemovedFromAffiliate": False,
    }  # fmt: skip
    document = {
        "idSKU": 2000001, "productId": "1001", "an": "acme", "idAffiliate": "SBX",
        "isActive": "true", "PriceModified": "true",
    }  # fmt: skip
    for body in (wire, document):
        read = parse_notification(body)
        assert (read.sku_id, read.account, read.product_id) == ("2000001", "acme", "1001")
        assert read.price_modified
        assert read.is_active
        assert not read.sku_modified


def test_an_unreadable_notification_lists_every_problem():
    with pytest.raises(InvalidNotification) as refused:
        parse_notification({"IsActive": "maybe", "PriceModified": 3})
    problems = " ".join(refused.value.problems)
    assert "IdSku" in problems
    assert "An" in problems
    assert "is_active" in problems
    assert "price_modified" in problems


def test_two_notifications_of_a_sku_add_up_their_flags_and_keep_the_later_state():
    earlier = notified(price_modified=True, removed_from_affiliate=True)
    later = notified(stock_modified=True, is_active=False)
    merged = earlier.merged_with(later)
    assert merged.price_modified
    assert merged.stock_modified
    assert not merged.is_active
    assert not merged.removed_from_affiliate


# Step 2b: which route ----------------------------------------------------------------------


def test_step_2b_a_modified_sku_is_registered_or_updated_in_the_marketplace():
    plan = decide.plan_notification(notified(sku_modified=True), listed())
    assert (plan.route, plan.context) == (Route.REGISTER, Context.ONGOING)
    assert not plan.price
    assert not plan.inventory


def test_step_2b_a_sku_not_listed_yet_is_registered_whatever_changed():
    plan = decide.plan_notification(notified(price_modified=True), None)
    assert (plan.route, plan.context, plan.price, plan.inventory) == (
        Route.REGISTER, Context.SETUP, True, True,
    )  # fmt: skip


def test_step_2b_price_and_stock_changes_of_a_listed_sku_only_update_them():
    plan = decide.plan_notification(notified(price_modified=True), listed())
    assert (plan.route, plan.price, plan.inventory) == (Route.UPDATE, True, False)
    plan = decide.plan_notification(notified(stock_modified=True), listed())
    assert (plan.route, plan.price, plan.inventory) == (Route.UPDATE, False, True)


def test_step_2b_a_blocked_listing_is_registered_again_when_vtex_changes_it():
    plan = decide.plan_notification(
        notified(price_modified=True), listed(active_in_marketplace=False)
    )
    assert plan.route == Route.REGISTER


def test_an_inactive_product_zeroes_inventory_and_blocks_the_offer():
    plan = decide.plan_notification(notified(is_active=False, sku_modified=True), listed())
    assert plan.route == Route.DEACTIVATE
    assert decide.unavailable_data(zeroed=True) == {
        "status": DataStatus.UNAVAILABLE,
        "inventory": "0",
    }


def test_a_sku_removed_from_the_affiliate_is_reported_unavailable():
    plan = decide.plan_notification(notified(removed_from_affiliate=True), listed())
    assert plan.route == Route.REMOVE
    assert decide.unavailable_data(zeroed=False) == {"status": DataStatus.UNAVAILABLE}


def test_the_context_is_setup_until_the_sku_is_listed():
    assert decide.context_for(None) == Context.SETUP
    assert decide.context_for(listed(marketplace_id=None)) == Context.SETUP
    assert decide.context_for(listed()) == Context.ONGOING


# Steps 2d and 2e ---------------------------------------------------------------------------


def test_step_2d_a_product_is_active_only_if_vtex_says_so_of_product_and_sku():
    assert decide.is_active(vtex_sku(), vtex_product())
    assert not decide.is_active(vtex_sku(), vtex_product(active=False))
    assert not decide.is_active(vtex_sku(IsActive=False), vtex_product())
    assert not decide.is_active(vtex_sku(IsProductActive=False), vtex_product())


def test_step_2e_the_sku_must_be_in_the_trade_policy_of_the_integration():
    assert decide.is_in_trade_policy(vtex_sku(SalesChannels=[1, 2]), 1)
    assert not decide.is_in_trade_policy(vtex_sku(SalesChannels=[2]), 1)


# Steps 2f, 2g, 2h: every problem at once ---------------------------------------------------


def test_every_registration_error_is_reported_at_once():
    adapter = SampleMarketplaceAdapter("http://m", "id", "secret", sender=None)  # type: ignore[arg-type]
    bad = Listing(
        "2000001",
        {
            "sku": "2000001", "title": "Phone", "description": "<p>" + "x" * 4001 + "</p>",
            "brand": "Norvik", "category": None, "ean": "7891234567890", "images": [],
            "dimensions": {"height": 0, "width": 1, "length": 1, "weight": 0},
        },
        category_id=70, category_name="Coins", category=None,
    )  # fmt: skip
    problems = decide.registration_problems(
        adapter.check_listing(bad), bad, None, "ORD027 no price"
    )
    codes = sorted(problem.full_code for problem in problems)
    assert codes == [
        "CTLG-004-001", "CTLG-006-001", "CTLG-006-002", "CTLG-007-001", "CTLG-008-002",
        "CTLG-008-005", "CTLG-010-001", "PRICE-001-001",
    ]  # fmt: skip
    assert decide.state_after_failure(problems) == SkuState.AWAITING_CATEGORY


def test_an_unmapped_category_waits_in_the_approval_queue():
    problem = decide.category_problem(listing(category=None))
    assert problem is not None
    assert (problem.code, problem.suffix) == (KnownCode.CTLG_004, "001")
    assert "approval queue" in problem.description
    assert decide.state_after_failure([problem]) == SkuState.AWAITING_CATEGORY
    assert decide.category_problem(listing()) is None


def test_step_2h_price_sales_price_and_stock_come_from_the_fulfillment_simulation():
    raw = {
        "items": [
            {"id": "2000001", "price": 12990, "listPrice": 14990, "sellingPrice": 11690,
             "availability": "available"},
            {"id": "2000002", "price": 5000, "listPrice": 5000, "sellingPrice": 5000,
             "availability": "withoutStock"},
        ],
        "logisticsInfo": [
            {"itemIndex": 0, "stockBalance": 17}, {"itemIndex": 1, "stockBalance": 0},
        ],
        "messages": [{"code": "ORD027", "text": "Item 2000003 indisponível",
                      "fields": {"id": "2000003"}}],
    }  # fmt: skip
    simulation = read_simulation(raw, ["2000001", "2000002", "2000003"])
    assert simulation.values["2000001"] == OfferValues(12990, 14990, 11690, 17)
    assert simulation.values["2000002"] == OfferValues(5000, 5000, 5000, 0)
    assert simulation.values["2000003"] is None
    assert "ORD027" in simulation.reasons["2000003"]


def test_step_2h_a_sku_left_out_of_the_simulation_has_no_price_in_the_trade_policy():
    problem = decide.no_price_problem("ORD027")
    assert problem.full_code == "PRICE-001-001"
    assert set(problem.closable_origins) == {Origin.CATALOG, Origin.PRICE}


# What is reported ----------------------------------------------------------------------------


def test_both_ids_are_reported_when_they_differ():
    data = decide.catalog_data(listing(), "MKT-000042", "1001")
    assert data["externalOfferId"] == "MKT-000042"
    assert (data["productId"], data["status"]) == ("1001", DataStatus.SYNCED)


def test_success_logs_carry_the_new_price_or_inventory():
    values = OfferValues(12990, 14990, 11690, 17)
    assert decide.price_data(values, "BRL") == {
        "status": DataStatus.SYNCED, "price": "129.90", "salesPrice": "116.90", "currency": "BRL",
    }  # fmt: skip
    assert decide.inventory_data(0) == {"status": DataStatus.SYNCED, "inventory": "0"}
    assert (decide.money(5), decide.money(100), decide.money(-250)) == ("0.05", "1.00", "-2.50")


# The states table: nothing loops forever ---------------------------------------------------


def test_a_parked_notification_waits_longer_each_time_and_is_given_up_at_last():
    waits = [decide.contingency_delay(attempt, jitter=0.0) for attempt in range(1, 8)]
    assert all(wait is not None for wait in waits)
    assert waits == sorted(waits)  # type: ignore[type-var]
    assert waits[0] == pytest.approx(2.5)
    assert decide.contingency_delay(8, jitter=0.5) is None


def test_the_inventory_sweep_picks_the_skus_whose_stock_moved():
    records = [listed(inventory=5), SkuRecord(ACCOUNT, "2000002", SkuState.SYNCED, inventory=3)]
    simulation = Simulation({"2000001": OfferValues(1, 1, 1, 5), "2000002": None}, {})
    assert [r.sku_id for r in stale_inventory(records, simulation)] == ["2000002"]

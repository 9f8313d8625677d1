"""The decisions of "How to keep prices updated", step by step, as pure functions.

The pipeline does the I/O and asks these what to do: which route a notification takes,
whether a product is active and in the trade policy, which problems stop a SKU (all of them
at once), what a simulation says, what to tell the service, when to try again and when to
stop. Each is tested on its own (``tests/unit/test_connector_decisions.py``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sentoffers.client import KnownCode
from sentoffers.client.retry import RetryPolicy, backoff
from sentoffers.connector.model import (
    Listing,
    Notification,
    OfferValues,
    ReportedError,
    SkuRecord,
    SkuState,
    VtexProduct,
    VtexSku,
)
from sentoffers.domain.model import Context, DataStatus, Origin

__all__ = [
    "CONTINGENCY_POLICY",
    "Plan",
    "Route",
    "catalog_data",
    "category_problem",
    "context_for",
    "contingency_delay",
    "describe_data",
    "inventory_data",
    "is_active",
    "is_in_trade_policy",
    "money",
    "no_price_problem",
    "plan_notification",
    "price_data",
    "registration_problems",
    "sku_description",
    "state_after_failure",
    "unavailable_data",
]


class Route(enum.StrEnum):
    """What a notification leads to."""

    REMOVE = "remove"
    """``HasStockKeepingUnitRemovedFromAffiliate``: block it, report it Unavailable."""
    DEACTIVATE = "deactivate"
    """``IsActive`` false: zero the inventory, block the offer, report it Unavailable."""
    REGISTER = "register"
    """Register or update the product (steps 2c to 2h, then send)."""
    UPDATE = "update"
    """Only price and/or stock changed on a SKU already listed."""


@dataclass(frozen=True, slots=True)
class Plan:
    """The route, the interaction context, and whether price and stock are to be reported."""

    route: Route
    context: Context
    price: bool
    inventory: bool


def context_for(record: SkuRecord | None) -> Context:
    """``setup`` until the SKU is listed in the marketplace, ``ongoing`` afterwards."""
    listed = record is not None and record.marketplace_id is not None
    return Context.ONGOING if listed else Context.SETUP


def plan_notification(notification: Notification, record: SkuRecord | None) -> Plan:
    """Step 2b: the route of a notification, given what the states table knows of the SKU.

    A SKU not listed yet (or blocked) is registered whatever changed: a price or stock
    cannot be updated on a listing that does not exist.
    """
    context = context_for(record)
    if notification.removed_from_affiliate:
        return Plan(Route.REMOVE, context, False, False)
    if not notification.is_active:
        return Plan(Route.DEACTIVATE, context, False, False)
    listed = record is not None and record.marketplace_id is not None
    live = listed and record is not None and record.active_in_marketplace
    if notification.sku_modified or not live:
        new = not listed
        return Plan(
            Route.REGISTER,
            context,
            price=new or notification.price_modified,
            inventory=new or notification.stock_modified,
        )
    if not (notification.price_modified or notification.stock_modified):
        # A notification that names no change: refresh both.
        return Plan(Route.UPDATE, context, True, True)
    return Plan(Route.UPDATE, context, notification.price_modified, notification.stock_modified)


def queue_context(notification: Notification, *, listed: bool) -> str:
    """The queue a notification's work goes to: ``catalog``, ``price`` or ``inventory``.

    Whatever needs the catalog (a changed SKU, one not listed yet, one to block or take
    down) goes to the catalog queue, whose registration carries the price and stock too;
    so a price or stock update only ever goes out for a SKU the marketplace already has.
    """
    catalog = (
        notification.sku_modified
        or not listed
        or notification.removed_from_affiliate
        or not notification.is_active
    )
    if catalog:
        return "catalog"
    if notification.price_modified or not notification.stock_modified:
        return "price"
    return "inventory"


def is_active(sku: VtexSku, product: VtexProduct) -> bool:
    """Step 2d: the product (Get Product's ``IsActive``) and the SKU are both active."""
    return product.is_active and sku.is_active and sku.is_product_active


def is_in_trade_policy(sku: VtexSku, sales_channel: int) -> bool:
    """Step 2e: the SKU's ``SalesChannels`` hold the trade policy of the integration."""
    return sales_channel in sku.sales_channels


def category_problem(listing: Listing) -> ReportedError | None:
    """Step 2g: an unmapped category is an error until the seller maps it."""
    if listing.category is not None:
        return None
    name = listing.category_name or "?"
    return ReportedError(
        KnownCode.CTLG_004,
        "001",
        f"The VTEX category {name} ({listing.category_id}) is not mapped to a category of the "
        "marketplace; the SKU waits in the approval queue until it is.",
        external_code="category.unmapped",
        field="category",
        closable_origins=(Origin.CATALOG,),
    )


def no_price_problem(reason: str) -> ReportedError:
    """Step 2h: the simulation left the SKU out: it has no price in the trade policy."""
    return ReportedError(
        KnownCode.PRICE_001,
        "001",
        f"The SKU has no price in the trade policy of the integration ({reason}).",
        external_code="simulation.no_price",
        field="price",
        closable_origins=(Origin.CATALOG, Origin.PRICE),
    )


def registration_problems(
    rule_problems: Iterable[ReportedError],
    listing: Listing,
    values: OfferValues | None,
    reason: str,
) -> list[ReportedError]:
    """Steps 2f, 2g and 2h together: every problem that stops the SKU, found at once.

    The marketplace's rules (2f), the category mapping (2g) and the price in the trade policy
    (2h): the seller gets the whole list to fix before anything is published.
    """
    found = list(rule_problems)
    unmapped = category_problem(listing)
    if unmapped is not None:
        found.append(unmapped)
    if values is None:
        found.append(no_price_problem(reason))
    return found


def money(cents: int) -> str:
    """Cents as the service's decimal text (``12990`` -> ``129.90``)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def catalog_data(listing: Listing, marketplace_id: str, product_id: str) -> dict[str, Any]:
    """A catalog success log's data: both ids and what describes the offer."""
    fields = listing.fields
    images = fields.get("images") or []
    data: dict[str, Any] = {
        "status": DataStatus.SYNCED,
        "externalOfferId": marketplace_id,
        "name": fields.get("title") or None,
        "image": images[0] if images else None,
        "productId": product_id,
        "brand": fields.get("brand") or None,
        "category": listing.category_name or listing.category,
    }
    return {key: value for key, value in data.items() if value is not None}


def sku_description(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What describes a SKU, read from VTEX's SKU and context (for logs that send nothing)."""
    path = str(raw.get("ProductCategoryIds") or "").strip("/").split("/")
    names = raw.get("ProductCategories") or {}
    found = {
        "name": raw.get("NameComplete") or raw.get("SkuName"),
        "image": raw.get("ImageUrl"),
        "productId": str(raw["ProductId"]) if raw.get("ProductId") is not None else None,
        "brand": raw.get("BrandName"),
        "category": names.get(path[-1]) if isinstance(names, Mapping) and path[-1] else None,
    }
    return {key: value for key, value in found.items() if value}


def describe_data(listing: Listing, product_id: str) -> dict[str, Any]:
    """What describes the SKU, for a log that is not a success (the offer's name, image)."""
    data = catalog_data(listing, "", product_id)
    data.pop("status")
    data.pop("externalOfferId")
    return data


def price_data(values: OfferValues, currency: str) -> dict[str, Any]:
    """A price success log's data: price and sales price as the service keeps them."""
    return {
        "status": DataStatus.SYNCED,
        "price": money(values.price),
        "salesPrice": money(values.selling_price),
        "currency": currency,
    }


def inventory_data(quantity: int) -> dict[str, Any]:
    """An inventory success log's data."""
    return {"status": DataStatus.SYNCED, "inventory": str(quantity)}


def unavailable_data(
    *, zeroed: bool, description: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Data that makes the offer Unavailable (and says the stock is 0 when it was zeroed),
    with what describes the SKU when it is known."""
    data: dict[str, Any] = {**(description or {}), "status": DataStatus.UNAVAILABLE}
    if zeroed:
        data["inventory"] = "0"
    return data


CONTINGENCY_POLICY = RetryPolicy(
    max_attempts=8, backoff_base=5.0, backoff_max=600.0, total_timeout=float("inf")
)
"""Notifications parked in contingency: tried again after 5 s, 10 s, ... up to 10 min, at most
8 times in all; then given up (the states table says so)."""


def contingency_delay(
    attempt: int, jitter: float, policy: RetryPolicy = CONTINGENCY_POLICY
) -> float | None:
    """Seconds before a parked notification is tried again, or ``None`` to give up.

    ``attempt`` counts the tries so far (1 after the first failure). The wait is at least
    half the backoff, so a parked notification never comes straight back.
    """
    if attempt >= policy.max_attempts:
        return None
    return backoff(attempt, policy, 0.5 + jitter / 2)


def state_after_failure(problems: Sequence[ReportedError]) -> SkuState:
    """An unmapped category waits in the approval queue; other problems are errors."""
    if any(p.code == KnownCode.CTLG_004 and p.suffix == "001" for p in problems):
        return SkuState.AWAITING_CATEGORY
    return SkuState.ERROR

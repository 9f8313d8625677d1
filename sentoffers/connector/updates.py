"""Price and stock of a SKU already listed: the simulation, then the marketplace's update
calls, each origin in its own interaction (``PriceModified``, ``StockModified``, the sweep)."""

from __future__ import annotations

from dataclasses import replace

from sentoffers.connector import decisions as decide
from sentoffers.connector.decisions import Plan
from sentoffers.connector.marketplace import Marketplace, MarketplaceRefused
from sentoffers.connector.model import Notification, OfferValues, SkuRecord, SkuState, Store
from sentoffers.connector.report import Draft, Run, describe_simulation
from sentoffers.connector.vtex import VtexClient
from sentoffers.domain.model import Origin

__all__ = ["update_values"]


async def update_values(
    marketplace: Marketplace,
    vtex: VtexClient,
    run: Run,
    store: Store,
    n: Notification,
    plan: Plan,
    record: SkuRecord,
) -> SkuRecord:
    """Report a price interaction and/or an inventory interaction; ``ListingGone`` goes up
    (the pipeline lists the SKU again)."""
    listing_id = record.marketplace_id
    assert listing_id is not None
    simulation, read = await vtex.simulate_one(n.sku_id)
    values = simulation.values.get(n.sku_id)
    said = describe_simulation(values, simulation.reasons.get(n.sku_id, ""), store.sales_channel)
    failed: list[str] = []
    if plan.price:
        draft = run.begin(Origin.PRICE)
        draft.retries(read, "VTEX fulfillment simulation")
        draft.info(said, read)
        if values is None:
            problem = decide.no_price_problem(simulation.reasons.get(n.sku_id, ""))
            draft.failure(problem.description, [problem])
            failed.append(problem.full_code)
        else:
            failed += await _price(marketplace, draft, store, listing_id, values, n.sku_id)
            record = replace(record, price=values.price, selling_price=values.selling_price)
    if plan.inventory:
        draft = run.begin(Origin.INVENTORY)
        draft.info(said, read)
        quantity = values.inventory if values is not None else 0
        failed += await _inventory(marketplace, draft, listing_id, quantity, n.sku_id)
        record = replace(record, inventory=quantity)
    # The origins just attempted report afresh; errors of the others stay as they were.
    attempted = tuple(
        prefix for prefix, tried in (("PRICE-", plan.price), ("INVNT-", plan.inventory)) if tried
    )
    kept = tuple(code for code in record.error_codes if not code.startswith(attempted))
    codes = tuple(dict.fromkeys((*failed, *kept)))
    state = SkuState.ERROR if codes else SkuState.SYNCED
    return replace(record, state=state, error_codes=codes, attempts=0, last_response=said)


async def _price(
    marketplace: Marketplace,
    draft: Draft,
    store: Store,
    listing_id: str,
    values: OfferValues,
    sku_id: str,
) -> list[str]:
    try:
        sent = await marketplace.update_price(listing_id, values, sku_id=sku_id)
    except MarketplaceRefused as refused:
        draft.failure(
            f"The marketplace refused the price: {refused}", refused.problems, refused.exchange
        )
        return [problem.full_code for problem in refused.problems]
    draft.retries(sent, "The marketplace")
    draft.success(
        f"Price {decide.money(values.selling_price)} {store.currency} updated in the "
        f"marketplace ({listing_id})",
        sent,
        decide.price_data(values, store.currency),
    )
    return []


async def _inventory(
    marketplace: Marketplace, draft: Draft, listing_id: str, quantity: int, sku_id: str
) -> list[str]:
    try:
        sent = await marketplace.update_inventory(listing_id, quantity, sku_id=sku_id)
    except MarketplaceRefused as refused:
        draft.failure(
            f"The marketplace refused the inventory: {refused}", refused.problems, refused.exchange
        )
        return [problem.full_code for problem in refused.problems]
    draft.retries(sent, "The marketplace")
    draft.success(
        f"Inventory {quantity} updated in the marketplace ({listing_id})",
        sent,
        decide.inventory_data(quantity),
    )
    return []

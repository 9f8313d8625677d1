"""The sandbox's own routes on the platform, under ``/_sandbox``: look at and change a catalog.

They are not VTEX's (so they stay out of the OpenAPI), take the same AppKey/AppToken and the
same account rules, and each change is notified to the account's affiliate, if one is set:

- ``GET /_sandbox/skus`` and ``GET /_sandbox/skus/{skuId}``: SKUs with their flaws;
- ``POST /_sandbox/skus/{skuId}/price`` ``{"price", "listPrice"?, "sellingPrice"?,
  "salesChannel"?}`` (cents), ``.../stock`` ``{"quantity"}``,
  ``.../remove-from-trade-policy`` and ``.../add-to-trade-policy`` ``{"salesChannel"?}``;
- ``POST /_sandbox/products/{productId}/deactivate`` and ``.../activate``;
- ``POST /_sandbox/initial-load?wait=true&concurrency=32``: notify every SKU, at most
  ``concurrency`` in flight; ``wait=false`` answers 202 at once and sends in the background;
- ``GET /_sandbox/stats``: the account's requests per VTEX endpoint and per status, and its
  notifications (attempts, delivered, failed, retries, pending, SKUs delivered);
- ``GET /_sandbox/notifications?since=``: per SKU, when its first and last notification was
  delivered (epoch seconds) and how many were, for SKUs delivered at ``since`` or later.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from sentoffers.sandbox.catalog import CatalogChange, SandboxCatalog, UnknownItem
from sentoffers.sandbox.platform import (
    AuthorizedCatalog,
    PlatformError,
    VtexPlatform,
    json_response,
)


class PriceIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    price: int = Field(gt=0)
    list_price: int | None = Field(default=None, gt=0, alias="listPrice")
    selling_price: int | None = Field(default=None, gt=0, alias="sellingPrice")
    sales_channel: int | None = Field(default=None, alias="salesChannel")


class StockIn(BaseModel):
    quantity: int = Field(ge=0)


class TradePolicyIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    sales_channel: int | None = Field(default=None, alias="salesChannel")


def sku_summary(catalog: SandboxCatalog, sku_id: int) -> dict[str, Any]:
    """A SKU as the sandbox sees it: ids, name, stock, trade policies, prices and flaws."""
    sku = catalog.sku(sku_id)
    if sku is None:
        raise UnknownItem(f"no SKU {sku_id}")
    return {
        "skuId": sku.id,
        "productId": sku.product_id,
        "name": sku.name,
        "ean": sku.ean,
        "stock": sku.stock,
        "salesChannels": sorted(sku.sales_channels),
        "prices": {
            str(channel): {
                "listPrice": price.list_price,
                "price": price.price,
                "sellingPrice": price.selling_price,
            }
            for channel, price in sorted(sku.prices.items())
        },
        "flaws": sorted(catalog.flaws(sku_id)),
    }


def control_routes(platform: VtexPlatform) -> APIRouter:
    """The ``/_sandbox`` routes of ``platform``."""

    router = APIRouter(prefix="/_sandbox", include_in_schema=False)

    def changed(catalog: SandboxCatalog, run: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            changes: list[CatalogChange] = run(*args, **kwargs)
        except UnknownItem as error:
            raise PlatformError(404, str(error.args[0])) from None
        return {"account": catalog.account, "changes": len(changes)}

    @router.get("/skus")
    def list_skus(catalog: AuthorizedCatalog) -> list[dict[str, Any]]:
        return [sku_summary(catalog, sku_id) for sku_id in catalog.sku_ids()]

    @router.get("/skus/{sku_id}")
    def get_sku(catalog: AuthorizedCatalog, sku_id: int) -> dict[str, Any]:
        try:
            return sku_summary(catalog, sku_id)
        except UnknownItem as error:
            raise PlatformError(404, str(error.args[0])) from None

    @router.post("/skus/{sku_id}/price")
    def set_price(catalog: AuthorizedCatalog, sku_id: int, body: PriceIn) -> dict[str, Any]:
        return changed(
            catalog,
            catalog.set_price,
            sku_id,
            body.price,
            list_price=body.list_price,
            selling_price=body.selling_price,
            sales_channel=body.sales_channel,
        )

    @router.post("/skus/{sku_id}/stock")
    def set_stock(catalog: AuthorizedCatalog, sku_id: int, body: StockIn) -> dict[str, Any]:
        return changed(catalog, catalog.set_stock, sku_id, body.quantity)

    @router.post("/skus/{sku_id}/remove-from-trade-policy")
    def remove(
        catalog: AuthorizedCatalog,
        sku_id: int,
        body: TradePolicyIn | None = None,
    ) -> dict[str, Any]:
        channel = body.sales_channel if body else None
        return changed(catalog, catalog.remove_from_trade_policy, sku_id, channel)

    @router.post("/skus/{sku_id}/add-to-trade-policy")
    def add(
        catalog: AuthorizedCatalog,
        sku_id: int,
        body: TradePolicyIn | None = None,
    ) -> dict[str, Any]:
        channel = body.sales_channel if body else None
        return changed(catalog, catalog.add_to_trade_policy, sku_id, channel)

    @router.post("/products/{product_id}/deactivate")
    def deactivate(catalog: AuthorizedCatalog, product_id: int) -> dict[str, Any]:
        return changed(catalog, catalog.set_product_active, product_id, False)

    @router.post("/products/{product_id}/activate")
    def activate(catalog: AuthorizedCatalog, product_id: int) -> dict[str, Any]:
        return changed(catalog, catalog.set_product_active, product_id, True)

    @router.post("/initial-load")
    def initial_load(
        catalog: AuthorizedCatalog,
        wait: bool = True,
        concurrency: Annotated[int | None, Query(ge=1, le=256)] = None,
    ) -> Response:
        broadcaster = platform.broadcasters.get(catalog.account)
        if broadcaster is None:
            raise PlatformError(409, f"no affiliate endpoint is set for {catalog.account}")
        if not wait:
            count = broadcaster.start_initial_load(catalog, concurrency=concurrency)
            started = {"account": catalog.account, "notified": count, "started": True}
            return JSONResponse(started, status_code=202)
        deliveries = broadcaster.initial_load(catalog, concurrency=concurrency)
        return JSONResponse(
            {
                "account": catalog.account,
                "notified": len(deliveries),
                "delivered": sum(delivery.delivered for delivery in deliveries),
            }
        )

    @router.get("/stats")
    async def stats(catalog: AuthorizedCatalog) -> Response:
        broadcaster = platform.broadcasters.get(catalog.account)
        return json_response(
            {
                "account": catalog.account,
                "requests": platform.requests.endpoints(catalog.account),
                "statuses": platform.requests.statuses(catalog.account),
                "notifications": broadcaster.stats() if broadcaster else None,
            }
        )

    @router.get("/notifications")
    async def notification_times(
        catalog: AuthorizedCatalog, since: float | None = None
    ) -> Response:
        broadcaster = platform.broadcasters.get(catalog.account)
        times = broadcaster.delivery_times(since) if broadcaster else {}
        return json_response(
            {
                "account": catalog.account,
                "now": time.time(),
                "skus": {
                    str(sku_id): {"first": first, "last": last, "delivered": count}
                    for sku_id, (first, last, count) in sorted(times.items())
                },
            }
        )

    return router

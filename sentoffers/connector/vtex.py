"""The VTEX platform endpoints a connector calls (vtex-platform-subset.openapi.json):

- ``GET /api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}?sc=`` (SKU and context);
- ``GET /api/catalog/pvt/product/{productId}`` (Get Product by ID: ``IsActive``);
- ``GET /api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel?sc=&page=&pageSize=``;
- ``POST /api/checkout/pub/orderForms/simulation?sc=`` (price, sales price and stock).

Every method returns what it read and the ``Exchange`` to show as evidence; an answer that
is not the one expected raises a ``VtexError`` carrying the exchange too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sentoffers import __version__
from sentoffers.connector.http import Sender
from sentoffers.connector.model import Exchange, OfferValues, Store, VtexProduct, VtexSku
from sentoffers.sql.group_commit import GroupCommit

__all__ = [
    "Simulation",
    "VtexAuthRefused",
    "VtexClient",
    "VtexError",
    "VtexNotFound",
    "VtexUnavailable",
]


class VtexError(Exception):
    """VTEX answered something other than what was asked for."""

    def __init__(self, message: str, exchange: Exchange):
        super().__init__(message)
        self.exchange = exchange


class VtexUnavailable(VtexError):
    """No answer, 429 or 5xx after the retries: worth trying again later."""


class VtexAuthRefused(VtexError):
    """401 or 403: the store's AppKey/AppToken are wrong or may not read the account."""


class VtexNotFound(VtexError):
    """404: VTEX does not know the SKU or product."""


@dataclass(frozen=True, slots=True)
class Simulation:
    """Per SKU id: its values, or ``None`` when the simulation left it out (with why)."""

    values: Mapping[str, OfferValues | None]
    reasons: Mapping[str, str]


def _check(exchange: Exchange, what: str) -> Any:
    status = exchange.status
    if status is None or status == 429 or status >= 500:
        raise VtexUnavailable(f"VTEX did not answer {what} ({status or exchange.error})", exchange)
    if status in (401, 403):
        raise VtexAuthRefused(f"VTEX refused the store's credentials for {what}", exchange)
    if status == 404:
        raise VtexNotFound(f"VTEX does not know {what}", exchange)
    assert exchange.response is not None
    if status != 200:
        raise VtexError(f"VTEX answered {status} to {what}", exchange)
    try:
        return exchange.response.json()
    except ValueError:
        raise VtexError(f"VTEX answered {what} with something other than JSON", exchange) from None


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


class VtexClient:
    """One store's VTEX platform (``store.vtex_base_url``, ``{account}`` replaced)."""

    def __init__(self, store: Store, sender: Sender, *, simulation_lot: int = 0):
        self.store = store
        self.sender = sender
        # With ``simulation_lot``, the simulations of the SKUs in flight share one call.
        self._together: GroupCommit[str, tuple[Simulation, Exchange]] | None = None
        if simulation_lot > 1:
            self._together = GroupCommit.sending(
                self._simulate_lot, max_items=simulation_lot, linger=0.02, in_flight=4,
                what="simulated SKUs",
            )  # fmt: skip
        self.base_url = store.vtex_base_url.replace("{account}", store.account).rstrip("/")
        self._headers = {
            "Accept": "application/json",
            "X-VTEX-API-AppKey": store.app_key,
            "X-VTEX-API-AppToken": store.app_token,
            "User-Agent": f"sentoffers-connector/{__version__}",
        }

    def _request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> httpx.Request:
        headers = dict(self._headers)
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body).encode()
        return httpx.Request(
            method, self.base_url + path, params=params, headers=headers, content=content
        )

    async def sku(self, sku_id: str) -> tuple[VtexSku, Exchange]:
        """Step 2c: the SKU and its context, in the store's trade policy."""
        path = f"/api/catalog_system/pvt/sku/stockkeepingunitbyid/{quote(sku_id, safe='')}"
        exchange = await self.sender.send(
            self._request("GET", path, {"sc": self.store.sales_channel}), idempotent=True
        )
        raw = _check(exchange, f"SKU {sku_id}")
        if not isinstance(raw, Mapping):
            raise VtexError(f"VTEX answered SKU {sku_id} with no object", exchange)
        channels = raw.get("SalesChannels") or []
        return (
            VtexSku(
                id=str(raw.get("Id", sku_id)),
                product_id=str(raw.get("ProductId", "")),
                is_active=raw.get("IsActive") is not False,
                is_product_active=raw.get("IsProductActive") is not False,
                sales_channels=frozenset(_int(c, -1) for c in channels if _int(c, -1) >= 0),
                raw=raw,
            ),
            exchange,
        )

    async def product(self, product_id: str) -> tuple[VtexProduct, Exchange]:
        """Step 2d: Get Product by ID, whose ``IsActive`` says whether it is active."""
        path = f"/api/catalog/pvt/product/{quote(product_id, safe='')}"
        exchange = await self.sender.send(self._request("GET", path), idempotent=True)
        raw = _check(exchange, f"product {product_id}")
        if not isinstance(raw, Mapping):
            raise VtexError(f"VTEX answered product {product_id} with no object", exchange)
        category = raw.get("CategoryId")
        return (
            VtexProduct(
                id=str(raw.get("Id", product_id)),
                is_active=raw.get("IsActive") is not False,
                category_id=_int(category) if category is not None else None,
                raw=raw,
            ),
            exchange,
        )

    async def sku_ids(self, page: int = 1, page_size: int = 50) -> tuple[list[str], Exchange]:
        """One page (from 1) of the SKU ids in the store's trade policy."""
        params = {"sc": self.store.sales_channel, "page": page, "pageSize": page_size}
        path = "/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel"
        exchange = await self.sender.send(self._request("GET", path, params), idempotent=True)
        raw = _check(exchange, "the SKU ids of the trade policy")
        if not isinstance(raw, list):
            raise VtexError("VTEX answered the SKU ids with no list", exchange)
        return [str(item) for item in raw], exchange

    async def simulate(self, sku_ids: Sequence[str]) -> tuple[Simulation, Exchange]:
        """Step 2h: fulfillment simulation without a postal code, in the store's trade policy.

        ``price`` is the price, ``sellingPrice`` the sales price, ``listPrice`` the list
        price (cents), ``logisticsInfo[].stockBalance`` the stock. A SKU left out of
        ``items`` has no price, or is not sold, in the trade policy.
        """
        body = {
            "items": [{"id": s, "quantity": 1, "seller": self.store.seller_id} for s in sku_ids],
            "country": None,
            "postalCode": None,
        }
        params = {"sc": self.store.sales_channel, "RnbBehavior": 0}
        request = self._request("POST", "/api/checkout/pub/orderForms/simulation", params, body)
        # A simulation changes nothing: repeating it is harmless.
        exchange = await self.sender.send(request, idempotent=True)
        raw = _check(exchange, "the fulfillment simulation")
        if not isinstance(raw, Mapping):
            raise VtexError("VTEX answered the simulation with no object", exchange)
        return read_simulation(raw, sku_ids), exchange

    async def simulate_one(self, sku_id: str) -> tuple[Simulation, Exchange]:
        """One SKU's simulation: alone, or in a call shared with the other SKUs in flight,
        its evidence then cut down to its own item."""
        if self._together is None:
            return await self.simulate([sku_id])
        return await self._together.submit(sku_id)

    async def _simulate_lot(self, sku_ids: Sequence[str]) -> list[tuple[Simulation, Exchange]]:
        unique = list(dict.fromkeys(sku_ids))
        simulation, exchange = await self.simulate(unique)
        return [(simulation, self._own_part(exchange, sku_id)) for sku_id in sku_ids]

    def _own_part(self, exchange: Exchange, sku_id: str) -> Exchange:
        """The shared simulation as if it had been this SKU's alone."""
        body = {
            "items": [{"id": sku_id, "quantity": 1, "seller": self.store.seller_id}],
            "country": None,
            "postalCode": None,
        }
        request = self._request(
            "POST", "/api/checkout/pub/orderForms/simulation",
            {"sc": self.store.sales_channel, "RnbBehavior": 0}, body,
        )  # fmt: skip
        response = exchange.response
        if response is None:
            return Exchange(request, None, exchange.error, exchange.retries)
        try:
            raw = response.json()
        except ValueError:
            raw = None
        content = response.content
        if isinstance(raw, Mapping):
            content = json.dumps(own_items(raw, sku_id)).encode()
        own = httpx.Response(
            response.status_code, headers={"content-type": "application/json"},
            content=content, request=request,
        )  # fmt: skip
        return Exchange(request, own, exchange.error, exchange.retries)

    async def aclose(self) -> None:
        """Stop sharing simulations (callers still waiting hear it)."""
        if self._together is not None:
            await self._together.stop()


def own_items(raw: Mapping[str, Any], sku_id: str) -> dict[str, Any]:
    """An orderForm cut down to one SKU: its item, its logistics (as item 0), its messages."""
    items = raw.get("items") or []
    index = next(
        (
            i for i, item in enumerate(items)
            if isinstance(item, Mapping) and str(item.get("id")) == sku_id
        ),
        None,
    )  # fmt: skip
    logistics = [
        {**info, "itemIndex": 0}
        for info in raw.get("logisticsInfo") or []
        if isinstance(info, Mapping)
        and index is not None
        and _int(info.get("itemIndex"), -1) == index
    ]
    messages = [
        message
        for message in raw.get("messages") or []
        if isinstance(message, Mapping) and _message_sku(message) == sku_id
    ]
    return {
        **{k: v for k, v in raw.items() if k not in ("items", "logisticsInfo", "messages")},
        "items": [items[index]] if index is not None else [],
        "logisticsInfo": logistics,
        "messages": messages,
    }


def _message_sku(message: Mapping[str, Any]) -> str:
    fields = message.get("fields") or {}
    if not isinstance(fields, Mapping):
        return ""
    return str(fields.get("id") or fields.get("skuId") or "")


def read_simulation(raw: Mapping[str, Any], sku_ids: Iterable[str]) -> Simulation:
    """Each SKU's values from an orderForm; ``None`` (with the message) for those left out."""
    items = raw.get("items") or []
    stock_by_index = {
        _int(info.get("itemIndex"), -1): info
        for info in raw.get("logisticsInfo") or []
        if isinstance(info, Mapping)
    }
    values: dict[str, OfferValues | None] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        price = _int(item.get("price"))
        selling = _int(item.get("sellingPrice"), price) or price
        listed = _int(item.get("listPrice"), price) or price
        logistics = stock_by_index.get(index, {})
        balance = logistics.get("stockBalance")
        if balance is None:
            # Without a stock balance, availability is all there is to read.
            inventory = 1 if item.get("availability") == "available" else 0
        else:
            inventory = max(0, _int(balance))
        if item.get("availability") not in (None, "available"):
            inventory = 0
        values[str(item.get("id"))] = OfferValues(price, listed, selling, inventory)
    reasons: dict[str, str] = {}
    for message in raw.get("messages") or []:
        if isinstance(message, Mapping):
            sku = _message_sku(message)
            if sku:
                reasons[sku] = f"{message.get('code', '')} {message.get('text', '')}".strip()
    for sku_id in sku_ids:
        found = values.get(sku_id)
        if found is None or found.price <= 0:
            values[sku_id] = None
            reasons.setdefault(sku_id, "left out of the simulation's items")
    return Simulation(values, reasons)

"""The adapter of the sandbox's sample marketplace: the example to copy for a real one.

What it shows, in order of the ``Marketplace`` protocol:

- **authentication**: OAuth 2 client credentials (``POST /oauth/token``), the token kept
  until a little before it expires, and asked for again once when a call answers 401;
- **category map**: VTEX category id -> the marketplace's category id, from the seller's
  configuration (``category_map``), unmapped categories answered ``None``;
- **listing**: the field mapping of docs/sample-marketplace.md, with the defaults the
  marketplace accepts where VTEX has nothing (the document's "TotalReader");
- **rules**: the marketplace's published registration rules checked before sending, every
  broken one reported (here they come from ``sentoffers.sandbox.rules``, which *is* this
  marketplace's rule book; a real adapter writes its own);
- **errors**: each error code the marketplace answers mapped to a code of the error-code
  list plus a connector suffix (``KNOWN_ERRORS``), anything else ``NTMAP-001``;
- **limits**: requests paced under the published rate, 429 waited out (``Retry-After``),
  5xx retried, all through the connector's ``Sender`` (and its circuit breaker);
- **lots**: with ``lot_size``, the calls of every SKU in flight go out together as
  ``POST /lots`` of at most ``lot_size`` items (the marketplace's published maximum), each
  caller getting its own item's answer as its evidence: the item it sent and what the
  marketplace said of it. Items are keyed by the seller's SKU, so an upsert sent twice (a
  retry, a crash) still lists the SKU once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from sentoffers import __version__
from sentoffers.client import KnownCode
from sentoffers.connector.http import Sender
from sentoffers.connector.marketplace import (
    ListingGone,
    MarketplaceAuthFailed,
    MarketplaceRefused,
    MarketplaceUnavailable,
    Sent,
)
from sentoffers.connector.model import (
    Exchange,
    Listing,
    OfferValues,
    ReportedError,
    VtexProduct,
    VtexSku,
)
from sentoffers.connector.settings import ConnectorSettings
from sentoffers.domain.model import Origin
from sentoffers.sandbox._data import CATEGORY_MAP, MARKETPLACE_CATEGORIES
from sentoffers.sandbox.rules import MarketplaceRules, listing_errors
from sentoffers.sql.group_commit import GroupCommit

__all__ = ["DEFAULT_BRAND", "KNOWN_ERRORS", "SampleMarketplaceAdapter", "classify"]

DEFAULT_BRAND = "Generic"
"""The brand the marketplace accepts for products whose brand VTEX does not give."""

TOKEN_MARGIN_S = 60.0
"""A token is renewed this long before it expires."""

_CATALOG = (Origin.CATALOG,)
_PRICE = (Origin.PRICE, Origin.CATALOG)
_INVENTORY = (Origin.INVENTORY, Origin.CATALOG)

KNOWN_ERRORS: dict[str, tuple[KnownCode, str, tuple[Origin, ...], str]] = {
    # marketplace code: (code, suffix, origins that clear it, what the seller can do)
    "title.required": (KnownCode.CTLG_009, "001", _CATALOG, "Fill in the SKU or product name."),
    "title.too_long": (KnownCode.CTLG_009, "002", _CATALOG, "Shorten the product name."),
    "title.invalid": (KnownCode.CTLG_009, "003", _CATALOG, "Use plain text in the name."),
    "description.too_long": (
        KnownCode.CTLG_006, "001", _CATALOG, "Cut the description to 4,000 characters.",
    ),
    "description.html": (
        KnownCode.CTLG_006, "002", _CATALOG, "Remove the HTML tags from the description.",
    ),
    "description.required": (KnownCode.CTLG_006, "003", _CATALOG, "Write a description."),
    "description.invalid": (KnownCode.CTLG_006, "004", _CATALOG, "Use plain text."),
    "brand.required": (KnownCode.CTLG_001, "001", _CATALOG, "Give the product a brand."),
    "brand.too_long": (KnownCode.CTLG_001, "002", _CATALOG, "Shorten the brand name."),
    "brand.invalid": (KnownCode.CTLG_001, "003", _CATALOG, "Use plain text in the brand."),
    "category.required": (
        KnownCode.CTLG_004, "002", _CATALOG, "Map the product's category to the marketplace's.",
    ),
    "category.unknown": (
        KnownCode.CTLG_004, "003", _CATALOG, "Map the category to one the marketplace lists.",
    ),
    "ean.invalid": (KnownCode.CTLG_010, "001", _CATALOG, "Fix the EAN (its check digit)."),
    "ean.required": (KnownCode.CTLG_010, "002", _CATALOG, "Fill in the SKU's EAN."),
    "images.required": (KnownCode.CTLG_007, "001", _CATALOG, "Add at least one image."),
    "images.too_many": (KnownCode.CTLG_007, "002", _CATALOG, "Keep 10 images at most."),
    "images.invalid_url": (KnownCode.CTLG_007, "003", _CATALOG, "Use http(s) image URLs."),
    "images.invalid": (KnownCode.CTLG_007, "004", _CATALOG, "Fix the SKU's images."),
    "dimensions.required": (
        KnownCode.CTLG_008, "001", _CATALOG, "Fill in height, width, length and weight.",
    ),
    "dimensions.height.required": (KnownCode.CTLG_008, "002", _CATALOG, "Fill in the height."),
    "dimensions.width.required": (KnownCode.CTLG_008, "003", _CATALOG, "Fill in the width."),
    "dimensions.length.required": (KnownCode.CTLG_008, "004", _CATALOG, "Fill in the length."),
    "dimensions.weight.required": (KnownCode.CTLG_008, "005", _CATALOG, "Fill in the weight."),
    "price.invalid": (KnownCode.PRICE_001, "002", _PRICE, "Set a price above 0."),
    "price.precision": (KnownCode.PRICE_001, "003", _PRICE, "Use at most 2 decimals."),
    "listPrice.invalid": (KnownCode.PRICE_001, "004", _PRICE, "Set a list price above 0."),
    "listPrice.below_price": (
        KnownCode.PRICE_001, "005", _PRICE, "Make the list price at least the price.",
    ),
    "stock.invalid": (KnownCode.INVNT_001, "001", _INVENTORY, "Set a whole stock of 0 or more."),
    "quantity.invalid": (
        KnownCode.INVNT_001, "001", _INVENTORY, "Set a whole stock of 0 or more.",
    ),
    "sku.required": (KnownCode.CTLG_005, "003", _CATALOG, "Contact the connector's support."),
    "sku.immutable": (KnownCode.CTLG_005, "004", _CATALOG, "Contact the connector's support."),
}  # fmt: skip
"""Every error code the sample marketplace answers, classified."""


def classify(error: Mapping[str, Any]) -> ReportedError:
    """One marketplace error (``{"code", "field", "message"}``) as a problem to report."""
    code = str(error.get("code") or "")
    message = str(error.get("message") or code or "the marketplace refused the request")
    known = KNOWN_ERRORS.get(code)
    field = str(error.get("field") or "") or None
    if known is None:
        return ReportedError(
            KnownCode.NTMAP_001, None, message, external_code=code or None, field=field
        )
    base, suffix, origins, _action = known
    return ReportedError(base, suffix, message, code, field, origins)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _cut_title(title: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word when there is one."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0]
    return cut if len(cut) >= limit // 2 else title[:limit]


def _positive(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def money(cents: int) -> float:
    """Cents as the marketplace's major units (``12990`` -> ``129.9``)."""
    return round(cents / 100, 2)


class SampleMarketplaceAdapter:
    """The sample marketplace at ``base_url`` for the OAuth client ``client_id``."""

    vendor = "sentoffers"
    name = "Sample Marketplace"
    logo = (
        "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>"
        "<rect width='32' height='32' rx='6' fill='%23245bdb'/><text x='16' y='22' "
        "font-family='sans-serif' font-size='16' text-anchor='middle' fill='white'>S</text></svg>"
    )

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        sender: Sender,
        category_map: Mapping[int, str] | None = None,
        rules: MarketplaceRules | None = None,
        categories: frozenset[str] = MARKETPLACE_CATEGORIES,
        clock: Callable[[], float] = time.monotonic,
        lot_size: int | None = None,
        lot_linger: float = 0.1,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.sender = sender
        self.category_map = dict(CATEGORY_MAP if category_map is None else category_map)
        self.rules = rules or MarketplaceRules()
        self.categories = categories
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.lot_size = lot_size
        self.lots_sent = 0
        self._lots: GroupCommit[dict[str, Any], Exchange] | None = None
        if lot_size:
            self._lots = GroupCommit.sending(
                self._send_lot, max_items=lot_size, linger=lot_linger, in_flight=4, what="lot items"
            )

    @classmethod
    def from_settings(cls, settings: ConnectorSettings, sender: Sender) -> SampleMarketplaceAdapter:
        """The adapter of a connector's settings: ``SENTOFFERS_CONNECTOR_MARKETPLACE_*``."""
        if not settings.marketplace_client_secret:
            raise ValueError("SENTOFFERS_CONNECTOR_MARKETPLACE_CLIENT_SECRET is not set")
        return cls(
            settings.marketplace_url,
            settings.marketplace_client_id,
            settings.marketplace_client_secret,
            sender=sender,
            lot_size=settings.marketplace_lot_size,
        )

    # Step 1: authentication ----------------------------------------------------------------

    async def authenticate(self) -> Exchange | None:
        """A valid bearer token: the one held, or a new one (client credentials)."""
        if self._token is not None and self._clock() < self._expires_at - TOKEN_MARGIN_S:
            return None
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        request = httpx.Request(
            "POST",
            f"{self.base_url}/oauth/token",
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": f"sentoffers-connector/{__version__}",
            },
            content=urlencode(form).encode(),
        )
        # Asking for a token twice does no harm.
        exchange = await self.sender.send(request, idempotent=True)
        status = exchange.status
        if status is None or status == 429 or status >= 500:
            raise MarketplaceUnavailable("the marketplace did not answer the login", exchange)
        assert exchange.response is not None
        if status in (400, 401):
            problem = ReportedError(
                KnownCode.AUTH_001, "001",
                "The marketplace refused the connector's client id or secret: check them in "
                "the connector's settings.",
                external_code=_json_field(exchange.response, "error"),
                closable_origins=tuple(Origin),
            )  # fmt: skip
            raise MarketplaceAuthFailed(
                "the marketplace refused the credentials", exchange, problem
            )
        if status == 403:
            problem = ReportedError(
                KnownCode.AUTH_002, "001",
                "The marketplace does not let this client publish products: ask the "
                "marketplace to grant it.",
                closable_origins=tuple(Origin),
            )  # fmt: skip
            raise MarketplaceAuthFailed("the marketplace denied access", exchange, problem)
        token = _json_field(exchange.response, "access_token")
        if status != 200 or not token:
            raise MarketplaceRefused(
                "the marketplace's login answered something unexpected",
                exchange,
                [ReportedError(KnownCode.NTMAP_001, None, f"login answered {status}")],
            )
        expires = _json_field(exchange.response, "expires_in")
        self._token = token
        self._expires_at = self._clock() + (float(expires) if expires else 3600.0)
        return exchange

    # Steps 2f and 2g: category and rules ---------------------------------------------------

    def map_category(self, category_id: int | None, category_name: str | None) -> str | None:
        """The marketplace's category of a VTEX category id, or ``None``."""
        if category_id is None:
            return None
        return self.category_map.get(category_id)

    def build_listing(self, sku: VtexSku, product: VtexProduct, category: str | None) -> Listing:
        """The marketplace's product body for a SKU (docs/sample-marketplace.md)."""
        raw, defaults = sku.raw, list[str]()
        title = _text(raw.get("NameComplete")) or " ".join(
            part for part in (_text(raw.get("ProductName")), _text(raw.get("SkuName"))) if part
        )
        title = _cut_title(title or _text(product.raw.get("Name")), self.rules.max_title)
        description = (
            _text(raw.get("ProductDescription"))
            or _text(product.raw.get("Description"))
            or _text(product.raw.get("DescriptionShort"))
        )
        if not description and title:
            description = title
            defaults.append("description")
        brand = _text(raw.get("BrandName"))
        if not brand:
            brand = DEFAULT_BRAND
            defaults.append("brand")
        alternate = raw.get("AlternateIds") or {}
        ean = _text(alternate.get("Ean")) if isinstance(alternate, Mapping) else ""
        images = [
            _text(image.get("ImageUrl"))
            for image in raw.get("Images") or []
            if isinstance(image, Mapping) and _text(image.get("ImageUrl"))
        ]
        if not images and _text(raw.get("ImageUrl")):
            images = [_text(raw.get("ImageUrl"))]
        dimensions = _dimensions(raw)
        category_id = product.category_id
        names = raw.get("ProductCategories") or {}
        category_name = names.get(str(category_id)) if isinstance(names, Mapping) else None
        body: dict[str, Any] = {
            "sku": sku.id,
            "title": title,
            "description": description,
            "brand": brand,
            "category": category,
            "ean": ean,
            "images": images[: self.rules.max_images],
            "dimensions": dimensions,
        }
        return Listing(sku.id, body, category_id, category_name, category, tuple(defaults))

    def check_listing(self, listing: Listing) -> list[ReportedError]:
        """Every registration rule the listing breaks; the category only once it is mapped."""
        found = listing_errors(listing.fields, self.rules, self.categories)
        problems = [classify(error.as_json()) for error in found]
        if listing.category is None:
            problems = [p for p in problems if p.field != "category"]
        return problems

    # Sending -------------------------------------------------------------------------------

    async def send_product(
        self, listing: Listing, values: OfferValues, marketplace_id: str | None
    ) -> Sent:
        """``POST /products`` (or ``PUT /products/{id}``) with price and stock; in lots, an
        ``upsert`` item."""
        body = {
            **listing.fields,
            "price": money(values.selling_price),
            "listPrice": money(max(values.list_price, values.selling_price)),
            "stock": values.inventory,
        }
        if self._lots is not None:
            exchange = await self._lots.submit({"operation": "upsert", **body})
            self._check(exchange, "list the product", ok=(200, 201))
            created = exchange.status == 201 or marketplace_id is None
            return Sent(_json_field(exchange.response, "id") or "", exchange, created)
        if marketplace_id is None:
            # The marketplace refuses a second listing of a SKU (409), so a retried POST
            # cannot list it twice.
            exchange = await self._call("POST", "/products", body, idempotent=True)
            if exchange.status == 409 and exchange.response is not None:
                existing = exchange.response.headers.get("location", "").rsplit("/", 1)[-1]
                if existing:
                    return await self.send_product(listing, values, existing)
            self._check(exchange, "list the product", ok=(201,))
            return Sent(_json_field(exchange.response, "id") or "", exchange, True)
        path = f"/products/{quote(marketplace_id, safe='')}"
        exchange = await self._call("PUT", path, body)
        self._check(exchange, f"update {marketplace_id}")
        return Sent(marketplace_id, exchange, False)

    async def update_price(
        self, marketplace_id: str, values: OfferValues, *, sku_id: str | None = None
    ) -> Exchange:
        """``PUT /products/{id}/price`` with the sales price and the list price."""
        body = {
            "price": money(values.selling_price),
            "listPrice": money(max(values.list_price, values.selling_price)),
        }
        if self._lots is not None and sku_id:
            item = {"operation": "price", "sku": sku_id, **body}
            return self._check(await self._lots.submit(item), "update the price")
        path = f"/products/{quote(marketplace_id, safe='')}/price"
        return self._check(await self._call("PUT", path, body), "update the price")

    async def update_inventory(
        self, marketplace_id: str, quantity: int, *, sku_id: str | None = None
    ) -> Exchange:
        """``PUT /products/{id}/inventory``."""
        if self._lots is not None and sku_id:
            item = {"operation": "inventory", "sku": sku_id, "quantity": quantity}
            return self._check(await self._lots.submit(item), "update the inventory")
        path = f"/products/{quote(marketplace_id, safe='')}/inventory"
        exchange = await self._call("PUT", path, {"quantity": quantity})
        return self._check(exchange, "update the inventory")

    async def deactivate(self, marketplace_id: str, *, sku_id: str | None = None) -> Exchange:
        """``POST /products/{id}/deactivate``."""
        if self._lots is not None and sku_id:
            item = {"operation": "deactivate", "sku": sku_id}
            return self._check(await self._lots.submit(item), "block the product")
        path = f"/products/{quote(marketplace_id, safe='')}/deactivate"
        exchange = await self._call("POST", path, None, idempotent=True)
        return self._check(exchange, "block the product")

    async def activate(self, marketplace_id: str, *, sku_id: str | None = None) -> Exchange:
        """``POST /products/{id}/activate``."""
        if self._lots is not None and sku_id:
            item = {"operation": "activate", "sku": sku_id}
            return self._check(await self._lots.submit(item), "unblock the product")
        path = f"/products/{quote(marketplace_id, safe='')}/activate"
        exchange = await self._call("POST", path, None, idempotent=True)
        return self._check(exchange, "unblock the product")

    async def _send_lot(self, items: Sequence[dict[str, Any]]) -> list[Exchange]:
        """One ``POST /lots``; each item's answer as an exchange of its own."""
        # Every operation of a lot sets a value or upserts by SKU: sending it twice is safe.
        lot = await self._call("POST", "/lots", {"items": list(items)}, idempotent=True)
        self.lots_sent += 1
        results: dict[int, Mapping[str, Any]] = {}
        if lot.status == 200:
            found = _json_field(lot.response, "results")
            for result in found if isinstance(found, list) else []:
                if isinstance(result, Mapping) and isinstance(result.get("index"), int):
                    results[result["index"]] = result
        lot_id = _json_field(lot.response, "lotId") if lot.status == 200 else None
        return [
            self._item_exchange(lot, index, item, results.get(index), lot_id, len(items))
            for index, item in enumerate(items)
        ]

    def _item_exchange(
        self,
        lot: Exchange,
        index: int,
        item: Mapping[str, Any],
        result: Mapping[str, Any] | None,
        lot_id: str | None,
        size: int,
    ) -> Exchange:
        """What one SKU sent and was answered, cut out of the lot's exchange."""
        request = self._request("POST", "/lots", {"items": [item]})
        request.headers["X-Lot-Item"] = f"{index + 1} of {size}"
        if lot.response is None:
            return Exchange(request, None, lot.error, lot.retries)
        if lot.status != 200 or result is None:
            answer = httpx.Response(
                lot.response.status_code if lot.status != 200 else 502,
                headers={"content-type": "application/json"},
                content=lot.response.content if lot.status != 200 else b'{"errors":[]}',
                request=request,
            )
            return Exchange(request, answer, lot.error, lot.retries)
        if result.get("status") == "ok":
            status = 201 if result.get("created") else 200
            payload: dict[str, Any] = {"id": result.get("id"), "lotId": lot_id}
        else:
            status = int(result.get("httpStatus") or 422)
            payload = {"errors": result.get("errors") or [], "lotId": lot_id}
        answer = httpx.Response(
            status,
            headers={"content-type": "application/json"},
            content=json.dumps(payload, ensure_ascii=False).encode(),
            request=request,
        )
        return Exchange(request, answer, None, lot.retries)

    async def aclose(self) -> None:
        """Stop the lots (the ``Sender``'s client is closed by its owner)."""
        if self._lots is not None:
            await self._lots.stop()

    # HTTP ----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._token}",
            "User-Agent": f"sentoffers-connector/{__version__}",
        }
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, ensure_ascii=False).encode()
        return httpx.Request(method, self.base_url + path, headers=headers, content=content)

    async def _call(
        self, method: str, path: str, body: Any, *, idempotent: bool = False
    ) -> Exchange:
        """Send with the current token; on 401 log in again once and resend."""
        if self._token is None:
            await self.authenticate()
        exchange = await self.sender.send(self._request(method, path, body), idempotent=idempotent)
        if exchange.status == 401:
            self._token = None
            await self.authenticate()
            exchange = await self.sender.send(
                self._request(method, path, body), idempotent=idempotent
            )
        return exchange

    def _check(self, exchange: Exchange, what: str, ok: tuple[int, ...] = (200,)) -> Exchange:
        status = exchange.status
        if status in ok:
            return exchange
        if status is None or status == 429 or status >= 500:
            raise MarketplaceUnavailable(f"the marketplace did not {what} ({status})", exchange)
        assert exchange.response is not None
        if status == 401:
            problem = ReportedError(
                KnownCode.AUTH_001, "002",
                "The marketplace refused a token it had just issued.",
                closable_origins=tuple(Origin),
            )  # fmt: skip
            raise MarketplaceAuthFailed("the marketplace refused the token", exchange, problem)
        if status == 404:
            raise ListingGone(f"the marketplace no longer has the listing ({what})", exchange)
        errors = _json_field(exchange.response, "errors")
        if isinstance(errors, list) and errors:
            problems = [classify(error) for error in errors if isinstance(error, Mapping)]
        else:
            problems = [
                ReportedError(
                    KnownCode.NTMAP_001, None, f"the marketplace answered {status} to {what}"
                )
            ]
        raise MarketplaceRefused(f"the marketplace refused to {what}", exchange, problems)


def _json_field(response: httpx.Response | None, name: str) -> Any:
    if response is None:
        return None
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload.get(name) if isinstance(payload, Mapping) else None


def _dimensions(raw: Mapping[str, Any]) -> dict[str, float]:
    """Height, width, length and weight from ``Dimension``, falling back on ``RealDimension``."""
    plain = raw.get("Dimension") or {}
    real = raw.get("RealDimension") or {}
    found: dict[str, float] = {}
    for name in ("height", "width", "length", "weight"):
        value = _positive(plain.get(name)) if isinstance(plain, Mapping) else 0.0
        if value <= 0 and isinstance(real, Mapping):
            value = _positive(real.get(f"real{name.capitalize()}"))
        found[name] = value
    return found

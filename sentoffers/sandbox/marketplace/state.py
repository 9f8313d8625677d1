"""What the sample marketplace holds: listed products, lots and counts, in memory.

Thread-safe (one lock). Products get the marketplace's own ids (``MKT-000001``), different
from the seller's SKU ids, which they keep as ``sku``; a connector must store both. A seller
SKU is listed once: creating it again is a 409 (``product.exists``), unless ``unique_skus`` is
off, as on marketplaces that let a second listing in, where ``duplicates`` shows it.

Besides requests per endpoint, the state counts events (``conflicts``, ``throttled``,
``injectedFailures``, ``lostAnswers``, ``refusedWhileDown``, ``lots``) and lot items per
operation, for ``GET /_sandbox/stats``.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sentoffers.sandbox.rules import (
    DIMENSIONS,
    MarketplaceRules,
    RuleError,
    inventory_errors,
    listing_errors,
    price_errors,
)

LOT_OPERATIONS = ("upsert", "price", "inventory", "deactivate", "activate")


class MarketplaceRefusal(Exception):
    """A refused request: HTTP ``status`` and every problem found."""

    def __init__(self, status: int, errors: list[RuleError], headers: dict[str, str] | None = None):
        super().__init__("; ".join(error.message for error in errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class ListedProduct:
    """A product as the marketplace holds it; prices in major units (``129.9``)."""

    id: str
    sku: str
    title: str
    description: str
    brand: str
    category: str
    ean: str
    images: list[str]
    dimensions: dict[str, float]
    price: float | None = None
    list_price: float | None = None
    stock: int = 0
    status: str = "active"
    version: int = 1
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)

    def as_json(self) -> dict[str, Any]:
        """The product as the API answers it (camelCase)."""
        return {
            "id": self.id,
            "sku": self.sku,
            "title": self.title,
            "description": self.description,
            "brand": self.brand,
            "category": self.category,
            "ean": self.ean,
            "images": list(self.images),
            "dimensions": dict(self.dimensions),
            "price": self.price,
            "listPrice": self.list_price,
            "stock": self.stock,
            "status": self.status,
            "version": self.version,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


def _copy(product: ListedProduct) -> ListedProduct:
    """A copy that shares nothing mutable (cheaper than ``copy.deepcopy``)."""
    return replace(product, images=list(product.images), dimensions=dict(product.dimensions))


def _err(status: int, code: str, field: str, message: str) -> MarketplaceRefusal:
    return MarketplaceRefusal(status, [RuleError(code, field, message)])


class MarketplaceState:
    """The marketplace's store. Every method either applies a whole change or raises."""

    def __init__(
        self,
        rules: MarketplaceRules,
        categories: Collection[str],
        *,
        max_lot_size: int = 50,
        id_prefix: str = "MKT",
        unique_skus: bool = True,
    ):
        self.rules = rules
        self.categories = frozenset(categories)
        self.max_lot_size = max_lot_size
        self.unique_skus = unique_skus
        self._prefix = id_prefix
        self._lock = threading.RLock()
        self._products: dict[str, ListedProduct] = {}
        self._by_sku: dict[str, str] = {}  # seller SKU -> its first product
        self._duplicates: dict[str, list[str]] = {}  # seller SKU -> every product, if 2+
        self._lots: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lot_ids = itertools.count(1)
        self._requests: Counter[str] = Counter()
        self._events: Counter[str] = Counter()
        self._lot_items: Counter[str] = Counter()
        self._lot_item_errors: Counter[str] = Counter()

    # requests --------------------------------------------------------------------------------

    def count_request(self, endpoint: str) -> None:
        """Count one request to ``endpoint`` (``"METHOD /route/{template}"``)."""
        with self._lock:
            self._requests[endpoint] += 1

    def requests(self, endpoint: str | None = None) -> int:
        """Requests received by an endpoint (``"PUT /products/{id}/price"``), or by all."""
        with self._lock:
            if endpoint is None:
                return sum(self._requests.values())
            return self._requests[endpoint]

    def request_counts(self) -> dict[str, int]:
        """Requests per endpoint, every answer counted (429 and 5xx included)."""
        with self._lock:
            return dict(self._requests)

    def count_event(self, name: str) -> None:
        """Count one event (``"throttled"``, ``"injectedFailures"``, ...)."""
        with self._lock:
            self._events[name] += 1

    def events(self, name: str) -> int:
        """How many times an event happened."""
        with self._lock:
            return self._events[name]

    def counts(self) -> dict[str, Any]:
        """Products held and every event and lot count, as ``GET /_sandbox/stats`` shows
        them; ``duplicates`` (seller SKU -> product ids) lists SKUs listed more than once."""
        with self._lock:
            return {
                "products": len(self._products),
                "lots": self._events["lots"],
                "lotItems": dict(self._lot_items),
                "lotItemErrors": dict(self._lot_item_errors),
                "duplicates": {sku: list(ids) for sku, ids in self._duplicates.items()},
                **{
                    name: self._events[name]
                    for name in (
                        "conflicts",
                        "throttled",
                        "injectedFailures",
                        "lostAnswers",
                        "refusedWhileDown",
                    )
                },
            }

    # reads -----------------------------------------------------------------------------------

    def products(self) -> list[ListedProduct]:
        """Copies of every listed product, in the order they were created."""
        with self._lock:
            return [_copy(product) for product in self._products.values()]

    def product_count(self) -> int:
        """How many products are listed."""
        with self._lock:
            return len(self._products)

    def get(self, product_id: str) -> ListedProduct:
        """A copy of a product; 404 ``MarketplaceRefusal`` if there is none."""
        with self._lock:
            return _copy(self._get(product_id))

    def find(self, sku: str) -> ListedProduct | None:
        """The (first) product listed for a seller SKU id, or ``None``."""
        with self._lock:
            product_id = self._by_sku.get(str(sku))
            return _copy(self._products[product_id]) if product_id else None

    def find_all(self, sku: str) -> list[ListedProduct]:
        """Every product listed for a seller SKU id (more than one only if not unique)."""
        with self._lock:
            sku = str(sku).strip()
            first = self._by_sku.get(sku)
            ids = self._duplicates.get(sku) or ([first] if first else [])
            return [_copy(self._products[product_id]) for product_id in ids]

    def duplicates(self) -> dict[str, list[str]]:
        """Seller SKUs listed more than once, with their product ids (empty when unique)."""
        with self._lock:
            return {sku: list(ids) for sku, ids in self._duplicates.items()}

    def lot(self, lot_id: str) -> dict[str, Any]:
        """A processed lot with its per-item results."""
        with self._lock:
            if lot_id not in self._lots:
                raise _err(404, "lot.not_found", "id", f"no lot {lot_id}")
            return copy.deepcopy(self._lots[lot_id])

    def _get(self, product_id: str) -> ListedProduct:
        product = self._products.get(product_id)
        if product is None:
            raise _err(404, "product.not_found", "id", f"no product {product_id}")
        return product

    # writes ----------------------------------------------------------------------------------

    def _check_listing(self, body: Mapping[str, Any]) -> None:
        errors = listing_errors(body, self.rules, self.categories)
        if errors:
            raise MarketplaceRefusal(422, errors)

    @staticmethod
    def _fill(product: ListedProduct, body: Mapping[str, Any]) -> None:
        product.title = body["title"]
        product.description = body["description"]
        product.brand = body["brand"]
        product.category = body["category"]
        product.ean = body["ean"].strip()
        product.images = list(body["images"])
        product.dimensions = {name: float(body["dimensions"][name]) for name in DIMENSIONS}
        if body.get("price") is not None:
            product.price = float(body["price"])
        if body.get("listPrice") is not None:
            product.list_price = float(body["listPrice"])
        if body.get("stock") is not None:
            product.stock = int(body["stock"])

    def create(self, body: Mapping[str, Any]) -> ListedProduct:
        """List a new product; 422 with every broken rule, 409 if its SKU is already listed."""
        self._check_listing(body)
        sku = str(body["sku"]).strip()
        with self._lock:
            existing = self._by_sku.get(sku)
            if existing is not None and self.unique_skus:
                self._events["conflicts"] += 1
                raise MarketplaceRefusal(
                    409,
                    [RuleError("product.exists", "sku", f"SKU {sku} is listed as {existing}")],
                    {"Location": f"/products/{existing}"},
                )
            product_id = f"{self._prefix}-{next(self._ids):06d}"
            product = ListedProduct(product_id, sku, "", "", "", "", "", [], {})
            self._fill(product, body)
            self._products[product_id] = product
            if existing is None:
                self._by_sku[sku] = product_id
            else:
                self._duplicates.setdefault(sku, [existing]).append(product_id)
            return _copy(product)

    def update(self, product_id: str, body: Mapping[str, Any]) -> ListedProduct:
        """Replace a product's registration data (same rules as ``create``)."""
        with self._lock:
            product = self._get(product_id)
            self._check_listing({**body, "sku": body.get("sku", product.sku)})
            if str(body.get("sku", product.sku)).strip() != product.sku:
                raise _err(422, "sku.immutable", "sku", "a product's sku cannot change")
            self._fill(product, body)
            return self._touch(product)

    def _touch(self, product: ListedProduct) -> ListedProduct:
        product.version += 1
        product.updated_at = _now()
        return _copy(product)

    def set_price(self, product_id: str, body: Mapping[str, Any]) -> ListedProduct:
        """``{"price", "listPrice"?}``; 422 with every problem."""
        with self._lock:
            product = self._get(product_id)
            errors = price_errors(body)
            if errors:
                raise MarketplaceRefusal(422, errors)
            product.price = float(body["price"])
            if body.get("listPrice") is not None:
                product.list_price = float(body["listPrice"])
            return self._touch(product)

    def set_inventory(self, product_id: str, body: Mapping[str, Any]) -> ListedProduct:
        """``{"quantity"}``: a whole number, 0 or more."""
        with self._lock:
            product = self._get(product_id)
            errors = inventory_errors(body)
            if errors:
                raise MarketplaceRefusal(422, errors)
            product.stock = int(body["quantity"])
            return self._touch(product)

    def set_status(self, product_id: str, active: bool) -> ListedProduct:
        """Activate or deactivate a product."""
        with self._lock:
            product = self._get(product_id)
            product.status = "active" if active else "inactive"
            return self._touch(product)

    # lots ------------------------------------------------------------------------------------

    def _lot_item(self, item: Any) -> ListedProduct:
        if not isinstance(item, Mapping):
            raise _err(422, "item.invalid", "item", "a lot item must be an object")
        operation, sku = item.get("operation"), str(item.get("sku") or "").strip()
        if operation not in LOT_OPERATIONS:
            raise _err(
                422, "operation.invalid", "operation", f"operation must be one of {LOT_OPERATIONS}"
            )
        if not sku:
            raise _err(422, "sku.required", "sku", "sku is required")
        existing = self._by_sku.get(sku)
        if operation == "upsert":
            return self.update(existing, item) if existing else self.create(item)
        if existing is None:
            raise _err(404, "product.not_found", "sku", f"SKU {sku} is not listed")
        if operation == "price":
            return self.set_price(existing, item)
        if operation == "inventory":
            return self.set_inventory(existing, item)
        return self.set_status(existing, operation == "activate")

    def apply_lot(self, items: Any) -> dict[str, Any]:
        """Apply each item on its own; one failed item never stops the others."""
        if not isinstance(items, list) or not items:
            raise _err(422, "lot.empty", "items", "items must be a non-empty list")
        if len(items) > self.max_lot_size:
            raise _err(
                413,
                "lot.too_large",
                "items",
                f"a lot holds at most {self.max_lot_size} items; this one has {len(items)}",
            )
        with self._lock:
            results: list[dict[str, Any]] = []
            for index, item in enumerate(items):
                sku = str(item.get("sku")) if isinstance(item, Mapping) else None
                operation = item.get("operation") if isinstance(item, Mapping) else None
                counted = operation if operation in LOT_OPERATIONS else "invalid"
                self._lot_items[counted] += 1
                try:
                    product = self._lot_item(item)
                    results.append({"index": index, "sku": sku, "status": "ok", "id": product.id})
                except MarketplaceRefusal as error:
                    self._lot_item_errors[counted] += 1
                    results.append(
                        {
                            "index": index,
                            "sku": sku,
                            "status": "error",
                            "httpStatus": error.status,
                            "errors": [e.as_json() for e in error.errors],
                        }
                    )
            lot_id = f"LOT-{next(self._lot_ids):06d}"
            failed = sum(result["status"] == "error" for result in results)
            lot = {
                "lotId": lot_id,
                "status": "processed",
                "processed": len(results) - failed,
                "failed": failed,
                "results": results,
            }
            self._lots[lot_id] = lot
            self._events["lots"] += 1
            return copy.deepcopy(lot)

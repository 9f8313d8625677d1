"""What the sample marketplace holds: listed products, lots and request counts, in memory.

Thread-safe (one lock). Products get the marketplace's own ids (``MKT-000001``), different
from the seller's SKU ids, which they keep as ``sku``; a connector must store both.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
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


class MarketplaceError(Exception):
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


def _err(status: int, code: str, field: str, message: str) -> MarketplaceError:
    return MarketplaceError(status, [RuleError(code, field, message)])


class MarketplaceState:
    """The marketplace's store. Every method either applies a whole change or raises."""

    def __init__(
        self,
        rules: MarketplaceRules,
        categories: Collection[str],
        *,
        max_lot_size: int = 50,
        id_prefix: str = "MKT",
    ):
        self.rules = rules
        self.categories = frozenset(categories)
        self.max_lot_size = max_lot_size
        self._prefix = id_prefix
        self._lock = threading.RLock()
        self._products: dict[str, ListedProduct] = {}
        self._by_sku: dict[str, str] = {}
        self._lots: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lot_ids = itertools.count(1)
        self._requests: Counter[str] = Counter()

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

    # reads -----------------------------------------------------------------------------------

    def products(self) -> list[ListedProduct]:
        """Copies of every listed product, in the order they were created."""
        with self._lock:
            return [copy.deepcopy(product) for product in self._products.values()]

    def get(self, product_id: str) -> ListedProduct:
        """A copy of a product; 404 ``MarketplaceError`` if there is none."""
        with self._lock:
            return copy.deepcopy(self._get(product_id))

    def find(self, sku: str) -> ListedProduct | None:
        """The product listed for a seller SKU id, or ``None``."""
        with self._lock:
            product_id = self._by_sku.get(str(sku))
            return copy.deepcopy(self._products[product_id]) if product_id else None

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
            raise MarketplaceError(422, errors)

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
            if existing is not None:
                raise MarketplaceError(
                    409,
                    [RuleError("product.exists", "sku", f"SKU {sku} is listed as {existing}")],
                    {"Location": f"/products/{existing}"},
                )
            product_id = f"{self._prefix}-{next(self._ids):06d}"
            product = ListedProduct(product_id, sku, "", "", "", "", "", [], {})
            self._fill(product, body)
            self._products[product_id] = product
            self._by_sku[sku] = product_id
            return copy.deepcopy(product)

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
        return copy.deepcopy(product)

    def set_price(self, product_id: str, body: Mapping[str, Any]) -> ListedProduct:
        """``{"price", "listPrice"?}``; 422 with every problem."""
        with self._lock:
            product = self._get(product_id)
            errors = price_errors(body)
            if errors:
                raise MarketplaceError(422, errors)
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
                raise MarketplaceError(422, errors)
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
                try:
                    product = self._lot_item(item)
                    results.append({"index": index, "sku": sku, "status": "ok", "id": product.id})
                except MarketplaceError as error:
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
            return copy.deepcopy(lot)

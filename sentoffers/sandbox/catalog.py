"""The sandbox's VTEX catalog for one account: products, SKUs, prices, stock and their flaws.

A ``SandboxCatalog`` is thread-safe (one lock) and hands out copies, never its own objects.
Mutations change the state under the lock, then tell each subscriber (the broadcaster) what
changed as ``CatalogChange`` values, outside the lock, so a subscriber may call the platform
back while it is told.

A SKU's flaws are read from its current state against the sample marketplace's rules and
category map, so the tags always agree with what the marketplace will refuse.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from sentoffers.sandbox import rules as marketplace_rules
from sentoffers.sandbox._data import CATEGORY_MAP
from sentoffers.sandbox.model import (
    PRODUCT_FLAWS,
    REGISTRATION_FLAWS,
    CatalogChange,
    Dimension,
    Flaw,
    Image,
    Price,
    Product,
    Sku,
    copy_product,
    copy_sku,
)

__all__ = [
    "PRODUCT_FLAWS",
    "REGISTRATION_FLAWS",
    "CatalogChange",
    "Dimension",
    "Flaw",
    "Image",
    "Listener",
    "Price",
    "Product",
    "SandboxCatalog",
    "Sku",
    "UnknownItem",
]


Listener = Callable[[list[CatalogChange]], None]


class UnknownItem(KeyError):
    """A SKU or product id the catalog does not have."""


class SandboxCatalog:
    """One account's catalog. ``sales_channel`` is the trade policy the affiliate uses."""

    def __init__(
        self,
        account: str,
        products: Iterable[Product],
        skus: Iterable[Sku],
        *,
        sales_channel: int = 1,
        seed: int | None = None,
        rules: marketplace_rules.MarketplaceRules | None = None,
        category_map: Mapping[int, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.account = account
        self.sales_channel = sales_channel
        self.seed = seed
        self.rules = rules or marketplace_rules.MarketplaceRules()
        self.category_map = dict(CATEGORY_MAP if category_map is None else category_map)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._products = {product.id: product for product in products}
        self._skus = {sku.id: sku for sku in skus}
        self._listeners: list[Listener] = []
        # SKUs and products are never added or removed, so these indexes never go stale; the
        # ids per trade policy are cached until a SKU's trade policies change.
        self._sorted_sku_ids = sorted(self._skus)
        self._sorted_product_ids = sorted(self._products)
        self._sku_ids_by_product: dict[int, list[int]] = {}
        for sku_id in self._sorted_sku_ids:
            product_id = self._skus[sku_id].product_id
            self._sku_ids_by_product.setdefault(product_id, []).append(sku_id)
        self._ids_in: dict[int, list[int]] = {}

    # reads -----------------------------------------------------------------------------------

    def sku_ids(self) -> list[int]:
        """Every SKU id, in ascending order."""
        return list(self._sorted_sku_ids)

    def product_ids(self) -> list[int]:
        """Every product id, in ascending order."""
        return list(self._sorted_product_ids)

    def sku(self, sku_id: int) -> Sku | None:
        """A copy of the SKU, or ``None``."""
        with self._lock:
            sku = self._skus.get(sku_id)
            return copy_sku(sku) if sku is not None else None

    def sku_and_product(self, sku_id: int) -> tuple[Sku, Product] | None:
        """Copies of a SKU and its product, read together (one lock), or ``None``."""
        with self._lock:
            sku = self._skus.get(sku_id)
            if sku is None:
                return None
            return copy_sku(sku), copy_product(self._products[sku.product_id])

    def product(self, product_id: int) -> Product | None:
        """A copy of the product, or ``None``."""
        with self._lock:
            product = self._products.get(product_id)
            return copy_product(product) if product is not None else None

    def skus_of(self, product_id: int) -> list[Sku]:
        """Copies of a product's SKUs, by id."""
        with self._lock:
            ids = self._sku_ids_by_product.get(product_id, ())
            return [copy_sku(self._skus[sku_id]) for sku_id in ids]

    def sku_ids_in(self, sales_channel: int) -> list[int]:
        """Ids of the SKUs assigned to a trade policy, ascending."""
        with self._lock:
            ids = self._ids_in.get(sales_channel)
            if ids is None:
                ids = [
                    i for i in self._sorted_sku_ids if sales_channel in self._skus[i].sales_channels
                ]
                self._ids_in[sales_channel] = ids
            return list(ids)

    def flaws(self, sku_id: int) -> frozenset[Flaw]:
        """The SKU's flaws as of now; raises ``UnknownItem`` for an unknown id."""
        with self._lock:
            sku = self._skus.get(sku_id)
            if sku is None:
                raise UnknownItem(sku_id)
            return self._flaws(sku, self._products[sku.product_id])

    def flaw_counts(self) -> Counter[Flaw]:
        """How many SKUs have each flaw."""
        with self._lock:
            counts: Counter[Flaw] = Counter()
            for sku in self._skus.values():
                counts.update(self._flaws(sku, self._products[sku.product_id]))
            return counts

    def _flaws(self, sku: Sku, product: Product) -> frozenset[Flaw]:
        found: set[Flaw] = set()
        if len(product.description) > self.rules.max_description:
            found.add(Flaw.LONG_DESCRIPTION)
        if marketplace_rules.has_html(product.description):
            found.add(Flaw.HTML_DESCRIPTION)
        if not sku.images:
            found.add(Flaw.MISSING_IMAGES)
        dimension = sku.dimension
        if min(dimension.height, dimension.width, dimension.length, dimension.weight) <= 0:
            found.add(Flaw.MISSING_DIMENSIONS)
        if not marketplace_rules.valid_gtin(sku.ean):
            found.add(Flaw.BAD_EAN)
        if product.category_id not in self.category_map:
            found.add(Flaw.UNMAPPED_CATEGORY)
        if not product.is_active:
            found.add(Flaw.INACTIVE_PRODUCT)
        if self.sales_channel not in sku.sales_channels:
            found.add(Flaw.OUTSIDE_TRADE_POLICY)
        if self.sales_channel not in sku.prices:
            found.add(Flaw.NO_PRICE)
        return frozenset(found)

    # notifications ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with the changes of every mutation; returns the unsubscriber."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def changes_for_all(self) -> list[CatalogChange]:
        """One change per SKU with every flag set: what an initial load notifies."""
        with self._lock:
            now = self._clock()
            return [
                self._change(self._skus[sku_id], now, stock=True, price=True, registration=True)
                for sku_id in self._sorted_sku_ids
            ]

    def _change(
        self,
        sku: Sku,
        now: datetime,
        *,
        stock: bool = False,
        price: bool = False,
        registration: bool = False,
        removed_from: Iterable[int] = (),
    ) -> CatalogChange:
        return CatalogChange(
            sku_id=sku.id,
            product_id=sku.product_id,
            date_modified=now,
            is_active=sku.is_active and self._products[sku.product_id].is_active,
            sales_channels=frozenset(sku.sales_channels),
            stock_modified=stock,
            price_modified=price,
            sku_modified=registration,
            removed_from=frozenset(removed_from),
        )

    def _emit(self, changes: list[CatalogChange]) -> list[CatalogChange]:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(changes)
        return changes

    def _sku_or_raise(self, sku_id: int) -> Sku:
        sku = self._skus.get(sku_id)
        if sku is None:
            raise UnknownItem(f"no SKU {sku_id}")
        return sku

    def _product_or_raise(self, product_id: int) -> Product:
        product = self._products.get(product_id)
        if product is None:
            raise UnknownItem(f"no product {product_id}")
        return product

    # mutations -------------------------------------------------------------------------------

    def set_price(
        self,
        sku_id: int,
        price: int,
        *,
        list_price: int | None = None,
        selling_price: int | None = None,
        sales_channel: int | None = None,
    ) -> list[CatalogChange]:
        """Set a SKU's price (cents) in a trade policy (default: the affiliate's)."""
        if price <= 0:
            raise ValueError("price must be more than 0 cents")
        with self._lock:
            sku = self._sku_or_raise(sku_id)
            sku.prices[sales_channel or self.sales_channel] = Price(
                list_price=max(list_price or price, price),
                price=price,
                selling_price=selling_price or price,
            )
            changes = [self._change(sku, self._clock(), price=True)]
        return self._emit(changes)

    def set_stock(self, sku_id: int, quantity: int) -> list[CatalogChange]:
        """Set a SKU's stock (its one warehouse's quantity)."""
        if quantity < 0:
            raise ValueError("quantity must be 0 or more")
        with self._lock:
            sku = self._sku_or_raise(sku_id)
            sku.stock = quantity
            changes = [self._change(sku, self._clock(), stock=True)]
        return self._emit(changes)

    def set_product_active(self, product_id: int, active: bool) -> list[CatalogChange]:
        """Activate or deactivate a product: every SKU of it is notified."""
        with self._lock:
            product = self._product_or_raise(product_id)
            product.is_active = active
            now = self._clock()
            changes = [
                self._change(self._skus[sku_id], now, registration=True)
                for sku_id in self._sku_ids_by_product.get(product_id, ())
            ]
        return self._emit(changes)

    def deactivate_product(self, product_id: int) -> list[CatalogChange]:
        """Deactivate a product (``IsActive`` false on it and in its SKUs' notifications)."""
        return self.set_product_active(product_id, False)

    def remove_from_trade_policy(
        self, sku_id: int, sales_channel: int | None = None
    ) -> list[CatalogChange]:
        """Take a SKU out of a trade policy (default: the affiliate's)."""
        channel = sales_channel or self.sales_channel
        with self._lock:
            sku = self._sku_or_raise(sku_id)
            removed = [channel] if channel in sku.sales_channels else []
            sku.sales_channels.discard(channel)
            self._ids_in.clear()
            changes = [self._change(sku, self._clock(), removed_from=removed)]
        return self._emit(changes)

    def add_to_trade_policy(
        self, sku_id: int, sales_channel: int | None = None
    ) -> list[CatalogChange]:
        """Put a SKU (back) in a trade policy (default: the affiliate's)."""
        with self._lock:
            sku = self._sku_or_raise(sku_id)
            sku.sales_channels.add(sales_channel or self.sales_channel)
            self._ids_in.clear()
            changes = [self._change(sku, self._clock(), registration=True)]
        return self._emit(changes)

    def update_product(
        self,
        product_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        category_id: int | None = None,
        category: str | None = None,
    ) -> list[CatalogChange]:
        """Change a product's registration data; its SKUs are notified as modified."""
        with self._lock:
            product = self._product_or_raise(product_id)
            if name is not None:
                product.name = name
            if description is not None:
                product.description = description
            if category_id is not None:
                product.category_id = category_id
                product.category = category or f"Category {category_id}"
            now = self._clock()
            changes = [
                self._change(self._skus[sku_id], now, registration=True)
                for sku_id in self._sku_ids_by_product.get(product_id, ())
            ]
        return self._emit(changes)

    def update_sku(
        self,
        sku_id: int,
        *,
        name: str | None = None,
        ean: str | None = None,
        images: list[Image] | None = None,
        dimension: Dimension | None = None,
    ) -> list[CatalogChange]:
        """Change a SKU's registration data (``HasStockKeepingUnitModified``)."""
        with self._lock:
            sku = self._sku_or_raise(sku_id)
            if name is not None:
                sku.name = name
            if ean is not None:
                sku.ean = ean
            if images is not None:
                sku.images = list(images)
            if dimension is not None:
                sku.dimension = replace(dimension)
            changes = [self._change(sku, self._clock(), registration=True)]
        return self._emit(changes)

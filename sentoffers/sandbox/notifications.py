"""Catalog change notifications, POSTed to an affiliate's endpoint as VTEX does.

The fields are those of "How to keep prices updated" (fields sent in the notification), in the
casing VTEX puts on the wire::

    {"IdSku": "2000001", "ProductId": 1001, "An": "sandbox", "IdAffiliate": "SBX",
     "DateModified": "2024-05-02T13:01:22.120", "IsActive": true, "StockModified": false,
     "PriceModified": true, "HasStockKeepingUnitModified": false,
     "HasStockKeepingUnitRemovedFromAffiliate": false}

``casing="document"`` sends the document's own spelling instead (``idSKU``, ``productId``,
``an``, ``idAffiliate``, ``isActive``, ...), to check that a receiver reads either.
``DateModified`` is UTC, without a zone, as VTEX writes it.

Delivery is synchronous, with bounded retries on transport errors, 408, 429 and 5xx.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from sentoffers.sandbox.catalog import CatalogChange, SandboxCatalog

Casing = Literal["vtex", "document"]

NOTIFICATION_FIELDS: tuple[str, ...] = (
    "IdSku",
    "ProductId",
    "An",
    "IdAffiliate",
    "DateModified",
    "IsActive",
    "StockModified",
    "PriceModified",
    "HasStockKeepingUnitModified",
    "HasStockKeepingUnitRemovedFromAffiliate",
)
"""Every field of a notification, as VTEX spells them on the wire."""

DOCUMENT_NAMES: Mapping[str, str] = {
    "IdSku": "idSKU",
    "ProductId": "productId",
    "An": "an",
    "IdAffiliate": "idAffiliate",
    "DateModified": "DateModified",
    "IsActive": "isActive",
    "StockModified": "StockModified",
    "PriceModified": "PriceModified",
    "HasStockKeepingUnitModified": "HasStockKeepingUnitModified",
    "HasStockKeepingUnitRemovedFromAffiliate": "HasStockKeepingUnitRemovedFromAffiliate",
}
"""The same fields as the document's table writes them."""

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Notification:
    """One SKU's change, as one affiliate of one account is told of it."""

    sku_id: int
    product_id: int
    account: str
    affiliate_id: str
    date_modified: datetime
    is_active: bool
    stock_modified: bool
    price_modified: bool
    sku_modified: bool
    removed_from_affiliate: bool

    def payload(self, casing: Casing = "vtex") -> dict[str, Any]:
        """The JSON body, in VTEX's casing or the document's."""
        body: dict[str, Any] = {
            "IdSku": str(self.sku_id),
            "ProductId": self.product_id,
            "An": self.account,
            "IdAffiliate": self.affiliate_id,
            "DateModified": self.date_modified.replace(tzinfo=None).isoformat(
                timespec="milliseconds"
            ),
            "IsActive": self.is_active,
            "StockModified": self.stock_modified,
            "PriceModified": self.price_modified,
            "HasStockKeepingUnitModified": self.sku_modified,
            "HasStockKeepingUnitRemovedFromAffiliate": self.removed_from_affiliate,
        }
        if casing == "document":
            return {DOCUMENT_NAMES[name]: value for name, value in body.items()}
        return body


@dataclass(frozen=True, slots=True)
class Delivery:
    """How sending one notification went: the last status (``None``: no answer) and error."""

    notification: Notification
    attempts: int
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """True when the endpoint answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class Broadcaster:
    """POSTs notifications to ``endpoint_url`` for the affiliate ``affiliate_id``.

    Only changes that concern the affiliate's trade policy (``sales_channel``) are sent: a SKU
    in it, or just taken out of it. ``initial_load`` sends every SKU of a catalog.
    """

    def __init__(
        self,
        endpoint_url: str,
        *,
        affiliate_id: str = "SBX",
        sales_channel: int = 1,
        casing: Casing = "vtex",
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        max_backoff_seconds: float = 2.0,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be 1 or more")
        self.endpoint_url = endpoint_url
        self.affiliate_id = affiliate_id
        self.sales_channel = sales_channel
        self.casing: Casing = casing
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
            headers={"User-Agent": "sentoffers-sandbox/broadcaster"},
        )
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in the order they finished."""
        with self._lock:
            return list(self._deliveries)

    def notification(
        self, account: str, change: CatalogChange, *, initial: bool = False
    ) -> Notification | None:
        """The affiliate's notification of a change; ``None`` when it does not concern it."""
        removed = self.sales_channel in change.removed_from
        if not initial and not removed and self.sales_channel not in change.sales_channels:
            return None
        return Notification(
            sku_id=change.sku_id,
            product_id=change.product_id,
            account=account,
            affiliate_id=self.affiliate_id,
            date_modified=change.date_modified,
            is_active=change.is_active,
            stock_modified=change.stock_modified,
            price_modified=change.price_modified,
            sku_modified=change.sku_modified,
            removed_from_affiliate=removed,
        )

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff_seconds * 2.0 ** (attempt - 1)
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            delay = float(response.headers["Retry-After"])
        return min(delay, self.max_backoff_seconds)

    def send(self, notification: Notification) -> Delivery:
        """POST one notification, retrying what is worth retrying up to ``max_attempts``."""
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.max_attempts + 1):
            response: httpx.Response | None = None
            try:
                response = self._http.post(
                    self.endpoint_url, json=notification.payload(self.casing)
                )
                status, error = response.status_code, None
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            if status is not None and status not in RETRYABLE_STATUSES:
                break
            if attempt < self.max_attempts:
                self._sleep(self._wait(attempt, response))
        if status is not None and not 200 <= status < 300 and error is None:
            error = f"HTTP {status}"
        delivery = Delivery(notification, attempt, status, error)
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    def send_all(
        self, notifications: Sequence[Notification], *, concurrency: int = 1
    ) -> list[Delivery]:
        """Send many, ``concurrency`` at a time; the deliveries come back in the same order."""
        if concurrency <= 1 or len(notifications) <= 1:
            return [self.send(notification) for notification in notifications]
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(self.send, notifications))

    def send_changes(
        self, account: str, changes: Iterable[CatalogChange], *, initial: bool = False
    ) -> list[Delivery]:
        """Notify the changes that concern the affiliate."""
        found = [self.notification(account, change, initial=initial) for change in changes]
        return self.send_all([notification for notification in found if notification])

    def initial_load(self, catalog: SandboxCatalog, *, concurrency: int = 4) -> list[Delivery]:
        """Notify every SKU of the catalog, every flag set, whatever its trade policies."""
        found = [
            self.notification(catalog.account, change, initial=True)
            for change in catalog.changes_for_all()
        ]
        notifications = [notification for notification in found if notification]
        return self.send_all(notifications, concurrency=concurrency)

    def attach(self, catalog: SandboxCatalog) -> Callable[[], None]:
        """Send the catalog's changes from now on; returns the function that stops it."""

        def listener(changes: list[CatalogChange]) -> None:
            self.send_changes(catalog.account, changes)

        return catalog.subscribe(listener)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

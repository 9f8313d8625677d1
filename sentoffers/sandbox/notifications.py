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

Delivery is synchronous, over keep-alive HTTP/1.1 connections (``http.client``: several times
cheaper than httpx, which matters since the broadcaster shares a process with the platform),
``concurrency`` at a time, with bounded retries on transport errors, 408, 429 and 5xx. The
broadcaster counts attempts, deliveries and failures, and remembers when each SKU's first and
last notification was delivered (epoch seconds).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sentoffers.sandbox._endpoint import Endpoint
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
class SkuChange:
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

    notification: SkuChange
    attempts: int
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """True when the endpoint answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class Broadcaster:
    """POSTs notifications to ``endpoint_url`` for the affiliate ``affiliate_id``.

    The URL is called as given, query included, as VTEX calls an affiliate's notification
    URL: a connector's secret rides there (``.../api/notification/?secret=...``).

    Only changes that concern the affiliate's trade policy (``sales_channel``) are sent: a SKU
    in it, or just taken out of it. ``initial_load`` sends every SKU of a catalog,
    ``concurrency`` at a time. ``stats`` and ``delivery_times`` say how it went.
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
        concurrency: int = 32,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be 1 or more")
        if concurrency < 1:
            raise ValueError("concurrency must be 1 or more")
        self.endpoint_url = endpoint_url
        self.affiliate_id = affiliate_id
        self.sales_channel = sales_channel
        self.casing: Casing = casing
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.concurrency = concurrency
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._endpoint = Endpoint(endpoint_url, timeout_seconds)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._deliveries: list[Delivery] = []
        self._counts = {"attempts": 0, "delivered": 0, "failed": 0, "retries": 0, "pending": 0}
        # sku id -> [first delivered at, last delivered at, notifications delivered]
        self._times: dict[int, list[float]] = {}

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in the order they finished."""
        with self._lock:
            return list(self._deliveries)

    def stats(self) -> dict[str, int | float | None]:
        """Counts so far: ``attempts`` (POSTs tried), ``delivered`` and ``failed``
        notifications (after their retries), ``retries``, ``pending`` (queued or in flight),
        ``skus`` delivered at least once, and the first and last delivery (epoch seconds)."""
        with self._lock:
            firsts = [times[0] for times in self._times.values()]
            lasts = [times[1] for times in self._times.values()]
            return {
                **self._counts,
                "skus": len(self._times),
                "firstDeliveredAt": min(firsts, default=None),
                "lastDeliveredAt": max(lasts, default=None),
            }

    def delivery_times(self, since: float | None = None) -> dict[int, tuple[float, float, int]]:
        """Per SKU: when its first and last notification were delivered (epoch seconds) and
        how many were; only SKUs delivered at ``since`` or later when given."""
        with self._lock:
            return {
                sku_id: (times[0], times[1], int(times[2]))
                for sku_id, times in self._times.items()
                if since is None or times[1] >= since
            }

    def notification(
        self, account: str, change: CatalogChange, *, initial: bool = False
    ) -> SkuChange | None:
        """The affiliate's notification of a change; ``None`` when it does not concern it."""
        removed = self.sales_channel in change.removed_from
        if not initial and not removed and self.sales_channel not in change.sales_channels:
            return None
        return SkuChange(
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

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        delay = self.backoff_seconds * 2.0 ** (attempt - 1)
        if retry_after is not None and retry_after.strip().isdigit():
            delay = float(retry_after)
        return min(delay, self.max_backoff_seconds)

    def _count(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name] += by

    def send(self, notification: SkuChange) -> Delivery:
        """POST one notification, retrying what is worth retrying up to ``max_attempts``."""
        body = json.dumps(notification.payload(self.casing), separators=(",", ":")).encode()
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.max_attempts + 1):
            if self._closed.is_set():
                status, error = None, "the broadcaster is closed"
                break
            retry_after: str | None = None
            self._count("attempts")
            try:
                status, retry_after = self._endpoint.post(body)
                error = None
            except (OSError, http.client.HTTPException) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            if status is not None and status not in RETRYABLE_STATUSES:
                break
            if attempt < self.max_attempts:
                self._count("retries")
                self._sleep(self._wait(attempt, retry_after))
        if status is not None and not 200 <= status < 300 and error is None:
            error = f"HTTP {status}"
        delivery = Delivery(notification, attempt, status, error)
        self._record(delivery)
        return delivery

    def _record(self, delivery: Delivery) -> None:
        now = self._wall_clock()
        with self._lock:
            self._deliveries.append(delivery)
            if not delivery.delivered:
                self._counts["failed"] += 1
                return
            self._counts["delivered"] += 1
            times = self._times.get(delivery.notification.sku_id)
            if times is None:
                self._times[delivery.notification.sku_id] = [now, now, 1]
            else:
                times[1] = now
                times[2] += 1

    def send_all(
        self, notifications: Sequence[SkuChange], *, concurrency: int | None = None
    ) -> list[Delivery]:
        """Send many, ``concurrency`` (default: the broadcaster's) at a time; the deliveries
        come back in the same order."""
        self._count("pending", len(notifications))
        return self._send_counted(notifications, concurrency)

    def _send_counted(
        self, notifications: Sequence[SkuChange], concurrency: int | None
    ) -> list[Delivery]:
        """Send notifications already counted as pending."""

        def one(notification: SkuChange) -> Delivery:
            try:
                return self.send(notification)
            finally:
                self._count("pending", -1)

        workers = min(concurrency or self.concurrency, len(notifications))
        if workers <= 1:
            return [one(notification) for notification in notifications]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            return list(pool.map(one, notifications))

    def send_changes(
        self, account: str, changes: Iterable[CatalogChange], *, initial: bool = False
    ) -> list[Delivery]:
        """Notify the changes that concern the affiliate, one after the other (in order)."""
        found = [self.notification(account, change, initial=initial) for change in changes]
        notifications = [notification for notification in found if notification]
        return self.send_all(notifications, concurrency=1)

    def initial_notifications(self, catalog: SandboxCatalog) -> list[SkuChange]:
        """One notification per SKU of the catalog, every flag set, whatever its policies."""
        found = [
            self.notification(catalog.account, change, initial=True)
            for change in catalog.changes_for_all()
        ]
        return [notification for notification in found if notification]

    def initial_load(
        self, catalog: SandboxCatalog, *, concurrency: int | None = None
    ) -> list[Delivery]:
        """Notify every SKU of the catalog, ``concurrency`` (default 32) at a time."""
        return self.send_all(self.initial_notifications(catalog), concurrency=concurrency)

    def start_initial_load(self, catalog: SandboxCatalog, *, concurrency: int | None = None) -> int:
        """``initial_load`` in a background thread; returns how many notifications it sends
        (``stats()["pending"]`` says how many are left)."""
        notifications = self.initial_notifications(catalog)
        self._count("pending", len(notifications))
        threading.Thread(
            target=self._send_counted,
            args=(notifications, concurrency),
            name=f"initial-load-{catalog.account}",
            daemon=True,
        ).start()
        return len(notifications)

    def attach(self, catalog: SandboxCatalog) -> Callable[[], None]:
        """Send the catalog's changes from now on; returns the function that stops it."""

        def listener(changes: list[CatalogChange]) -> None:
            self.send_changes(catalog.account, changes)

        return catalog.subscribe(listener)

    def close(self) -> None:
        """Stop sending (what is queued ends as undelivered) and close the connections."""
        self._closed.set()
        self._endpoint.close()

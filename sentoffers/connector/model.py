"""What the connector works on, as plain values: notifications, stores, what VTEX says about a
SKU, the listing sent to a marketplace, problems found, and HTTP exchanges kept as evidence.

No I/O here; the pipeline fills these from the VTEX platform and the marketplace adapter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx

from sentoffers.client import KnownCode
from sentoffers.domain.model import Origin

__all__ = [
    "Attempt",
    "Exchange",
    "InvalidNotification",
    "Job",
    "Listing",
    "Notification",
    "OfferValues",
    "ReportedError",
    "SkuRecord",
    "SkuState",
    "Store",
    "VtexProduct",
    "VtexSku",
    "parse_notification",
]


# Notifications -----------------------------------------------------------------------------

# Every field of "How to keep prices updated", by the lower-cased names VTEX (``IdSku``) and
# the document (``idSKU``) give it.
_FIELDS = {
    "idsku": "sku_id",
    "productid": "product_id",
    "an": "account",
    "idaffiliate": "affiliate_id",
    "datemodified": "date_modified",
    "isactive": "is_active",
    "stockmodified": "stock_modified",
    "pricemodified": "price_modified",
    "hasstockkeepingunitmodified": "sku_modified",
    "hasstockkeepingunitremovedfromaffiliate": "removed_from_affiliate",
}
_FLAGS = ("is_active", "stock_modified", "price_modified", "sku_modified", "removed_from_affiliate")


class InvalidNotification(ValueError):
    """A notification body that cannot be read; ``problems`` lists every one found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Notification:
    """A VTEX catalog notification to the affiliate endpoint."""

    sku_id: str
    account: str
    product_id: str | None = None
    affiliate_id: str | None = None
    date_modified: str | None = None
    is_active: bool = True
    stock_modified: bool = False
    price_modified: bool = False
    sku_modified: bool = False
    removed_from_affiliate: bool = False

    def merged_with(self, later: Notification) -> Notification:
        """One notification standing for this one and a later one of the same SKU.

        Change flags add up; what describes the SKU's state now (active, removed from the
        affiliate, dates) comes from the later one.
        """
        return replace(
            later,
            product_id=later.product_id or self.product_id,
            stock_modified=self.stock_modified or later.stock_modified,
            price_modified=self.price_modified or later.price_modified,
            sku_modified=self.sku_modified or later.sku_modified,
        )

    def as_json(self) -> dict[str, Any]:
        """The notification in VTEX's wire casing (what the contingency queue keeps)."""
        return {
            "IdSku": self.sku_id,
            "ProductId": self.product_id,
            "An": self.account,
            "IdAffiliate": self.affiliate_id,
            "DateModified": self.date_modified,
            "IsActive": self.is_active,
            "StockModified": self.stock_modified,
            "PriceModified": self.price_modified,
            "HasStockKeepingUnitModified": self.sku_modified,
            "HasStockKeepingUnitRemovedFromAffiliate": self.removed_from_affiliate,
        }


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_notification(body: Any) -> Notification:
    """Read a notification in either casing; raises ``InvalidNotification`` with every problem.

    ``IdSku`` and ``An`` are required; flags missing are false (``IsActive``: true).
    """
    if not isinstance(body, Mapping):
        raise InvalidNotification(["the body must be a JSON object"])
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = _FIELDS.get(str(key).lower())
        if name is not None and value is not None:
            fields.setdefault(name, value)
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, label in (("sku_id", "IdSku"), ("account", "An")):
        found = _identifier(fields.get(name))
        if found is None:
            problems.append(f"{label} is required (a SKU id and the store's account name)")
        values[name] = found
    for name in ("product_id", "affiliate_id", "date_modified"):
        values[name] = _identifier(fields.get(name))
    for name in _FLAGS:
        if name not in fields:
            continue
        flag = _flag(fields[name])
        if flag is None:
            problems.append(f"{name} must be true or false, got {fields[name]!r}")
        else:
            values[name] = flag
    if problems:
        raise InvalidNotification(problems)
    return Notification(**values)


# Stores and jobs ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Store:
    """A seller account the connector serves: its VTEX platform, trade policy and feed."""

    account: str
    vtex_base_url: str
    app_key: str
    app_token: str
    affiliate_id: str
    sales_channel: int = 1
    currency: str = "BRL"
    seller_id: str = "1"


@dataclass(frozen=True, slots=True)
class Job:
    """A notification to process; ``attempt`` counts how often it was tried before."""

    notification: Notification
    attempt: int = 0
    cause: str = "notification"
    previous_attempt_at: datetime | None = None
    """When the last attempt ended (a retried job), for what happened in between."""

    @property
    def key(self) -> tuple[str, str]:
        return self.notification.account, self.notification.sku_id


# What VTEX says ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VtexSku:
    """The parts of ``GetSKUandContext`` a connector reads; ``raw`` keeps the whole answer."""

    id: str
    product_id: str
    is_active: bool
    is_product_active: bool
    sales_channels: frozenset[int]
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class VtexProduct:
    """Get Product by ID: whether it is active, its category; ``raw`` keeps the answer."""

    id: str
    is_active: bool
    category_id: int | None
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OfferValues:
    """Price and stock of a SKU in a trade policy, from the fulfillment simulation (cents)."""

    price: int
    list_price: int
    selling_price: int
    inventory: int


# What goes to the marketplace --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listing:
    """A SKU as the marketplace adapter will send it; ``fields`` is the marketplace's body."""

    sku_id: str
    fields: Mapping[str, Any]
    category_id: int | None = None
    category_name: str | None = None
    category: str | None = None
    """The marketplace's category, or ``None`` while the VTEX category is unmapped."""
    defaults: tuple[str, ...] = ()
    """Fields filled with the marketplace's defaults because VTEX had nothing (TotalReader)."""


@dataclass(frozen=True, slots=True)
class ReportedError:
    """One error to report: an error-code entry plus where it came from."""

    code: KnownCode
    suffix: str | None
    description: str
    external_code: str | None = None
    field: str | None = None
    closable_origins: tuple[Origin, ...] = ()

    @property
    def full_code(self) -> str:
        return f"{self.code}-{self.suffix}" if self.suffix else str(self.code)


# Evidence ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """An attempt that was not the last: its status (``None``: no answer) and the wait after."""

    status: int | None
    waited: float
    detail: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP call as evidence: the request, the last response (or the transport error),
    and the attempts retried before it."""

    request: httpx.Request
    response: httpx.Response | None = None
    error: str | None = None
    retries: tuple[Attempt, ...] = ()

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None


# The states table --------------------------------------------------------------------------


class SkuState(enum.StrEnum):
    """Where a SKU stands in the connector (the states table)."""

    PROCESSING = "processing"
    SYNCED = "synced"
    ERROR = "error"
    UNAVAILABLE = "unavailable"
    AWAITING_CATEGORY = "awaiting_category"
    CONTINGENCY = "contingency"
    GIVEN_UP = "given_up"
    REJECTED = "rejected"

    @property
    def settled(self) -> bool:
        """True when nothing more happens to the SKU until VTEX or the seller changes it."""
        return self not in (SkuState.PROCESSING, SkuState.CONTINGENCY)


@dataclass(frozen=True, slots=True)
class SkuRecord:
    """One row of the states table."""

    account: str
    sku_id: str
    state: SkuState
    product_id: str | None = None
    marketplace_id: str | None = None
    attempts: int = 0
    last_attempt_at: str | None = None
    last_response: str | None = None
    error_codes: tuple[str, ...] = ()
    price: int | None = None
    selling_price: int | None = None
    inventory: int | None = None
    active_in_marketplace: bool = True
    category_id: int | None = None
    retry_in: float | None = field(default=None, compare=False)
    """Seconds until the next attempt of a job that has to wait (not stored)."""

"""Entities of the Offer Management domain, as plain dataclasses and enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Source(enum.StrEnum):
    SELLER = "seller"
    CHANNEL = "channel"


class Origin(enum.StrEnum):
    CATALOG = "catalog"
    PRICE = "price"
    INVENTORY = "inventory"


class Context(enum.StrEnum):
    SETUP = "setup"
    ONGOING = "ongoing"
    # The .NET SDK's InteractionContextType names the ongoing context "sync": an alias.
    sync = "ongoing"


class State(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Result(enum.StrEnum):
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILURE = "failure"
    NOTIFICATION = "notification"


class LogType(enum.StrEnum):
    INFORMATION = "information"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


class OfferStatus(enum.StrEnum):
    SYNCED = "synced"
    SENDING = "sending"
    ERROR = "error"
    UNAVAILABLE = "unavailable"


# The statuses an offer with an open error can have. A failure log opens errors and puts
# the offer in Error at once, and a close makes it Synced only when no open error is left:
# a Synced offer never has one (the rules' property test checks it on random histories).
STATUSES_WITH_OPEN_ERRORS = frozenset(
    {OfferStatus.SENDING, OfferStatus.ERROR, OfferStatus.UNAVAILABLE}
)


class DataStatus(enum.StrEnum):
    """The offer status a connector reports in a log's ``data.status``."""

    SYNCED = "synced"
    SENDING = "sending"
    ERROR = "error"
    UNAVAILABLE = "unavailable"
    DISABLED = "disabled"


class Role(enum.StrEnum):
    """What a key may do; the rules are in ``sentoffers.domain.permissions``."""

    ADMIN = "admin"
    CONNECTOR = "connector"
    VIEWER = "viewer"
    PLATFORM = "platform"
    """The service operator's key: global objects and every key, but no account's data."""


UNMAPPED_CODE = "NTMAP-001"


@dataclass(frozen=True, slots=True)
class LogError:
    """One error reported in a log, as the connector sent it plus its classification."""

    code: str
    error_code_id: str
    external_code: str | None = None
    title: str | None = None
    description: str | None = None
    closable_origins: tuple[Origin, ...] = ()
    fingerprint: str | None = None
    mapped: bool = True


class FieldKind(enum.StrEnum):
    """How a log's value of an offer field reaches the offer."""

    VALUE = "value"
    """What the channel holds of the offer (its id there, price, stock): set by any log but
    a failure's, which changed nothing on the channel."""
    METADATA = "metadata"
    """What describes the SKU (name, image, brand...): true whatever the log says."""


@dataclass(frozen=True, slots=True)
class OfferField:
    """A piece of offer data a connector reports in a log's ``data``, and the offer keeps.

    ``OFFER_FIELDS`` declares each once; the store's columns and mapping, the rules that
    apply a log to its offer, the accepted spellings, the answers' summaries and the CSV
    export follow from it. ``OfferData``, ``Offer`` and the contract's ``DataIn`` and
    ``OfferSummary`` carry each as an attribute (a test holds them to this list), and a
    migration adds its column.
    """

    name: str
    """The attribute of ``OfferData`` and ``Offer``, and the column of ``offers``."""
    wire: str
    """The key in a log's ``data`` and in the answers."""
    kind: FieldKind
    max_length: int
    """The longest value accepted; a longer one is invalid input."""
    aliases: tuple[str, ...] = ()
    """Other keys connectors send it under."""
    sold: bool = False
    """What changes as the offer sells (price, stock): shown as what an interaction set, and
    written with every change of the offer; the others only when a log carries them."""
    exported: bool = True
    """A column of the offer list's CSV export."""


OFFER_FIELDS: tuple[OfferField, ...] = (
    OfferField("name", "name", FieldKind.METADATA, 1000, aliases=("skuName",)),
    OfferField("price", "price", FieldKind.VALUE, 64, sold=True),
    OfferField("sales_price", "salesPrice", FieldKind.VALUE, 64, ("salePrice",), sold=True),
    OfferField("currency", "currency", FieldKind.VALUE, 16, sold=True),
    OfferField("inventory", "inventory", FieldKind.VALUE, 64, ("stock", "quantity"), sold=True),
    OfferField("brand", "brand", FieldKind.METADATA, 200, aliases=("brandName",)),
    OfferField("category", "category", FieldKind.METADATA, 200, aliases=("categoryName",)),
    OfferField("product_id", "productId", FieldKind.METADATA, 128),
    OfferField(
        "external_offer_id", "externalOfferId", FieldKind.VALUE, 200, ("externalId", "offerId")
    ),
    OfferField("image", "image", FieldKind.METADATA, 4000, aliases=("imageUrl",), exported=False),
)
"""Every piece of offer data, in the order the CSV export lists them."""


def offer_fields(kind: FieldKind | None = None, *, sold: bool | None = None) -> tuple[str, ...]:
    """The names of the offer fields of ``kind`` (all kinds: ``None``), sold or not."""
    return tuple(
        f.name
        for f in OFFER_FIELDS
        if (kind is None or f.kind == kind) and (sold is None or f.sold == sold)
    )


@dataclass(frozen=True, slots=True)
class OfferData:
    """Offer data a log carries; every field optional."""

    external_offer_id: str | None = None
    inventory: str | None = None
    price: str | None = None
    sales_price: str | None = None
    currency: str | None = None
    status: DataStatus | None = None
    name: str | None = None
    image: str | None = None
    product_id: str | None = None
    brand: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Log:
    id: str
    interaction_id: str
    date: datetime
    type: LogType
    description: str = ""
    agent: str = ""
    evidence_request: str | None = None
    evidence_response: str | None = None
    data: OfferData = field(default_factory=OfferData)
    errors: tuple[LogError, ...] = ()


@dataclass(slots=True)
class Interaction:
    """An interaction and the summary of its logs that the rules need.

    The summary (``has_failure``, ``has_success``, ``data``, ``last_log_id``) is kept
    on the interaction so closing never rereads the logs, which retention may have purged.
    """

    id: str
    feed_id: str
    sku_id: str
    start_date: datetime
    source: Source
    origin: Origin
    context: Context
    state: State = State.OPEN
    result: Result = Result.PROCESSING
    has_failure: bool = False
    has_success: bool = False
    data: OfferData = field(default_factory=OfferData)
    last_log_id: str | None = None
    log_count: int = 0
    last_activity_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(slots=True)
class ErrorOccurrence:
    """An error open (or once open) on an offer."""

    id: str
    code: str
    error_code_id: str
    origin: Origin
    interaction_id: str
    log_id: str
    date: datetime
    external_code: str | None = None
    title: str | None = None
    description: str | None = None
    closable_origins: tuple[Origin, ...] = ()
    fingerprint: str | None = None
    open: bool = True
    closed_at: datetime | None = None
    closed_by_interaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change of an offer's status and what caused it."""

    from_status: OfferStatus | None
    to_status: OfferStatus
    interaction_id: str
    log_id: str | None
    reason: str
    changed_at: datetime


@dataclass(slots=True)
class Offer:
    """A seller SKU sent to a channel through a feed, with its open errors."""

    feed_id: str
    sku_id: str
    status: OfferStatus
    open_errors: list[ErrorOccurrence] = field(default_factory=list)
    external_offer_id: str | None = None
    price: str | None = None
    sales_price: str | None = None
    currency: str | None = None
    inventory: str | None = None
    name: str | None = None
    image: str | None = None
    product_id: str | None = None
    brand: str | None = None
    category: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # When the offer entered its current status: how long it has been Sending or in Error.
    status_since: datetime | None = None
    last_interaction_id: str | None = None

"""What a marketplace adapter is: the few things the pipeline asks of a marketplace.

An adapter knows one marketplace's API and rules; the pipeline knows the steps of "How to
keep prices updated" and what to report. To connect a new marketplace, write a class with
these methods (``sentoffers.sandbox.adapter`` is the worked example) and pass
it to ``build_connector``. An adapter whose marketplace takes lots may group the calls of
the SKUs in flight into lots behind these same methods (the sample adapter does, with
``GroupCommit.sending``): each caller still gets its own item's answer.

Errors an adapter raises, each carrying the ``Exchange`` shown as evidence:

- ``MarketplaceAuthFailed``: the marketplace refused the credentials (step 1);
- ``MarketplaceRefused``: it refused the request, with *every* problem it named, classified
  into the error-code list (``ReportedError``);
- ``ListingGone``: it no longer has a listing the connector stored the id of;
- ``MarketplaceUnavailable``: no answer, throttled or 5xx after the retries; the
  notification waits in the contingency queue and is tried again later.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from sentoffers.connector.model import (
    Exchange,
    Listing,
    OfferValues,
    ReportedError,
    VtexProduct,
    VtexSku,
)

if TYPE_CHECKING:
    from sentoffers.connector.http import Sender
    from sentoffers.connector.settings import ConnectorSettings

__all__ = [
    "ListingGone",
    "Marketplace",
    "MarketplaceAuthFailed",
    "MarketplaceError",
    "MarketplaceRefused",
    "MarketplaceUnavailable",
    "Sent",
]


class MarketplaceError(Exception):
    """Something the marketplace answered (or did not) that stops the step."""

    def __init__(self, message: str, exchange: Exchange | None):
        super().__init__(message)
        self.exchange = exchange


class MarketplaceUnavailable(MarketplaceError):
    """No answer, 429 or 5xx after the retries: try again later."""


class MarketplaceAuthFailed(MarketplaceError):
    """The marketplace refused the connector's credentials; ``problem`` says which code."""

    def __init__(self, message: str, exchange: Exchange | None, problem: ReportedError):
        super().__init__(message, exchange)
        self.problem = problem


class MarketplaceRefused(MarketplaceError):
    """The marketplace refused the request; ``problems`` holds every error it named."""

    def __init__(self, message: str, exchange: Exchange | None, problems: Sequence[ReportedError]):
        super().__init__(message, exchange)
        self.problems = list(problems)


class ListingGone(MarketplaceError):
    """The marketplace no longer has the listing (404 on its id)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A listing the marketplace accepted: its own id, and whether it was new."""

    marketplace_id: str
    exchange: Exchange
    created: bool


@runtime_checkable
class Marketplace(Protocol):
    """A marketplace, as the pipeline uses it. Every call may raise the errors above."""

    vendor: str
    """The channel's vendor in the service (``vtex`` in ``vtex.netshoes``)."""
    name: str
    """The channel's name (``Netshoes``); the feed id is ``vendor.name`` slugified."""
    logo: str
    """The channel's logo URL."""

    async def authenticate(self) -> Exchange | None:
        """Step 1: make sure the credentials are valid, renewing them when they expired.

        Returns the exchange when it had to log in, ``None`` when the session was valid.
        """
        ...

    def map_category(self, category_id: int | None, category_name: str | None) -> str | None:
        """Step 2g: the marketplace's category for a VTEX category, or ``None`` if unmapped."""
        ...

    def build_listing(self, sku: VtexSku, product: VtexProduct, category: str | None) -> Listing:
        """The marketplace's body for a SKU, with its defaults where VTEX had nothing."""
        ...

    def check_listing(self, listing: Listing) -> list[ReportedError]:
        """Step 2f: every registration rule the listing breaks (category mapping aside)."""
        ...

    async def send_product(
        self, listing: Listing, values: OfferValues, marketplace_id: str | None
    ) -> Sent:
        """Create the listing (``marketplace_id`` ``None``) or replace it, with its price and
        stock."""
        ...

    async def update_price(
        self, marketplace_id: str, values: OfferValues, *, sku_id: str | None = None
    ) -> Exchange:
        """Set the price (and list price) of a listing (``sku_id``: the seller's SKU, for a
        marketplace that takes updates in lots keyed by it)."""
        ...

    async def update_inventory(
        self, marketplace_id: str, quantity: int, *, sku_id: str | None = None
    ) -> Exchange:
        """Set the stock of a listing."""
        ...

    async def deactivate(self, marketplace_id: str, *, sku_id: str | None = None) -> Exchange:
        """Block a listing: it stays, but cannot be sold."""
        ...

    async def activate(self, marketplace_id: str, *, sku_id: str | None = None) -> Exchange:
        """Unblock a listing blocked before."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class MarketplaceAdapter(Protocol):
    """An adapter class the connector builds from its settings (``Connector(settings,
    MyAdapter)``), handing it a sender that retries, keeps to the marketplace's rate limit and
    stops calling through a circuit breaker while the marketplace is down."""

    name: str
    """Names the circuit breaker and the rate limit (shared through Redis by worker processes)."""

    def from_settings(self, settings: ConnectorSettings, sender: Sender) -> Marketplace:
        """The adapter for ``settings.marketplace_url`` and its credentials."""
        ...


def load_adapter(name: str) -> MarketplaceAdapter:
    """The adapter class ``name`` (``module:Class``, as ``SENTOFFERS_CONNECTOR_ADAPTER``
    gives it), imported."""
    try:
        found = pkgutil.resolve_name(name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"SENTOFFERS_CONNECTOR_ADAPTER {name!r}: {error}") from error
    if not (isinstance(found, type) and hasattr(found, "from_settings")):
        raise ValueError(
            f"SENTOFFERS_CONNECTOR_ADAPTER {name!r} is not an adapter class "
            "with a from_settings class method"
        )
    return cast("MarketplaceAdapter", found)

"""The connector toolkit: VTEX catalog notifications in, a marketplace and the service out.

A connector receives VTEX's notifications at its affiliate endpoint (``POST
/api/notification/``), follows the steps of "How to keep prices updated" for each SKU
(``Pipeline``), sends what passes to the marketplace through an adapter (``Marketplace``;
``SampleMarketplaceAdapter`` is the example), and reports every step to the service through
the SDK: an interaction per origin, with its logs, evidence and error codes. A states table,
a contingency queue and an approval queue (``StateStore``) keep it from losing work or
looping; an inventory sweep keeps stock right between notifications.

::

    from sentoffers.connector import Connector, ConnectorSettings, create_app

    connector = Connector(ConnectorSettings())  # SENTOFFERS_CONNECTOR_* variables
    app = create_app(connector)                 # serve with uvicorn

See docs/connector-guide.md.
"""

from sentoffers.connector.app import create_app
from sentoffers.connector.evidence import as_curl, exchange_evidence, response_text
from sentoffers.connector.http import Pacer, Sender
from sentoffers.connector.marketplace import (
    ListingGone,
    Marketplace,
    MarketplaceAuthFailed,
    MarketplaceError,
    MarketplaceRefused,
    MarketplaceUnavailable,
    Sent,
)
from sentoffers.connector.marketplaces.sample import SampleMarketplaceAdapter
from sentoffers.connector.model import (
    Exchange,
    Job,
    Listing,
    Notification,
    OfferValues,
    Problem,
    SkuRecord,
    SkuState,
    Store,
    VtexProduct,
    VtexSku,
    parse_notification,
)
from sentoffers.connector.pipeline import Pipeline
from sentoffers.connector.queue import InProcessQueue, WorkQueue
from sentoffers.connector.report import Draft, Reporter
from sentoffers.connector.runtime import Connector, UnknownStore
from sentoffers.connector.settings import ConnectorSettings, StoreSettings
from sentoffers.connector.store import StateStore
from sentoffers.connector.vtex import VtexClient

__all__ = [
    "Connector",
    "ConnectorSettings",
    "Draft",
    "Exchange",
    "InProcessQueue",
    "Job",
    "Listing",
    "ListingGone",
    "Marketplace",
    "MarketplaceAuthFailed",
    "MarketplaceError",
    "MarketplaceRefused",
    "MarketplaceUnavailable",
    "Notification",
    "OfferValues",
    "Pacer",
    "Pipeline",
    "Problem",
    "Reporter",
    "SampleMarketplaceAdapter",
    "Sender",
    "Sent",
    "SkuRecord",
    "SkuState",
    "StateStore",
    "Store",
    "StoreSettings",
    "UnknownStore",
    "VtexClient",
    "VtexProduct",
    "VtexSku",
    "WorkQueue",
    "as_curl",
    "create_app",
    "exchange_evidence",
    "parse_notification",
    "response_text",
]

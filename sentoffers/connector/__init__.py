"""The connector toolkit: VTEX catalog notifications in, a marketplace and the service out.

A connector receives VTEX's notifications at its affiliate endpoint (``POST
/api/notification/``), follows the steps of "How to keep prices updated" for each SKU
(``Pipeline``), sends what passes to the marketplace through an adapter (``Marketplace``;
``sentoffers.sandbox.adapter`` is the worked example), and reports every step to the
service through the SDK, in batches: an interaction per origin, with its logs, evidence and
error codes.
Work goes through durable queues per context and store held in the connector's database by
the work ledger (``WorkLedger``: the one owner of a job's state; nothing acknowledged is
lost; retries are due later, dead letters kept with their reason) and drained by
``QueueWorkers``, in this process or in worker processes sharing a PostgreSQL database; the
marketplace is held to its rate limit, behind a circuit breaker, in lots.
A states table and an approval queue (``StateStore``) keep it from looping; an inventory
sweep keeps stock right between notifications.

::

    from sentoffers.connector import Connector, ConnectorSettings, create_app

    settings = ConnectorSettings()              # SENTOFFERS_CONNECTOR_* variables
    connector = Connector(settings, MyAdapter)  # a MarketplaceAdapter of your own
    app = create_app(connector)                 # serve with uvicorn

See docs/connector-guide.md.
"""

from sentoffers.connector.app import create_app
from sentoffers.connector.evidence import as_curl, exchange_evidence, response_text
from sentoffers.connector.guard import Breaker, BreakerEvent, RateLimit
from sentoffers.connector.http import Sender
from sentoffers.connector.ledger import DeadLetter, WorkLedger
from sentoffers.connector.marketplace import (
    ListingGone,
    Marketplace,
    MarketplaceAdapter,
    MarketplaceAuthFailed,
    MarketplaceError,
    MarketplaceRefused,
    MarketplaceUnavailable,
    Sent,
)
from sentoffers.connector.model import (
    Exchange,
    Job,
    Listing,
    Notification,
    OfferValues,
    ReportedError,
    SkuRecord,
    SkuState,
    Store,
    VtexProduct,
    VtexSku,
    parse_notification,
)
from sentoffers.connector.pipeline import Pipeline
from sentoffers.connector.queues import QueueWorkers
from sentoffers.connector.report import Draft, Reporter
from sentoffers.connector.runtime import Connector, UnknownStore
from sentoffers.connector.settings import ConnectorSettings, StoreSettings
from sentoffers.connector.store import StateStore
from sentoffers.connector.vtex import VtexClient

__all__ = [
    "Breaker",
    "BreakerEvent",
    "Connector",
    "ConnectorSettings",
    "DeadLetter",
    "Draft",
    "Exchange",
    "Job",
    "Listing",
    "ListingGone",
    "Marketplace",
    "MarketplaceAdapter",
    "MarketplaceAuthFailed",
    "MarketplaceError",
    "MarketplaceRefused",
    "MarketplaceUnavailable",
    "Notification",
    "OfferValues",
    "Pipeline",
    "QueueWorkers",
    "RateLimit",
    "ReportedError",
    "Reporter",
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
    "WorkLedger",
    "as_curl",
    "create_app",
    "exchange_evidence",
    "parse_notification",
    "response_text",
]

"""The connector's settings, from ``SENTOFFERS_CONNECTOR_*`` variables or the command line.

One store is given by its own variables (``SENTOFFERS_CONNECTOR_ACCOUNT``,
``..._VTEX_BASE_URL``, ``..._VTEX_APP_KEY``, ...); several as a JSON list in
``SENTOFFERS_CONNECTOR_STORES`` (``[{"account": ..., "vtexBaseUrl": ..., "appKey": ...,
"appToken": ..., "affiliateId": ..., "salesChannel": 1}]``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from pydantic_settings import BaseSettings, SettingsConfigDict

from sentoffers.connector.model import Store

__all__ = ["ConnectorSettings", "StoreSettings"]


class StoreSettings(BaseModel):
    """One store (a seller's VTEX account) and its trade policy."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    account: str = Field(min_length=1, max_length=128)
    vtex_base_url: str = Field(pattern=r"^https?://\S+$")
    app_key: str = Field(min_length=1)
    app_token: str = Field(min_length=1)
    affiliate_id: str = Field(default="SMP", min_length=1, max_length=64)
    sales_channel: int = Field(default=1, ge=1)
    currency: str = "BRL"

    def to_store(self) -> Store:
        return Store(
            account=self.account,
            vtex_base_url=self.vtex_base_url,
            app_key=self.app_key,
            app_token=self.app_token,
            affiliate_id=self.affiliate_id,
            sales_channel=self.sales_channel,
            currency=self.currency,
        )


class ConnectorSettings(BaseSettings):
    """Where the service, the stores and the marketplace are, and how hard to work."""

    model_config = SettingsConfigDict(
        env_prefix="SENTOFFERS_CONNECTOR_", env_file=None, extra="ignore"
    )

    # The sentoffers service and the connector key it gave.
    service_url: str = "http://127.0.0.1:8000"
    service_app_key: str | None = None
    service_app_token: str | None = None
    agent: str = "sentoffers-connector"
    # The connector's own database: states table, and the work ledger that holds the queues
    # (retries and dead letters too). SQLite for one process; PostgreSQL
    # (postgresql+psycopg://...) shared by several worker processes.
    database_url: str = "sqlite:///data/connector.db"
    # This process drains the queues too (off: only the affiliate endpoint; run
    # `sentoffers connector worker` processes beside it, on a shared PostgreSQL database).
    workers_in_process: bool = True
    # How often workers look for work added by other processes, and for retries come due.
    poll_seconds: float = Field(default=0.2, gt=0, le=60)
    # Redis (redis://host:6379/0), where several worker processes share the marketplace's
    # rate limit and circuit breaker; unset: each process keeps its own, in memory.
    redis_url: str | None = Field(default=None, pattern=r"^rediss?://\S+$")
    # No longer read: the queues live in the work ledger, in ``database_url``. Refused when
    # set, so a deployment that relied on it learns so at start instead of running apart.
    queue_url: str | None = None
    # One store ...
    account: str | None = None
    vtex_base_url: str | None = Field(default=None, pattern=r"^(https?://\S+)?$")
    vtex_app_key: str | None = None
    vtex_app_token: str | None = None
    affiliate_id: str = "SMP"
    sales_channel: int = Field(default=1, ge=1)
    currency: str = "BRL"
    # ... or several.
    stores: list[StoreSettings] = Field(default_factory=list)
    # The marketplace: the adapter that talks to it (``module:Class``, a ``MarketplaceAdapter``;
    # the sandbox's sample marketplace unless told), where it is, and its credentials.
    adapter: str = Field(
        default="sentoffers.sandbox.adapter:SampleMarketplaceAdapter", pattern=r"^[\w.]+:[\w.]+$"
    )
    marketplace_url: str = "http://127.0.0.1:9100"
    marketplace_client_id: str = "sandbox-connector"
    marketplace_client_secret: str | None = None
    marketplace_requests_per_second: float | None = Field(default=None, gt=0)
    # Items per lot (the marketplace's published maximum); unset: one call per SKU.
    marketplace_lot_size: int | None = Field(default=None, ge=1, le=1000)
    # The longest Retry-After (429, 503) waited out within one call; a longer one ends the
    # call unanswered, and the SKU is retried later (counted by the circuit breaker).
    marketplace_max_retry_after_seconds: float = Field(default=10.0, ge=0)
    # The circuit breaker: opens after this many calls in a row go unanswered, for so long.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=10.0, gt=0)
    # Work: catalog jobs at once per store (price and inventory: a quarter, at least 4).
    workers: int = Field(default=64, ge=1, le=1024)
    timeout_seconds: float = Field(default=10.0, gt=0)
    sweep_interval_seconds: float = Field(default=300.0, gt=0)
    # Retries of work VTEX or the marketplace did not answer: after base, 2 x base, ... up to
    # max seconds; a dead letter after max_attempts.
    max_attempts: int = Field(default=8, ge=1, le=100)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=600.0, gt=0)
    # How long a worker holds a job before another may take it (renewed while it works).
    lease_seconds: float = Field(default=60.0, ge=1)
    # SKUs whose fulfillment simulations share one call (1: a call per SKU).
    simulation_lot_size: int = Field(default=50, ge=1, le=500)
    # Reports per request to the service's batch endpoint (0: one request per interaction).
    report_batch_size: int = Field(default=200, ge=0, le=1000)
    admin_token: str | None = None
    # The affiliate endpoint: VTEX's notifications must carry this secret, in the query of
    # the notification URL (`/api/notification/?secret=...`) or an `X-Notification-Secret`
    # header. Unset: only requests from this machine (loopback, not through a proxy) are
    # served. A notification is a small JSON object: a larger body is refused (413).
    notification_secret: str | None = Field(default=None, min_length=16)
    notification_max_bytes: int = Field(default=64 * 1024, gt=0)

    def all_stores(self) -> list[Store]:
        """The stores configured, one by one or as a list."""
        found = [store.to_store() for store in self.stores]
        if self.account:
            single: dict[str, Any] = {
                "account": self.account,
                "vtex_base_url": self.vtex_base_url or "",
                "app_key": self.vtex_app_key or "",
                "app_token": self.vtex_app_token or "",
                "affiliate_id": self.affiliate_id,
                "sales_channel": self.sales_channel,
                "currency": self.currency,
            }
            found.append(StoreSettings.model_validate(single).to_store())
        return found

    @field_validator("queue_url")
    @classmethod
    def _queue_url_is_gone(cls, value: str | None) -> None:
        if value:
            raise ValueError(
                "SENTOFFERS_CONNECTOR_QUEUE_URL is no longer read: the queues live in the work "
                "ledger, in SENTOFFERS_CONNECTOR_DATABASE_URL (PostgreSQL for several worker "
                "processes); SENTOFFERS_CONNECTOR_REDIS_URL shares the rate limit and breaker"
            )

"""The connector's settings, from ``SENTOFFERS_CONNECTOR_*`` variables or the command line.

One store is given by its own variables (``SENTOFFERS_CONNECTOR_ACCOUNT``,
``..._VTEX_BASE_URL``, ``..._VTEX_APP_KEY``, ...); several as a JSON list in
``SENTOFFERS_CONNECTOR_STORES`` (``[{"account": ..., "vtexBaseUrl": ..., "appKey": ...,
"appToken": ..., "affiliateId": ..., "salesChannel": 1}]``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
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
    # The connector's own database (states table, queues).
    database_url: str = "sqlite:///data/connector.db"
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
    # The sample marketplace.
    marketplace_url: str = "http://127.0.0.1:9100"
    marketplace_client_id: str = "sandbox-connector"
    marketplace_client_secret: str | None = None
    marketplace_requests_per_second: float | None = Field(default=None, gt=0)
    # Work.
    workers: int = Field(default=8, ge=1, le=256)
    timeout_seconds: float = Field(default=10.0, gt=0)
    sweep_interval_seconds: float = Field(default=300.0, gt=0)
    contingency_interval_seconds: float = Field(default=15.0, gt=0)
    admin_token: str | None = None

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

"""Settings, read from the environment (``SENTOFFERS_*``) and the command line."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTOFFERS_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///data/sentoffers.db"
    secret_key: str = DEVELOPMENT_SECRET
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    batch_max_items: int = Field(default=1000, gt=0)
    idle_timeout_hours: float = Field(default=24.0, gt=0)
    idle_sweep_seconds: float = Field(default=300.0, gt=0)
    # An offer in Sending for longer than this is stuck: flagged, counted and filterable.
    stuck_after_seconds: float = Field(default=1800.0, gt=0)
    retention_days: float = Field(default=10.0, gt=0)
    purge_every_seconds: float = Field(default=3600.0, gt=0)
    purge_chunk_rows: int = Field(default=5000, gt=0)
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    auth_cache_seconds: float = Field(default=30.0, ge=0)
    db_pool_size: int = Field(default=10, gt=0)
    background_jobs: bool = True
    # Offer metadata from the VTEX Catalog; off while no base URL is set. `{account}` in the
    # URL is replaced by the offer's account.
    catalog_base_url: str | None = Field(default=None, pattern=r"^(https?://\S+)?$")
    catalog_app_key: str | None = None
    catalog_app_token: str | None = None
    catalog_interval_seconds: float = Field(default=30.0, gt=0)
    catalog_batch_size: int = Field(default=100, gt=0)
    catalog_concurrency: int = Field(default=4, gt=0, le=64)
    catalog_timeout_seconds: float = Field(default=5.0, gt=0)
    catalog_retry_seconds: float = Field(default=3600.0, gt=0)
    # The web UI. Edit links are filled with the URL-encoded `{accountName}`, `{skuId}` and
    # `{productId}` of the offer shown.
    ui_secure_cookie: bool = False
    ui_session_hours: float = Field(default=8.0, gt=0)
    # Origins (`http://host:port`, space-separated) the UI also shows images from, beside
    # https: and data: images; e.g. a catalog served over plain http, as the demo's sandbox.
    ui_image_origins: str = Field(
        default="",
        pattern=r"^\s*(https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(\s+|$))*$",
    )
    ui_edit_information_url: str = (
        "https://{accountName}.myvtex.com/admin/Site/SkuForm.aspx?IdSku={skuId}"
    )
    ui_edit_price_url: str = "https://{accountName}.myvtex.com/admin/pricing/#/sku/{skuId}"
    ui_edit_inventory_url: str = (
        "https://{accountName}.myvtex.com/admin/logistics/#/inventory?keyword={skuId}"
    )
    ui_live_poll_seconds: float = Field(default=1.0, gt=0)
    ui_live_max_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "SENTOFFERS_SECRET_KEY must be set to a real secret outside development"
            )
        return self

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(hours=self.idle_timeout_hours)

    @property
    def stuck_after(self) -> timedelta:
        return timedelta(seconds=self.stuck_after_seconds)

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.retention_days)

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.idempotency_ttl_hours)

    @property
    def ui_session(self) -> timedelta:
        return timedelta(hours=self.ui_session_hours)

    @property
    def catalog_retry(self) -> timedelta:
        return timedelta(seconds=self.catalog_retry_seconds)

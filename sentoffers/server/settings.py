"""Settings, read from the environment (``SENTOFFERS_*``) and the command line."""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me"


def _lowercase(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _none_if_blank(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTOFFERS_", env_file=None, extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///data/sentoffers.db"
    # Security (docs/security.md). The secret signs VtexIdclientAutCookie tokens and web UI
    # sessions; unset, one is made on first run and kept in `secret_key` in the data
    # directory (beside a SQLite store, else `data_dir`), mode 0600 (sentoffers.server.secret).
    secret_key: Annotated[str | None, BeforeValidator(_none_if_blank)] = Field(
        default=None, min_length=32
    )
    data_dir: str = "data"
    # A VtexIdclientAutCookie token lasts an hour; none is accepted further ahead than this.
    token_max_seconds: int = Field(default=86400, gt=0, le=7 * 86400)
    # Proxies (comma-separated addresses or networks) whose X-Forwarded-For and
    # X-Forwarded-Proto uvicorn trusts; `*` trusts every client.
    forwarded_allow_ips: str = "127.0.0.1,::1"
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
    # Cookies are Secure on requests that came over HTTPS, and on every request with this.
    ui_secure_cookie: bool = False
    ui_session_hours: float = Field(default=8.0, gt=0, le=7 * 24)
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
    # Limits (docs/security.md); 0 turns one off. Requests per API key and, for requests
    # without one (the web UI, public routes, docs), per client address: past a limit, 429
    # with Retry-After. Failed authentications (API headers or token, token login, UI
    # sign-in) per app key and per address within the window: past it, 429 before any
    # check. Counters in memory (one process) or Redis (`redis://host:6379/0`, shared by
    # processes). Live-update streams open at once, per UI session and per process.
    rate_limit_storage: str = Field(default="memory://", pattern=r"^(memory://|rediss?://\S+)$")
    rate_limit_key_per_second: int = Field(default=100, ge=0)
    rate_limit_key_per_minute: int = Field(default=5000, ge=0)
    rate_limit_ip_per_second: int = Field(default=50, ge=0)
    rate_limit_ip_per_minute: int = Field(default=1500, ge=0)
    login_failures_max: int = Field(default=10, ge=0)
    login_failures_window_seconds: int = Field(default=60, gt=0)
    ui_live_streams_per_session: int = Field(default=10, ge=0)
    ui_live_streams_max: int = Field(default=100, ge=0)
    # Operations (docs/operations.md). Logs: JSON lines (or text), one access line per
    # request; tracebacks only at debug.
    log_level: Annotated[
        Literal["debug", "info", "warning", "error"], BeforeValidator(_lowercase)
    ] = "info"
    log_format: Annotated[Literal["json", "text"], BeforeValidator(_lowercase)] = "json"
    access_log: bool = True
    # /metrics is closed unless scraped with `Authorization: Bearer <metrics_token>`, or
    # public (for a port only the scraper reaches).
    metrics_token: str | None = Field(default=None, min_length=16)
    metrics_public: bool = False
    # /health/ready fails when the store takes longer than this to answer.
    ready_timeout_seconds: float = Field(default=2.0, gt=0)
    # SQLite: `full` syncs every commit to disk (a commit survives a power loss); `normal`
    # is faster but may lose the last commits on a power loss (never on a process crash).
    sqlite_synchronous: Annotated[Literal["normal", "full"], BeforeValidator(_lowercase)] = "full"

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        # Published in the source, so it signs nothing, whatever the environment.
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "SENTOFFERS_SECRET_KEY is the published development secret, which anyone can "
                "sign tokens and sessions with: unset it (a random secret is then kept in the "
                "data directory) or set a random one, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
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


logger = logging.getLogger("sentoffers.bootstrap")


def is_loopback(host: str) -> bool:
    """Whether a server listening on ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[] ")).is_loopback
    except ValueError:
        return False


def insecure_settings(settings: Settings, host: str) -> list[str]:
    """What ``settings`` leave as in development, for a server on ``host``: a line each."""
    found = []
    if settings.environment != "production":
        found.append(
            f"SENTOFFERS_ENVIRONMENT is {settings.environment}: set it to production on a "
            "real deployment"
        )
    if settings.environment == "test" and not settings.secret_key:
        found.append(
            "SENTOFFERS_ENVIRONMENT is test: the secret is random per process, so tokens "
            "and web sessions end at a restart and differ between workers"
        )
    exposed = not is_loopback(host)
    if exposed and not settings.ui_secure_cookie:
        found.append(
            f"SENTOFFERS_UI_SECURE_COOKIE is off and the service listens on {host}: the web "
            "UI's cookies are Secure only on requests that came over HTTPS (directly, or "
            "through a proxy in --forwarded-allow-ips); set it to true when served over HTTPS"
        )
    if exposed and settings.metrics_public:
        found.append(
            f"SENTOFFERS_METRICS_PUBLIC is true and the service listens on {host}: /metrics "
            "answers anyone who reaches it; set SENTOFFERS_METRICS_TOKEN instead"
        )
    if "*" in (part.strip() for part in settings.forwarded_allow_ips.split(",")):
        found.append(
            "SENTOFFERS_FORWARDED_ALLOW_IPS is *: any client can claim HTTPS and any address "
            "with X-Forwarded-* headers; name the proxy's address instead"
        )
    return found


def warn_insecure_settings(settings: Settings, host: str) -> None:
    """Log one warning for each of ``insecure_settings``."""
    for warning in insecure_settings(settings, host):
        logger.warning(warning)

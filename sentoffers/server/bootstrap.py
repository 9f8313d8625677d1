"""The one place where concrete parts are wired together."""

from __future__ import annotations

import ipaddress
import logging

from fastapi import FastAPI

from sentoffers.server.app import create_app
from sentoffers.server.settings import Settings
from sentoffers.server.store.migrate import upgrade
from sentoffers.sql.db import Database, create_db_engine

logger = logging.getLogger(__name__)


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The database of ``settings``, brought to the latest schema unless told not to."""
    engine = create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    if migrate:
        upgrade(engine)
    return Database(engine)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(settings, open_database(settings))


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

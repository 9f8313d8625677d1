"""The service's parts, as the API's routes and the web UI's pages take them.

``create_app`` makes the parts once, as one ``ServiceParts``, and puts them on the app
(``attach``). A route or a page names each part it needs as a typed parameter::

    def get_feed(feed_id: FeedId, tenant: ReadTenant, db: Db) -> FeedRead: ...

These dependencies read only the app, never the request's parameters, so they add nothing
to the OpenAPI schema. A plain function handed a request rather than its parts (the UI's
session and form-token helpers) reads them with ``parts_of``. The middleware are given
their parts by ``create_app`` when they are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.applications import Starlette

from sentoffers.server.features.error_codes.catalog import ErrorCodeCatalog
from sentoffers.server.features.interactions.writer import UnifiedWriter
from sentoffers.server.features.keys import Authenticator
from sentoffers.server.settings import Settings
from sentoffers.server.store.idempotency import KeyLedger
from sentoffers.server.web.api.limits import LoginThrottle, ServiceLimits
from sentoffers.sql.db import Database

__all__ = [
    "AppSettings",
    "AuthenticatorDep",
    "Db",
    "ErrorCodes",
    "Limits",
    "LoginThrottleDep",
    "Parts",
    "ServiceParts",
    "Writer",
    "attach",
    "parts_of",
]


@dataclass(frozen=True, slots=True)
class ServiceParts:
    """Everything of one service that routes, pages and middleware use, made once."""

    settings: Settings
    """With the signing secret resolved (``sentoffers.server.secret.with_secret``)."""
    db: Database
    authenticator: Authenticator
    error_codes: ErrorCodeCatalog
    """The known error-code ids, reloaded when a route changes the global list."""
    unified_writer: UnifiedWriter
    """The group-commit writer of the unified contract."""
    idempotency_keys: KeyLedger
    limits: ServiceLimits


_ATTRIBUTE = "parts"
"""The one attribute of ``app.state`` the parts are kept in."""


def attach(app: Starlette, parts: ServiceParts) -> None:
    """Put ``parts`` on ``app``, for ``parts_of`` to find."""
    setattr(app.state, _ATTRIBUTE, parts)


def parts_of(app: Starlette) -> ServiceParts:
    """The parts ``create_app`` put on ``app``."""
    parts = getattr(app.state, _ATTRIBUTE, None)
    if not isinstance(parts, ServiceParts):
        raise RuntimeError("this app has no service parts: make it with create_app")
    return parts


async def _parts(request: Request) -> ServiceParts:
    # Coroutines, so FastAPI calls these dependencies in the event loop, not in a thread.
    return parts_of(request.app)


Parts = Annotated[ServiceParts, Depends(_parts)]


async def _settings(parts: Parts) -> Settings:
    return parts.settings


async def _db(parts: Parts) -> Database:
    return parts.db


async def _authenticator(parts: Parts) -> Authenticator:
    return parts.authenticator


async def _error_codes(parts: Parts) -> ErrorCodeCatalog:
    return parts.error_codes


async def _unified_writer(parts: Parts) -> UnifiedWriter:
    return parts.unified_writer


async def _limits(parts: Parts) -> ServiceLimits:
    return parts.limits


async def _login_throttle(parts: Parts) -> LoginThrottle:
    return parts.limits.logins


AppSettings = Annotated[Settings, Depends(_settings)]
Db = Annotated[Database, Depends(_db)]
AuthenticatorDep = Annotated[Authenticator, Depends(_authenticator)]
ErrorCodes = Annotated[ErrorCodeCatalog, Depends(_error_codes)]
Writer = Annotated[UnifiedWriter, Depends(_unified_writer)]
Limits = Annotated[ServiceLimits, Depends(_limits)]
LoginThrottleDep = Annotated[LoginThrottle, Depends(_login_throttle)]

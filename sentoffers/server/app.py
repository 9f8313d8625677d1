"""The composition root: the one place where the service's concrete parts are made and
wired together (settings, database, authenticator, writer, caches, limits, jobs), then every
route, middleware and error handler. Routes and pages reach the parts through the typed
dependencies of ``sentoffers.server.web.api.deps``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sentoffers import __version__
from sentoffers.domain.idempotency import IDEMPOTENCY_KEY_HEADER
from sentoffers.server.features.error_codes.catalog import ErrorCodeCatalog
from sentoffers.server.features.interactions.writer import UnifiedWriter
from sentoffers.server.features.keys import Authenticator
from sentoffers.server.jobs import BackgroundJobs
from sentoffers.server.secret import signing_secret, with_secret
from sentoffers.server.settings import Settings
from sentoffers.server.store.idempotency import KeyLedger
from sentoffers.server.store.migrate import upgrade
from sentoffers.server.web.api.auth import AuthMiddleware
from sentoffers.server.web.api.deps import ServiceParts, attach
from sentoffers.server.web.api.errors import install_error_handlers
from sentoffers.server.web.api.health import health_router
from sentoffers.server.web.api.idempotency import IdempotencyMiddleware
from sentoffers.server.web.api.limits import RateLimitMiddleware, ServiceLimits
from sentoffers.server.web.api.middleware import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    RequestLogMiddleware,
    UnexpectedErrorMiddleware,
)
from sentoffers.server.web.api.routes import add_routes
from sentoffers.server.web.api.routes.channels import router as channels_router
from sentoffers.server.web.api.routes.error_codes import router as error_codes_router
from sentoffers.server.web.api.routes.feeds import router as feeds_router
from sentoffers.server.web.api.routes.interactions import router as interactions_router
from sentoffers.server.web.api.routes.keys import router as keys_router
from sentoffers.server.web.api.routes.offers import router as offers_router
from sentoffers.server.web.api.routes.search import router as search_router
from sentoffers.server.web.ui import SecurityHeadersMiddleware, image_origins, install_ui
from sentoffers.sql.db import Database, create_db_engine

DESCRIPTION = """\
Offer Management (Sent Offers) for marketplace connectors: channels, feeds, interactions
and logs, from which each offer's status and open errors are derived.

Authenticate with `X-VTEX-API-AppKey` and `X-VTEX-API-AppToken`, or a `VtexIdclientAutCookie`
token. Every account-scoped route takes the account in the `an` query parameter. Errors
answer `{"errors": [{"code", "message", "field"}]}` with every problem listed.

Every POST under `/api/sent-offers` takes an optional `Idempotency-Key` header (1 to 255
visible ASCII characters), scoped by account: a retry of the same request within 24 hours
is answered the first answer again, with `Idempotent-Replayed: true`, and writes nothing.
The same key on a different request answers 409 `idempotency_key_reused`; while the first
request still runs, 409 `idempotency_key_in_use` with `Retry-After: 1`. Answers of 500 and
over are not kept, so their retries run again.
"""


def create_app(settings: Settings, db: Database) -> FastAPI:
    settings = with_secret(settings)  # once, for the tokens and the UI's sessions
    error_codes = ErrorCodeCatalog(db)
    parts = ServiceParts(
        settings=settings,
        db=db,
        authenticator=Authenticator(
            db,
            signing_secret(settings),
            cache_seconds=settings.auth_cache_seconds,
            token_max_seconds=settings.token_max_seconds,
        ),
        error_codes=error_codes,
        unified_writer=UnifiedWriter(db, error_codes.ids, max_items=settings.batch_max_items),
        idempotency_keys=KeyLedger(db, settings.idempotency_ttl),
        limits=ServiceLimits.from_settings(settings),
    )
    jobs = BackgroundJobs(settings, db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.background_jobs:
            jobs.start()
        try:
            yield
        finally:
            await parts.unified_writer.stop()
            await parts.idempotency_keys.stop()
            await jobs.stop()

    app = FastAPI(
        title="sentoffers",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    attach(app, parts)

    install_error_handlers(app)
    add_routes(app, health_router(db, settings))

    routers = (
        channels_router,
        feeds_router,
        interactions_router,
        offers_router,
        search_router,
        error_codes_router,
        keys_router,
    )
    for router in routers:
        add_routes(app, router)
    install_ui(app)
    app.openapi = lambda: _openapi_with_security(app)  # type: ignore[method-assign]

    # Outermost first: logs and metrics, ids, the last resort for errors (authentication
    # and idempotency use the store too), then the body limit, then authentication, then
    # idempotency (which needs the principal). The last added runs first.
    app.add_middleware(IdempotencyMiddleware, ledger=parts.idempotency_keys)
    # Right after authentication, which names the key whose limits a request counts against.
    app.add_middleware(RateLimitMiddleware, limits=parts.limits.requests)
    app.add_middleware(
        AuthMiddleware, authenticator=parts.authenticator, logins=parts.limits.logins
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # In tests an unexpected error reaches the test client, so that the test fails.
    app.add_middleware(UnexpectedErrorMiddleware, reraise=settings.environment == "test")
    app.add_middleware(RequestIdMiddleware)
    # Outside the others: the web UI's security headers reach even its error pages.
    app.add_middleware(
        SecurityHeadersMiddleware, image_origins=image_origins(settings.ui_image_origins)
    )
    # Outside everything: every answer is counted and logged, with its final status.
    app.add_middleware(RequestLogMiddleware, access_log=settings.access_log)
    return app


SECURITY_SCHEMES = {
    "appKey": {"type": "apiKey", "in": "header", "name": "X-VTEX-API-AppKey"},
    "appToken": {"type": "apiKey", "in": "header", "name": "X-VTEX-API-AppToken"},
    "vtexIdToken": {"type": "apiKey", "in": "header", "name": "VtexIdclientAutCookie"},
}


IDEMPOTENCY_KEY_PARAMETER = {
    "name": IDEMPOTENCY_KEY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Optional on every POST under /api/sent-offers; makes retries safe: the same "
        "request under the same key (per account), within 24 hours, is answered the first "
        "answer again (`Idempotent-Replayed: true`) and writes nothing. The key on a "
        "different request: 409 `idempotency_key_reused`; while the first still runs: "
        "409 `idempotency_key_in_use` with `Retry-After: 1`."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def _openapi_with_security(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the credentials every /api/sent-offers route takes."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    # Described once, not on each POST: a fuzzer reusing a few generated keys across
    # different bodies would be answered 409 before any body is checked.
    components["parameters"] = {"IdempotencyKey": IDEMPOTENCY_KEY_PARAMETER}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            # Invalid input answers 400 (install_error_handlers), never FastAPI's 422.
            operation.get("responses", {}).pop("422", None)
            if path.startswith("/api/sent-offers"):
                operation["security"] = [{"appKey": [], "appToken": []}, {"vtexIdToken": []}]
    for unused in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(unused, None)
    app.openapi_schema = schema
    return schema


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

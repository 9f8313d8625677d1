"""Operating endpoints: health probes and Prometheus metrics.

- ``GET /health/live``: the process answers (no I/O): restart it when this fails.
- ``GET /health/ready``: the store answers a query within ``ready_timeout_seconds`` and
  its schema is at this code's migration head: send it traffic only while this is 200.
  503 (with ``Retry-After``) names each check that failed.
- ``GET /health``: the same as ready (it was liveness only, and said 200 with the store
  down).
- ``GET /metrics``: Prometheus's text format. Closed by default: it answers a bearer
  token (``SENTOFFERS_METRICS_TOKEN``), or anyone with ``SENTOFFERS_METRICS_PUBLIC=true``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from sentoffers.domain.errors import Problem
from sentoffers.observability.logs import describe_error
from sentoffers.observability.metrics import CONTENT_TYPE, exposition
from sentoffers.server.settings import Settings
from sentoffers.server.store.migrate import MIGRATIONS_DIR
from sentoffers.server.web.api.errors import STORE_RETRY_AFTER_SECONDS, render
from sentoffers.sql.db import Database

__all__ = ["Readiness", "health_router", "migration_heads"]

logger = logging.getLogger("sentoffers.health")

OK = "ok"


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions this code's migrations end at; read from the scripts once."""
    return frozenset(_scripts().get_heads())


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


@dataclass(frozen=True, slots=True)
class Checks:
    database: str
    migrations: str

    @property
    def ok(self) -> bool:
        return self.database == OK and self.migrations == OK


class Readiness:
    """Whether the store can serve: it answers, in time, at the code's schema.

    Probes that arrive while a check runs share its answer: a load balancer's bursts cost
    one query. A check stuck on an unreachable store holds its thread until the driver
    gives up; until then the probes are answered at once instead of piling up threads.
    """

    def __init__(self, db: Database, *, timeout: float):
        self._db = db
        self._timeout = timeout
        self._sqlite_file = _sqlite_file(db)
        self._running: asyncio.Future[Checks] | None = None
        self._reading = False  # a thread is in the store
        self._was_ok = True

    async def check(self) -> Checks:
        running = self._running
        if running is None or running.done() or running.get_loop() is not _loop():
            running = self._running = asyncio.ensure_future(self._check())
            running.add_done_callback(self._log_change)
        return await asyncio.shield(running)

    def _log_change(self, done: asyncio.Future[Checks]) -> None:
        # One line when readiness changes, not one per probe.
        if done.cancelled() or done.exception() is not None:
            return
        checks = done.result()
        if checks.ok != self._was_ok:
            self._was_ok = checks.ok
            if checks.ok:
                logger.info("ready: the store answers at the code's schema")
            else:
                logger.warning(
                    "not ready: database: %s; migrations: %s", checks.database, checks.migrations
                )

    async def _check(self) -> Checks:
        if self._reading:
            return Checks("a previous check is still waiting for the store", "unknown")
        try:
            with anyio.fail_after(self._timeout):
                revisions = await anyio.to_thread.run_sync(
                    self._read_revisions, abandon_on_cancel=True
                )
        except TimeoutError:
            return Checks(f"no answer within {self._timeout:g}s", "unknown")
        except Exception as error:
            return Checks(_unavailable(error), "unknown")
        return Checks(OK, _compare(revisions, migration_heads()))

    def _read_revisions(self) -> frozenset[str]:
        self._reading = True
        try:
            # SQLite answers from a removed file through the connections that had it open,
            # and what is written there is lost: a file gone from its path is an outage.
            if self._sqlite_file is not None and not self._sqlite_file.exists():
                raise FileNotFoundError(f"the database file {self._sqlite_file} is missing")
            with self._db.engine.connect() as conn:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                return frozenset(rows)
        finally:
            self._reading = False


def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def _sqlite_file(db: Database) -> Path | None:
    if not db.sqlite:
        return None
    database = db.engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _unavailable(error: Exception) -> str:
    described = describe_error(error)
    return f"unavailable: {described['type']}: {described['message']}"


def _compare(store: frozenset[str], code: frozenset[str]) -> str:
    if store == code:
        return OK
    stored = ", ".join(sorted(store)) or "none"
    expected = ", ".join(sorted(code))
    if store <= _known_revisions():
        # This code needs tables or columns that are not there yet.
        return (
            f"behind: the store is at {stored}, the code at {expected}; run `sentoffers db upgrade`"
        )
    # A newer release migrated the store: this code cannot tell what changed.
    return f"unknown: the store is at {stored}, which this code (at {expected}) does not know"


def health_router(db: Database, settings: Settings) -> APIRouter:
    """The probes and the metrics of the service over ``db``."""
    readiness = Readiness(db, timeout=settings.ready_timeout_seconds)
    router = APIRouter()

    async def ready() -> JSONResponse:
        checks = await readiness.check()
        body = {"status": OK if checks.ok else "unavailable", "checks": _as_dict(checks)}
        if checks.ok:
            return JSONResponse(body)
        return JSONResponse(
            body,
            status_code=503,
            headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )

    router.add_api_route(
        "/health",
        ready,
        methods=["GET"],
        tags=["Service"],
        summary="Readiness",
        description="The same as `/health/ready`: 200 while the store answers at the "
        "code's schema, else 503 with `Retry-After` and the failed checks.",
        responses={503: {"description": "The store is unavailable or not migrated"}},
    )
    router.add_api_route("/health/ready", ready, methods=["GET"], include_in_schema=False)

    @router.get("/health/live", include_in_schema=False)
    async def live() -> JSONResponse:
        return JSONResponse({"status": OK})

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        refusal = _metrics_refusal(request, settings)
        if refusal is not None:
            return refusal
        return Response(exposition(), media_type=CONTENT_TYPE)

    return router


def _as_dict(checks: Checks) -> dict[str, str]:
    return {"database": checks.database, "migrations": checks.migrations}


def _metrics_refusal(request: Request, settings: Settings) -> JSONResponse | None:
    if settings.metrics_public:
        return None
    token = settings.metrics_token
    if token is None:
        return JSONResponse(
            render(
                [
                    Problem(
                        "forbidden",
                        "metrics are closed: set SENTOFFERS_METRICS_TOKEN and scrape with "
                        "`Authorization: Bearer <token>`, or SENTOFFERS_METRICS_PUBLIC=true",
                    )
                ]
            ),
            status_code=403,
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return JSONResponse(
        render([Problem("unauthorized", "the metrics need `Authorization: Bearer <token>`")]),
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )

"""The affiliate endpoint: ``POST /api/notification/``, and a few routes to operate it.

A notification is read, checked against the stores served and queued; the answer (200)
comes at once, before any step runs: the workers do the rest. It must carry the
``SENTOFFERS_CONNECTOR_NOTIFICATION_SECRET``, in the notification URL's query (``?secret=``,
as VTEX's affiliate configuration can hold it) or an ``X-Notification-Secret`` header, else
401; while no secret is set, only requests from this machine are served (a loopback peer, not
through a proxy: the demo, the sandbox, tests). A body over ``notification_max_bytes`` (64
KiB; a notification is a few hundred bytes) is refused with 413, declared or chunked, before
it is read whole. Operating routes, under
``/api/connector``, need ``Authorization: Bearer <SENTOFFERS_CONNECTOR_ADMIN_TOKEN>`` (and
are refused while no token is set):

- ``GET /api/connector/status``: SKUs per state, work queued, running and dead, the
  queues, the circuit breaker and its last openings and closings;
- ``GET /api/connector/skus/{account}/{skuId}``: one SKU's row of the states table;
- ``GET /api/connector/approval-queue/{account}``: SKUs waiting for a category mapping;
- ``PUT /api/connector/category-map/{account}/{categoryId}`` ``{"category"}``: map a
  category, releasing the SKUs that waited for it;
- ``GET /api/connector/dead-letters`` (``?account=``): the work given up, with its reason;
  ``POST /api/connector/dead-letters/replay`` (``?account=&sku=``): queue it again;
- ``POST /api/connector/sweep``, ``POST /api/connector/load/{account}``: run those jobs now.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import Scope

from sentoffers.connector.model import InvalidNotification, parse_notification
from sentoffers.connector.runtime import Connector, UnknownStore

__all__ = ["create_app"]

log = logging.getLogger("sentoffers.connector")

SECRET_HEADER = "X-Notification-Secret"
SECRET_PARAMETER = "secret"
PROXY_HEADERS = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


class CategoryMapping(BaseModel):
    category: str = Field(min_length=1, max_length=200)


def create_app(connector: Connector) -> FastAPI:
    """The endpoint app of ``connector``; starting the app starts the connector."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not connector.settings.notification_secret:
            log.warning(
                "no SENTOFFERS_CONNECTOR_NOTIFICATION_SECRET: notifications are served from "
                "this machine only; set it, and add ?secret=<it> to VTEX's notification URL"
            )
        await connector.start()
        try:
            yield
        finally:
            await connector.stop()

    app = FastAPI(
        title="sentoffers connector",
        description="The affiliate endpoint of a marketplace connector.",
        version="1",
        lifespan=lifespan,
    )
    app.state.connector = connector

    def admin(authorization: Annotated[str | None, Header()] = None) -> None:
        token = connector.settings.admin_token
        if not token:
            raise HTTPException(403, "set SENTOFFERS_CONNECTOR_ADMIN_TOKEN to use these routes")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise HTTPException(401, "send Authorization: Bearer <admin token>")

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/notification/")
    @app.post("/api/notification", include_in_schema=False)
    async def notification(request: Request) -> JSONResponse:
        """A VTEX catalog notification: queued, answered at once."""
        refusal = _refusal(request, connector.settings.notification_secret)
        if refusal is not None:
            return JSONResponse({"errors": [refusal]}, status_code=401)
        limit = connector.settings.notification_max_bytes
        read = await _body_within(request, limit)
        if read is None:
            message = f"the body is over the limit of {limit} bytes"
            return JSONResponse({"errors": [message]}, status_code=413)
        try:
            body = json.loads(read)
            notified = parse_notification(body)
        except ValueError as error:
            problems = error.problems if isinstance(error, InvalidNotification) else [str(error)]
            return JSONResponse({"errors": problems}, status_code=400)
        try:
            connector.accept(notified)
        except UnknownStore as unknown:
            return JSONResponse({"errors": [str(unknown)]}, status_code=404)
        return JSONResponse({"accepted": True})

    guarded = [Depends(admin)]

    # Routes that touch the work queue are coroutines: the queue belongs to the event loop.
    @app.get("/api/connector/status", dependencies=guarded)
    async def status() -> dict[str, Any]:
        return connector.status()

    @app.get("/api/connector/skus/{account}/{sku_id}", dependencies=guarded)
    def sku_state(account: str, sku_id: str) -> dict[str, Any]:
        record = connector.states.get(account, sku_id)
        if record is None:
            raise HTTPException(404, f"no state for SKU {sku_id} of {account}")
        return {**asdict(record), "state": record.state.value}

    @app.get("/api/connector/approval-queue/{account}", dependencies=guarded)
    def approval_queue(account: str) -> dict[str, Any]:
        waiting = connector.states.waiting(account)
        return {
            "items": [
                {"skuId": sku, "categoryId": category, "categoryName": name}
                for sku, category, name in waiting
            ]
        }

    @app.put("/api/connector/category-map/{account}/{category_id}", dependencies=guarded)
    async def map_category(account: str, category_id: int, body: CategoryMapping) -> dict[str, int]:
        return {"released": connector.map_category(account, category_id, body.category)}

    @app.get("/api/connector/dead-letters", dependencies=guarded)
    def dead_letters(account: str | None = None) -> dict[str, Any]:
        return {
            "items": [
                {
                    "account": dead.account,
                    "skuId": dead.sku_id,
                    "queue": dead.context,
                    "attempts": dead.attempts,
                    "reason": dead.reason,
                    "since": dead.since.isoformat(),
                    "changes": dead.flags,
                }
                for dead in connector.ledger.dead_letters(account)
            ]
        }

    @app.post("/api/connector/dead-letters/replay", dependencies=guarded)
    def replay(account: str | None = None, sku: str | None = None) -> dict[str, int]:
        return {"queued": connector.replay_dead_letters(account, sku)}

    @app.post("/api/connector/sweep", dependencies=guarded)
    async def sweep() -> dict[str, int]:
        return {"queued": await connector.sweep_inventory()}

    @app.post("/api/connector/load/{account}", dependencies=guarded)
    async def load(account: str) -> dict[str, int]:
        if account not in connector.stores:
            raise HTTPException(404, f"the connector does not serve {account}")
        return {"queued": await connector.load_all(account)}

    return app


def _refusal(request: Request, secret: str | None) -> str | None:
    """Why ``request`` may not notify; None when it may."""
    if not secret:
        if _from_this_machine(request.scope):
            return None
        return (
            "notifications from other machines need a secret: set "
            "SENTOFFERS_CONNECTOR_NOTIFICATION_SECRET and add ?secret=<it> to the URL"
        )
    given = request.headers.get(SECRET_HEADER) or request.query_params.get(SECRET_PARAMETER)
    if given and hmac.compare_digest(given.encode(), secret.encode()):
        return None
    return f"the notification secret is missing or wrong (?{SECRET_PARAMETER}= or {SECRET_HEADER})"


def _from_this_machine(scope: Scope) -> bool:
    """A loopback peer, not through a proxy; or no network peer (a Unix socket, an
    in-process client)."""
    if any(name in PROXY_HEADERS for name, _ in scope["headers"]):
        return False
    client = scope.get("client")
    if not client:
        return True
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return True  # not an address: no network peer (servers name TCP peers by address)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)

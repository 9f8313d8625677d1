"""The sample marketplace's HTTP API: what a connector pushes SKUs, prices and stock to.

- ``POST /oauth/token`` (client credentials, form or JSON or HTTP Basic) -> a bearer token
  that expires after ``token_ttl_seconds``;
- ``POST /products``, ``GET /products?sku=``, ``GET|PUT /products/{id}``,
  ``PUT /products/{id}/price`` ``{"price", "listPrice"?}`` (major units, e.g. 129.9),
  ``PUT /products/{id}/inventory`` ``{"quantity"}``, ``POST /products/{id}/deactivate`` and
  ``/activate``, ``GET /categories``;
- ``POST /lots`` ``{"items": [{"operation": "upsert|price|inventory|deactivate|activate",
  "sku", ...}]}`` -> per-item results, at most ``max_lot_size`` items (413 above);
  ``GET /lots/{id}``.

Errors are ``{"errors": [{"code", "field", "message"}]}`` listing every problem found: 400 for
a body that is not a JSON object, 422 for broken rules, 401 for a missing, unknown or expired
token, 429 with ``Retry-After`` over the per-second limit, 5xx for injected failures (503 with
``Retry-After`` while down). ``/_sandbox/...`` routes (not in the OpenAPI) switch the faults.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sentoffers.sandbox._data import MARKETPLACE_CATEGORIES
from sentoffers.sandbox.marketplace.guard import Clock, Faults, RateLimiter, TokenRefused, Tokens
from sentoffers.sandbox.marketplace.state import MarketplaceError, MarketplaceState
from sentoffers.sandbox.rules import MarketplaceRules, RuleError


@dataclass(slots=True)
class MarketplaceConfig:
    """The marketplace's credentials, limits and rules."""

    client_id: str = "sandbox-connector"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    token_ttl_seconds: float = 3600.0
    rate_limit_per_second: int | None = 20
    failure_rate: float = 0.0
    fault_seed: int = 0
    max_lot_size: int = 50
    rules: MarketplaceRules = field(default_factory=MarketplaceRules)
    categories: frozenset[str] = MARKETPLACE_CATEGORIES


def _error(status: int, code: str, field_name: str, message: str, **headers: str) -> Exception:
    """One error; header names are given with ``_`` for ``-`` (``Retry_After``)."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return MarketplaceError(status, [RuleError(code, field_name, message)], named)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise _error(400, "body.invalid", "body", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _error(400, "body.invalid", "body", "the body must be a JSON object")
    return body


JsonBody = Annotated[dict[str, Any], Depends(_json_object)]
"""A request body that is a JSON object (400 otherwise)."""


class SampleMarketplace:
    """The marketplace: ``app`` to serve, ``state`` to inspect, ``faults`` to switch."""

    def __init__(self, config: MarketplaceConfig | None = None, *, clock: Clock = time.monotonic):
        self.config = config or MarketplaceConfig()
        self.state = MarketplaceState(
            self.config.rules, self.config.categories, max_lot_size=self.config.max_lot_size
        )
        self.tokens = Tokens(clock, self.config.token_ttl_seconds)
        self.limiter = RateLimiter(clock, self.config.rate_limit_per_second)
        self.faults = Faults(
            clock, failure_rate=self.config.failure_rate, seed=self.config.fault_seed
        )
        self.app = self._build()

    def _endpoint(self, request: Request) -> str:
        route = request.scope.get("route")
        return f"{request.method} {getattr(route, 'path', request.url.path)}"

    def _check_down(self) -> None:
        left = self.faults.down_remaining()
        if left is not None:
            retry = {"Retry-After": str(max(1, math.ceil(left)))}
            raise _error(503, "service.down", "", "the marketplace is down", **retry)

    def _check_failure(self) -> None:
        status = self.faults.failure()
        if status is not None:
            raise _error(status, "service.transient", "", "a transient failure; try again")

    def guard(self, request: Request) -> str:
        """Count the request, then: down? token? over the limit? failing? -> the client id."""
        self.state.count_request(self._endpoint(request))
        self._check_down()
        try:
            client_id = self.tokens.client_of(request.headers.get("Authorization"))
        except TokenRefused as refused:
            challenge = f'Bearer error="invalid_token", error_description="{refused.message}"'
            raise _error(
                401, refused.code, "Authorization", refused.message, WWW_Authenticate=challenge
            ) from None
        wait = self.limiter.retry_after(client_id)
        if wait is not None:
            limit = f"over {self.limiter.per_second} requests per second"
            raise _error(429, "rate_limited", "", limit, Retry_After=str(wait))
        self._check_failure()
        return client_id

    async def token(self, request: Request) -> JSONResponse:
        """``POST /oauth/token``: OAuth 2 client credentials."""
        self.state.count_request(self._endpoint(request))
        self._check_down()
        self._check_failure()
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = None
            fields = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        else:
            fields = dict(parse_qsl(raw.decode("utf-8", "replace")))
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
                fields.setdefault("client_id", user)
                fields.setdefault("client_secret", password)
            except (binascii.Error, UnicodeDecodeError):
                pass
        if fields.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "use client_credentials"},
                status_code=400,
            )
        good_id = hmac.compare_digest(fields.get("client_id", ""), self.config.client_id)
        good_secret = hmac.compare_digest(
            fields.get("client_secret", ""), self.config.client_secret
        )
        if not (good_id and good_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "unknown client or wrong secret"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="marketplace"'},
            )
        issued = self.tokens.issue(self.config.client_id)
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _build(self) -> FastAPI:
        app = FastAPI(
            title="Sample marketplace (sentoffers sandbox)",
            description="A marketplace API with registration rules, throttling and failures.",
            version="sandbox",
        )
        app.add_api_route("/oauth/token", self.token, methods=["POST"], tags=["auth"])
        app.include_router(self._routes())
        from sentoffers.sandbox.marketplace.control import control_routes

        app.include_router(control_routes(self))

        @app.exception_handler(MarketplaceError)
        async def refused(_request: Request, error: MarketplaceError) -> JSONResponse:
            return JSONResponse(
                {"errors": [e.as_json() for e in error.errors]},
                status_code=error.status,
                headers=error.headers,
            )

        @app.exception_handler(RequestValidationError)
        async def bad_request(_request: Request, error: RequestValidationError) -> JSONResponse:
            errors = [
                {
                    "code": "request.invalid",
                    "field": ".".join(str(part) for part in item["loc"]),
                    "message": item["msg"],
                }
                for item in error.errors()
            ]
            return JSONResponse({"errors": errors}, status_code=400)

        return app

    def _routes(self) -> APIRouter:
        router = APIRouter(dependencies=[Depends(self.guard)], tags=["products"])
        state = self.state

        @router.get("/categories")
        def categories() -> dict[str, list[str]]:
            """The category ids products may be listed in."""
            return {"categories": sorted(state.categories)}

        @router.post("/products", status_code=201)
        def create(body: JsonBody) -> JSONResponse:
            """List a product; 422 with every broken rule, 409 if its SKU is listed."""
            product = state.create(body)
            return JSONResponse(
                product.as_json(), status_code=201, headers={"Location": f"/products/{product.id}"}
            )

        @router.get("/products")
        def find(sku: str | None = None, offset: int = 0, limit: int = 100) -> dict[str, Any]:
            """The product of a seller SKU (``sku``), or a page of all products."""
            if sku is not None:
                found = state.find(sku)
                return {"items": [found.as_json()] if found else [], "total": int(bool(found))}
            products = state.products()
            page = products[max(0, offset) : max(0, offset) + max(1, min(limit, 1000))]
            return {"items": [p.as_json() for p in page], "total": len(products)}

        @router.get("/products/{id}")
        def get(id: str) -> dict[str, Any]:
            """One product, by the marketplace's id."""
            return state.get(id).as_json()

        @router.put("/products/{id}")
        def update(id: str, body: JsonBody) -> dict[str, Any]:
            """Replace a product's registration data (the same rules as creating)."""
            return state.update(id, body).as_json()

        @router.put("/products/{id}/price")
        def price(id: str, body: JsonBody) -> dict[str, Any]:
            """Set ``price`` and, optionally, ``listPrice`` (major units)."""
            return state.set_price(id, body).as_json()

        @router.put("/products/{id}/inventory")
        def inventory(id: str, body: JsonBody) -> dict[str, Any]:
            """Set the stock ``quantity``."""
            return state.set_inventory(id, body).as_json()

        @router.post("/products/{id}/deactivate")
        def deactivate(id: str) -> dict[str, Any]:
            """Block a product (status ``inactive``)."""
            return state.set_status(id, False).as_json()

        @router.post("/products/{id}/activate")
        def activate(id: str) -> dict[str, Any]:
            """Unblock a product (status ``active``)."""
            return state.set_status(id, True).as_json()

        @router.post("/lots")
        def lot(body: JsonBody) -> dict[str, Any]:
            """Apply up to ``max_lot_size`` operations, each on its own; per-item results."""
            return state.apply_lot(body.get("items"))

        @router.get("/lots/{id}")
        def get_lot(id: str) -> dict[str, Any]:
            """A processed lot and its results."""
            return state.lot(id)

        return router


def build_marketplace(
    config: MarketplaceConfig | None = None, *, clock: Clock = time.monotonic
) -> SampleMarketplace:
    """The sample marketplace with ``config`` (default: random secret, 20 requests/s)."""
    return SampleMarketplace(config, clock=clock)

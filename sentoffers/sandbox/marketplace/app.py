"""The sample marketplace's HTTP API: what a connector pushes SKUs, prices and stock to.

- ``POST /oauth/token`` (client credentials, form or JSON or HTTP Basic) -> a bearer token
  that expires after ``token_ttl_seconds``;
- ``POST /products``, ``GET /products?sku=``, ``GET|PUT /products/{id}``,
  ``PUT /products/{id}/price`` ``{"price", "listPrice"?}`` (major units, e.g. 129.9),
  ``PUT /products/{id}/inventory`` ``{"quantity"}``, ``POST /products/{id}/deactivate`` and
  ``/activate``, ``GET /categories``;
- ``POST /lots`` ``{"items": [{"operation": "upsert|price|inventory|deactivate|activate",
  "sku", ...}]}`` -> per-item results, at most ``max_lot_size`` items (413 above);
  ``GET /lots/{id}``;
- ``GET /limits`` (public) -> ``{"requestsPerSecond": <limit or null>, "maxLotSize": <n>}``.

Errors are ``{"errors": [{"code", "field", "message"}]}`` listing every problem found: 400 for
a body that is not a JSON object, 422 for broken rules, 401 for a missing, unknown or expired
token, 429 with ``Retry-After`` over the per-second limit, 5xx for injected failures (503 with
``Retry-After`` while down). An injected failure is drawn before the request is applied: a
failed call, a lot included, applied nothing. A "lost answer" (``lost_answer_rate``, for
writes) is the opposite: the change is applied, then answered 5xx. ``/_sandbox/...`` routes
(not in the OpenAPI) switch the faults and show the counts.

The routes are ``async``: their work is in memory and short, so a hop to the thread pool
would cost more than the work itself.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.sandbox._data import MARKETPLACE_CATEGORIES
from sentoffers.sandbox.marketplace.guard import Clock, Faults, RateLimiter, TokenRefused, Tokens
from sentoffers.sandbox.marketplace.state import MarketplaceRefusal, MarketplaceState
from sentoffers.sandbox.rules import MarketplaceRules, RuleError


@dataclass(slots=True)
class MarketplaceConfig:
    """The marketplace's credentials, limits and rules."""

    client_id: str = "sandbox-connector"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    token_ttl_seconds: float = 3600.0
    rate_limit_per_second: int | None = 20
    failure_rate: float = 0.0
    lost_answer_rate: float = 0.0
    fault_seed: int = 0
    max_lot_size: int = 50
    unique_skus: bool = True
    down_after_seconds: float = 0.0
    down_for_seconds: float = 0.0
    rules: MarketplaceRules = field(default_factory=MarketplaceRules)
    categories: frozenset[str] = MARKETPLACE_CATEGORIES


def _error(status: int, code: str, field_name: str, message: str, **headers: str) -> Exception:
    """One error; header names are given with ``_`` for ``-`` (``Retry_After``)."""
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return MarketplaceRefusal(status, [RuleError(code, field_name, message)], named)


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

LOST_ANSWER_KEY = "sentoffers.sandbox.lost_answer"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(to_json(body), status_code, headers, media_type="application/json")


class Limits(BaseModel):
    """What the marketplace allows a client: requests per second (``null``: no limit) and the
    items of one lot."""

    model_config = ConfigDict(populate_by_name=True)

    requests_per_second: int | None = Field(alias="requestsPerSecond")
    max_lot_size: int = Field(alias="maxLotSize")


class _LostAnswers:
    """Replaces the 2xx answer of a write the guard marked as lost with a 5xx: the change is
    applied, the client is told it failed (an answer lost on the way back)."""

    def __init__(self, app: ASGIApp, on_lost: Callable[[], None]):
        self.app = app
        self.on_lost = on_lost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        replaced = False

        async def answer(message: Message) -> None:
            nonlocal replaced
            lost = scope.get(LOST_ANSWER_KEY)
            if message["type"] == "http.response.start" and lost and message["status"] < 300:
                replaced = True
                self.on_lost()
                error = RuleError("service.transient", "", "a transient failure; try again")
                body = to_json({"errors": [error.as_json()]})
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": lost, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, answer)


class SampleMarketplace:
    """The marketplace: ``app`` to serve, ``state`` to inspect, ``faults`` to switch."""

    def __init__(self, config: MarketplaceConfig | None = None, *, clock: Clock = time.monotonic):
        self.config = config or MarketplaceConfig()
        self.state = MarketplaceState(
            self.config.rules,
            self.config.categories,
            max_lot_size=self.config.max_lot_size,
            unique_skus=self.config.unique_skus,
        )
        self.tokens = Tokens(clock, self.config.token_ttl_seconds)
        self.limiter = RateLimiter(clock, self.config.rate_limit_per_second)
        self.faults = Faults(
            clock,
            failure_rate=self.config.failure_rate,
            lost_answer_rate=self.config.lost_answer_rate,
            seed=self.config.fault_seed,
        )
        if self.config.down_for_seconds > 0:
            self.faults.down_for(self.config.down_for_seconds, after=self.config.down_after_seconds)
        self.app = self._build()

    def limits(self) -> Limits:
        """The limits in force now (the faults switch may change them)."""
        return Limits(
            requests_per_second=self.limiter.per_second or None,
            max_lot_size=self.state.max_lot_size,
        )

    def _endpoint(self, request: Request) -> str:
        route = request.scope.get("route")
        return f"{request.method} {getattr(route, 'path', request.url.path)}"

    def _check_down(self) -> None:
        left = self.faults.down_remaining()
        if left is not None:
            self.state.count_event("refusedWhileDown")
            retry = {"Retry-After": str(max(1, math.ceil(left)))}
            raise _error(503, "service.down", "", "the marketplace is down", **retry)

    def _check_failure(self) -> None:
        status = self.faults.failure()
        if status is not None:
            self.state.count_event("injectedFailures")
            raise _error(status, "service.transient", "", "a transient failure; try again")

    async def guard(self, request: Request) -> str:
        """Count the request, then: down? token? over the limit? failing? -> the client id.

        A write may also be marked to lose its answer (applied, then answered 5xx)."""
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
            self.state.count_event("throttled")
            limit = f"over {self.limiter.per_second} requests per second"
            raise _error(429, "rate_limited", "", limit, Retry_After=str(wait))
        self._check_failure()
        if request.method in WRITE_METHODS:
            lost = self.faults.lost_answer()
            if lost is not None:
                request.scope[LOST_ANSWER_KEY] = lost
        return client_id

    async def read_limits(self, request: Request) -> Limits:
        """``GET /limits``: public; answers 503 while the marketplace is down, like the rest,
        but is never throttled nor failed."""
        self.state.count_request(self._endpoint(request))
        self._check_down()
        return self.limits()

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
        app.add_api_route(
            "/limits",
            self.read_limits,
            methods=["GET"],
            response_model=Limits,
            response_model_by_alias=True,
            tags=["limits"],
            summary="The marketplace's limits",
            description="Requests per second per client (`null`: no limit) and items per lot. "
            "No token needed.",
        )
        app.include_router(self._routes())
        from sentoffers.sandbox.marketplace.control import control_routes

        app.include_router(control_routes(self))

        @app.exception_handler(MarketplaceRefusal)
        async def refused(_request: Request, error: MarketplaceRefusal) -> JSONResponse:
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

        app.add_middleware(_LostAnswers, on_lost=lambda: self.state.count_event("lostAnswers"))
        return app

    def _routes(self) -> APIRouter:
        router = APIRouter(dependencies=[Depends(self.guard)], tags=["products"])
        state = self.state

        @router.get("/categories")
        async def categories() -> Response:
            """The category ids products may be listed in."""
            return _json({"categories": sorted(state.categories)})

        @router.post("/products", status_code=201)
        async def create(body: JsonBody) -> Response:
            """List a product; 422 with every broken rule, 409 if its SKU is listed."""
            product = state.create(body)
            return _json(product.as_json(), 201, {"Location": f"/products/{product.id}"})

        @router.get("/products")
        async def find(sku: str | None = None, offset: int = 0, limit: int = 100) -> Response:
            """The product of a seller SKU (``sku``), or a page of all products."""
            if sku is not None:
                found = state.find_all(sku)
                return _json({"items": [p.as_json() for p in found], "total": len(found)})
            products = state.products()
            page = products[max(0, offset) : max(0, offset) + max(1, min(limit, 1000))]
            return _json({"items": [p.as_json() for p in page], "total": len(products)})

        @router.get("/products/{id}")
        async def get(id: str) -> Response:
            """One product, by the marketplace's id."""
            return _json(state.get(id).as_json())

        @router.put("/products/{id}")
        async def update(id: str, body: JsonBody) -> Response:
            """Replace a product's registration data (the same rules as creating)."""
            return _json(state.update(id, body).as_json())

        @router.put("/products/{id}/price")
        async def price(id: str, body: JsonBody) -> Response:
            """Set ``price`` and, optionally, ``listPrice`` (major units)."""
            return _json(state.set_price(id, body).as_json())

        @router.put("/products/{id}/inventory")
        async def inventory(id: str, body: JsonBody) -> Response:
            """Set the stock ``quantity``."""
            return _json(state.set_inventory(id, body).as_json())

        @router.post("/products/{id}/deactivate")
        async def deactivate(id: str) -> Response:
            """Block a product (status ``inactive``)."""
            return _json(state.set_status(id, False).as_json())

        @router.post("/products/{id}/activate")
        async def activate(id: str) -> Response:
            """Unblock a product (status ``active``)."""
            return _json(state.set_status(id, True).as_json())

        @router.post("/lots")
        async def lot(body: JsonBody) -> Response:
            """Apply up to ``max_lot_size`` operations, each on its own; per-item results."""
            return _json(state.apply_lot(body.get("items")))

        @router.get("/lots/{id}")
        async def get_lot(id: str) -> Response:
            """A processed lot and its results."""
            return _json(state.lot(id))

        return router


def build_marketplace(
    config: MarketplaceConfig | None = None, *, clock: Clock = time.monotonic
) -> SampleMarketplace:
    """The sample marketplace with ``config`` (default: random secret, 20 requests/s)."""
    return SampleMarketplace(config, clock=clock)

"""The VTEX platform endpoints a connector calls, emulated over sandbox catalogs.

Paths, parameters and response shapes are those of vtex-platform-subset.openapi.json; this
app's own OpenAPI lists exactly its paths. Accounts, for loopback use:

- ``http://127.0.0.1:PORT/{account}/api/...``: the account is the first path segment, so
  ``{account}`` in a base URL template (``SENTOFFERS_CATALOG_BASE_URL``) works as it does in
  ``https://{account}.vtexcommercestable.com.br``;
- ``Host: {account}.vtexcommercestable.com.br`` (or ``{account}.localhost``): the first label;
- otherwise the first account served.

The Catalog routes need ``X-VTEX-API-AppKey`` and ``X-VTEX-API-AppToken``: missing or wrong,
401; a key that may not read the account, 403. The simulation is public, as in VTEX.
Errors are ``{"Message": "..."}``. Requests are counted per account, endpoint and status
(``GET /_sandbox/stats``).

The VTEX routes are ``async`` and answer pre-serialized JSON: the work is a few dictionary
lookups, so a hop to the thread pool (and FastAPI's response validation) would cost more than
the answer itself. The control routes stay synchronous: their changes are notified, over HTTP.
"""

from __future__ import annotations

import hmac
import re
import threading
import zlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentoffers.sandbox import vtex_json
from sentoffers.sandbox.catalog import SandboxCatalog
from sentoffers.sandbox.notifications import Broadcaster

ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
RESERVED = frozenset({"api", "arquivos", "_sandbox", "docs", "redoc", "openapi.json"})
ACCOUNT_SCOPE_KEY = "sentoffers.sandbox.account"
CONTROL_PREFIX = "/_sandbox"


@dataclass(frozen=True, slots=True)
class PlatformKey:
    """An app key and token; ``accounts`` ``None`` means every account served."""

    app_key: str
    app_token: str
    accounts: frozenset[str] | None = None


class PlatformError(Exception):
    """An error answer of the platform: ``status`` and ``{"Message": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _AccountRouting:
    """Takes the account from a path prefix or the Host header; leaves VTEX's paths as they are."""

    def __init__(self, app: ASGIApp, accounts: Collection[str], default: str):
        self.app = app
        self.accounts = frozenset(accounts)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = dict(scope)
            first, slash, rest = scope["path"][1:].partition("/")
            account = None
            if slash and first in self.accounts:
                account = first
                scope["path"] = "/" + rest
                scope["raw_path"] = scope["path"].encode()
            else:
                host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
                label, dot, _ = host.partition(".")
                if dot and label.lower() in self.accounts:
                    account = label.lower()
            scope[ACCOUNT_SCOPE_KEY] = account or self.default
        await self.app(scope, receive, send)


def json_response(body: Any, status_code: int = 200) -> Response:
    """``body`` as JSON, serialized once by pydantic-core (several times faster than json)."""
    return Response(to_json(body), status_code=status_code, media_type="application/json")


class RequestCounts:
    """Requests per account and endpoint (``"GET /api/catalog/pvt/product/{productId}"``) and
    per account and status. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._endpoints: Counter[tuple[str, str]] = Counter()
        self._statuses: Counter[tuple[str, int]] = Counter()

    def add(self, account: str, endpoint: str, status: int) -> None:
        with self._lock:
            self._endpoints[account, endpoint] += 1
            self._statuses[account, status] += 1

    def endpoints(self, account: str) -> dict[str, int]:
        """Requests per endpoint of one account, every answer counted."""
        with self._lock:
            found = {e: n for (a, e), n in self._endpoints.items() if a == account}
        return dict(sorted(found.items()))

    def statuses(self, account: str) -> dict[str, int]:
        """Answers per HTTP status of one account."""
        with self._lock:
            found = {str(s): n for (a, s), n in self._statuses.items() if a == account}
        return dict(sorted(found.items()))


class _Counting:
    """Counts each request but the ``/_sandbox`` ones, by its route's template and status."""

    def __init__(self, app: ASGIApp, counts: RequestCounts):
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            route = getattr(scope.get("route"), "path", "(no route)")
            self.counts.add(scope[ACCOUNT_SCOPE_KEY], f"{scope['method']} {route}", status)


class SimulationItemIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | int
    quantity: int = Field(default=1, ge=1)
    seller: str | int = "1"


class SimulationIn(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    items: list[SimulationItemIn]
    country: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    geo_coordinates: list[float] | None = Field(default=None, alias="geoCoordinates")
    allowed_outdated_data: list[str] | None = Field(default=None, alias="allowedOutdatedData")


async def _authorized(request: Request) -> SandboxCatalog:
    platform: VtexPlatform = request.app.state.platform
    return platform.authorize(request)


AuthorizedCatalog = Annotated[SandboxCatalog, Depends(_authorized)]
"""The request's account catalog, once its AppKey/AppToken may read it."""


def _svg(file_id: int, name: str) -> str:
    hue = zlib.crc32(name.encode()) % 360
    label = re.sub(r"[^A-Za-z0-9 -]", "", name.replace("-", " "))[:28]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300" viewBox="0 0 300 300">'
        f'<rect width="300" height="300" fill="hsl({hue},55%,62%)"/>'
        f'<text x="150" y="150" font-family="sans-serif" font-size="16" text-anchor="middle" '
        f'fill="#fff">{label}</text><text x="150" y="180" font-family="sans-serif" '
        f'font-size="12" text-anchor="middle" fill="#fff">#{file_id}</text></svg>'
    )


class VtexPlatform:
    """The emulated platform for one or more accounts; ``app`` is the ASGI app to serve.

    ``broadcasters`` (account -> broadcaster) lets the control routes run an initial load.
    """

    def __init__(
        self,
        catalogs: Mapping[str, SandboxCatalog],
        keys: Sequence[PlatformKey],
        *,
        broadcasters: Mapping[str, Broadcaster] | None = None,
    ):
        if not catalogs:
            raise ValueError("the platform needs at least one account")
        for account in catalogs:
            if not ACCOUNT_NAME.fullmatch(account) or account in RESERVED:
                raise ValueError(f"not a usable account name: {account!r}")
        self.catalogs = dict(catalogs)
        self.keys = {key.app_key: key for key in keys}
        self.broadcasters = dict(broadcasters or {})
        self.requests = RequestCounts()
        self.app = self._build()

    def catalog_for(self, request: Request) -> SandboxCatalog:
        """The catalog of the request's account, without a credentials check."""
        return self.catalogs[request.scope[ACCOUNT_SCOPE_KEY]]

    def authorize(self, request: Request) -> SandboxCatalog:
        """The request's catalog, once its AppKey/AppToken may read the account."""
        app_key = request.headers.get("X-VTEX-API-AppKey")
        app_token = request.headers.get("X-VTEX-API-AppToken")
        if not app_key or not app_token:
            raise PlatformError(401, "X-VTEX-API-AppKey and X-VTEX-API-AppToken are required")
        key = self.keys.get(app_key)
        if key is None or not hmac.compare_digest(key.app_token, app_token):
            raise PlatformError(401, "The app key or token is not valid")
        account = request.scope[ACCOUNT_SCOPE_KEY]
        if key.accounts is not None and account not in key.accounts:
            raise PlatformError(403, f"This app key has no access to the account {account}")
        return self.catalogs[account]

    def _build(self) -> FastAPI:
        app = FastAPI(
            title="VTEX platform (sentoffers sandbox)",
            description="The Catalog and Checkout endpoints a marketplace connector calls.",
            version="sandbox",
        )
        app.state.platform = self
        app.include_router(self._catalog_routes())
        app.include_router(self._checkout_routes())
        from sentoffers.sandbox.platform_control import control_routes

        app.include_router(control_routes(self))

        @app.get("/arquivos/ids/{file_id}/{name}", include_in_schema=False)
        async def image(file_id: int, name: str) -> Response:
            stem = name.rsplit(".", 1)[0]
            return Response(_svg(file_id, stem), media_type="image/svg+xml")

        @app.exception_handler(PlatformError)
        async def vtex_error(_request: Request, error: PlatformError) -> JSONResponse:
            return JSONResponse({"Message": error.message}, status_code=error.status)

        @app.exception_handler(RequestValidationError)
        async def bad_request(_request: Request, error: RequestValidationError) -> JSONResponse:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
                for item in error.errors()
            )
            return JSONResponse({"Message": f"Invalid request: {problems}"}, status_code=400)

        app.add_middleware(_Counting, counts=self.requests)
        app.add_middleware(
            _AccountRouting, accounts=list(self.catalogs), default=next(iter(self.catalogs))
        )
        return app

    def _catalog_routes(self) -> APIRouter:
        router = APIRouter()

        @router.get("/api/catalog_system/pvt/sku/stockkeepingunitbyid/{skuId}", tags=["SKU"])
        async def sku_and_context(
            catalog: AuthorizedCatalog,
            request: Request,
            sku_id: Annotated[int, Path(alias="skuId")],
            _sc: Annotated[int | None, Query(alias="sc")] = None,
        ) -> Response:
            """Get SKU and context. ``sc`` is accepted; ``SalesChannels`` says where it sells."""
            found = catalog.sku_and_product(sku_id)
            if found is None:
                raise PlatformError(404, f"SKU {sku_id} not found")
            sku, product = found
            return json_response(vtex_json.sku_context(sku, product, _image_base(request)))

        @router.get(
            "/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel",
            tags=["Sales channel"],
        )
        async def sku_ids_by_sales_channel(
            catalog: AuthorizedCatalog,
            sc: int,
            page: Annotated[int, Query(ge=1)] = 1,
            page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100000)] = 50,
            only_assigned: Annotated[bool, Query(alias="onlyAssigned")] = True,
        ) -> Response:
            """List all SKUs in a sales channel, one page (1-based) at a time."""
            ids = catalog.sku_ids_in(sc) if only_assigned else catalog.sku_ids()
            start = (page - 1) * page_size
            return json_response(ids[start : start + page_size])

        @router.get("/api/catalog/pvt/product/{productId}", tags=["Product"])
        async def product_by_id(
            catalog: AuthorizedCatalog,
            product_id: Annotated[str, Path(alias="productId")],
        ) -> Response:
            """Get product by ID: ``IsActive`` tells whether it is active."""
            product = catalog.product(int(product_id)) if product_id.isdigit() else None
            if product is None:
                raise PlatformError(404, f"Product {product_id} not found")
            return json_response(vtex_json.product_json(product))

        @router.get("/api/catalog_system/pvt/products/productget/{productId}", tags=["Product"])
        async def product_and_trade_policies(
            catalog: AuthorizedCatalog,
            product_id: Annotated[int, Path(alias="productId")],
        ) -> Response:
            """Get product and its general context, with ``ListStoreId`` (its trade policies)."""
            product = catalog.product(product_id)
            if product is None:
                raise PlatformError(404, f"Product {product_id} not found")
            skus = catalog.skus_of(product_id)
            return json_response(vtex_json.productget_json(product, skus))

        return router

    def _checkout_routes(self) -> APIRouter:
        router = APIRouter()

        @router.post("/api/checkout/pub/orderForms/simulation", tags=["Fulfillment"])
        async def simulate(
            request: Request,
            body: SimulationIn,
            _rnb_behavior: Annotated[int | None, Query(alias="RnbBehavior")] = None,
            sc: int | None = None,
            _individual_shipping_estimates: Annotated[
                bool | None, Query(alias="individualShippingEstimates")
            ] = None,
        ) -> Response:
            """Fulfillment simulation: price, list and selling price, availability, stock.

            Many items may be asked at once; those the trade policy does not sell are left
            out of ``items`` with a message, as VTEX does."""
            catalog = self.catalog_for(request)
            lines = [
                vtex_json.SimulationLine(str(item.id).strip(), item.quantity, str(item.seller))
                for item in body.items
            ]
            return json_response(
                vtex_json.simulation(
                    catalog,
                    lines,
                    sales_channel=sc if sc is not None else 1,
                    country=body.country,
                    postal_code=body.postal_code,
                    geo_coordinates=body.geo_coordinates,
                )
            )

        return router


def _image_base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def build_platform(
    catalogs: SandboxCatalog | Mapping[str, SandboxCatalog],
    app_key: str,
    app_token: str,
    *,
    broadcasters: Mapping[str, Broadcaster] | None = None,
) -> VtexPlatform:
    """A platform serving one catalog (or several, by account) with one key for all of them."""
    if isinstance(catalogs, SandboxCatalog):
        catalogs = {catalogs.account: catalogs}
    return VtexPlatform(catalogs, [PlatformKey(app_key, app_token)], broadcasters=broadcasters)
